"""The `events` command: migrations, users and the demo on a fresh SQLite file.

These tests are synchronous, as the command is: it runs its own event loop.
"""

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlmodel import select

from events.access.models import User
from events.access.security import verify_password
from events.cli import main
from events.config import get_settings
from events.db.engine import Database
from events.demo import DEMO_FESTIVAL
from events.festivals.models import Festival, FestivalDay, Gate


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("EVENTS_DATABASE_URL", url)
    monkeypatch.setenv("EVENTS_ENV", "dev")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _rows(url: str, model: type) -> list[object]:
    database = Database(url)
    try:
        async with database.session_factory() as session:
            return list((await session.exec(select(model))).all())
    finally:
        await database.dispose()


def test_db_upgrade_then_users_create(cli_env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        main, ["users", "create", "drolma", "--role", "official", "--password", "s3cret-password"]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        main, ["users", "create", "drolma", "--role", "official", "--password", "s3cret-password"]
    )
    assert again.exit_code != 0
    assert "already taken" in again.output


def test_users_create_prompts_for_a_hidden_password(cli_env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        main,
        ["users", "create", "pema", "--role", "gate"],
        input="long-password-1\nlong-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "long-password-1" not in result.output
    users = asyncio.run(_rows(cli_env, User))
    assert len(users) == 1
    user = users[0]
    assert isinstance(user, User)
    assert verify_password(user.password_hash, "long-password-1")


def test_demo_loads_once_and_a_second_run_changes_nothing(cli_env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "organiser / organiser-demo-2027" in first.output
    models = (Festival, FestivalDay, Gate, User)
    counts = [len(asyncio.run(_rows(cli_env, m))) for m in models]
    # Seven festival days, and the rehearsal day dated today (unless today is one of them).
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    planned = {d.date for m in DEMO_FESTIVAL.meetings for d in m.days}
    assert today in {d.date for d in asyncio.run(_rows(cli_env, FestivalDay))}  # type: ignore[attr-defined]
    assert counts == [1, 7 if today in planned else 8, 3, 4]
    second = runner.invoke(main, ["demo"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert [len(asyncio.run(_rows(cli_env, m))) for m in models] == counts


def test_serve_refuses_to_start_in_production_without_a_secret(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTS_ENV", "production")
    monkeypatch.delenv("EVENTS_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code != 0
    assert "EVENTS_SECRET_KEY is required" in result.output
