"""The demo's tickets (idempotent, a day's capacity ≥ 12,000) and the ticketing commands."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from events.cli import main
from events.config import get_settings
from events.db.engine import Database
from events.festivals.models import Festival
from events.ticketing.demo import demo_tickets
from tests.conftest import Client


async def test_the_demo_puts_seven_days_of_tickets_on_sale_once(
    client: Client, festival: dict[str, Any], db: Database
) -> None:
    # The demo festival has 7 days; the test festival 3: the step works on any.
    for _ in range(2):
        async with db.transaction() as session:
            loaded = await session.get(Festival, uuid.UUID(festival["id"]))
            assert loaded is not None
            report = await demo_tickets(session, loaded)
    assert report == ["Tickets: already loaded."]
    listed = (await client.get(f"/api/v1/festivals/{festival['id']}/ticket-types")).json()
    codes = {t["code"]: t for t in listed["items"]}
    assert len(codes) == 3 * 4 + 1
    day = festival["meetings"][0]["days"][0]["date"]
    assert codes[f"ground-{day}"]["remaining"] >= 12_000
    assert codes[f"stand-{day}"]["remaining"] == 3_000
    assert codes[f"vip-{day}"]["remaining"] == 200
    assert codes[f"child-{day}"]["price"] == 0
    assert codes["festival-pass"]["kind"] == "pass"
    assert len(codes["festival-pass"]["days"]) == 3
    order = await client.post(
        f"/api/v1/festivals/{festival['id']}/orders",
        json={
            "email": "a@example.com",
            "items": [{"ticket_type_id": codes["festival-pass"]["id"], "quantity": 2}],
        },
    )
    assert order.status_code == 201


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("EVENTS_DATABASE_URL", url)
    monkeypatch.setenv("EVENTS_ENV", "dev")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_sweep_and_mail_commands(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    swept = runner.invoke(main, ["tickets", "sweep"])
    assert swept.exit_code == 0, swept.output
    assert "0 unpaid orders expired" in swept.output
    off = runner.invoke(main, ["mail", "send"])
    assert off.exit_code != 0
    assert "EVENTS_SMTP_HOST" in off.output
    monkeypatch.setenv("EVENTS_SMTP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    nothing = runner.invoke(main, ["mail", "send"])
    assert nothing.exit_code == 0, nothing.output
    assert "Sent 0 of 0" in nothing.output
