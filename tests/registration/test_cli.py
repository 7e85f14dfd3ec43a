"""`events entries import FILE --festival ID_OR_SLUG [--dry-run]` on a fresh SQLite file."""

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import select

from events.cli import main
from events.config import get_settings
from events.db import migrate
from events.db.engine import Database
from events.demo import DEMO_FESTIVAL
from events.festivals.services import FestivalService
from events.registration import schemas
from events.registration.models import Entry
from events.registration.races import RaceService
from tests.registration.test_import import ZH_HEADER, to_csv, zh_row


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("EVENTS_DATABASE_URL", url)
    monkeypatch.setenv("EVENTS_ENV", "dev")
    get_settings.cache_clear()
    migrate.upgrade(url)
    asyncio.run(_festival_with_a_race(url))
    yield url
    get_settings.cache_clear()


async def _festival_with_a_race(url: str) -> None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            festival = await FestivalService(session).create(DEMO_FESTIVAL)
            day = (await FestivalService(session).days(festival.id))[0]
            now = dt.datetime.now(dt.UTC)
            await RaceService(session).create(
                str(festival.id),
                schemas.RaceIn(
                    day_id=str(day.id),
                    code="long",
                    name_zh="马长跑",
                    name_en="Long race",
                    distance_m=10_000,
                    field_size=50,
                    entries_open_at=now - dt.timedelta(days=1),
                    entries_close_at=now + dt.timedelta(days=30),
                    registration_fee=10_000,
                    start_fee=20_000,
                ),
            )
    finally:
        await database.dispose()


async def _entries(url: str) -> int:
    database = Database(url)
    try:
        async with database.session_factory() as session:
            return int((await session.exec(select(func.count()).select_from(Entry))).one())
    finally:
        await database.dispose()


def test_entries_import_checks_then_stores_a_delegations_file(
    sqlite_env: str, tmp_path: Path
) -> None:
    file = tmp_path / "delegation.csv"
    file.write_bytes(to_csv(ZH_HEADER, [zh_row(i, "long") for i in range(12)]))
    runner = CliRunner()

    dry = runner.invoke(
        main, ["entries", "import", str(file), "--festival", DEMO_FESTIVAL.slug, "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "Would import 12 entries from 12 rows" in dry.output
    assert asyncio.run(_entries(sqlite_env)) == 0

    done = runner.invoke(main, ["entries", "import", str(file), "--festival", DEMO_FESTIVAL.slug])
    assert done.exit_code == 0, done.output
    assert "Imported 12 entries" in done.output
    assert "rows/s" in done.output
    assert asyncio.run(_entries(sqlite_env)) == 12


def test_entries_import_names_the_bad_row_and_stores_nothing(
    sqlite_env: str, tmp_path: Path
) -> None:
    lines = [zh_row(i, "long") for i in range(3)]
    lines[1] = zh_row(1, "long", 芯片号="12345678901234")
    file = tmp_path / "bad.csv"
    file.write_bytes(to_csv(ZH_HEADER, lines))

    result = CliRunner().invoke(
        main, ["entries", "import", str(file), "--festival", DEMO_FESTIVAL.slug]
    )

    assert result.exit_code != 0
    assert "row 3, microchip: A microchip number is exactly 15 digits." in result.output
    assert asyncio.run(_entries(sqlite_env)) == 0
    unknown = CliRunner().invoke(main, ["entries", "import", str(file), "--festival", "nope"])
    assert unknown.exit_code != 0
    assert "No festival" in unknown.output
