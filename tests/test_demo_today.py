"""``make run`` on any date: ``events demo`` (run as ``make run`` runs it) prints a scanner
link and today's tickets, and the ticket scans green today on the gate phone."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from playwright.async_api import Page, expect

from events.cli import main
from events.config import Settings, get_settings
from events.db.engine import Database
from tests.browser import LiveServer
from tests.conftest import Client, make_settings

SECRET = "a-fixed-signing-key-for-the-demo-test-0123456789"
EVENTS = Path(sys.executable).with_name("events")


@pytest.fixture
def settings(pg_url: str) -> Settings:
    return make_settings(pg_url, secret_key=SECRET)


def run_demo(pg_url: str, port: int) -> str:
    """``make demo``: ``EVENTS_ENV=dev EVENTS_SECRET_KEY=... events demo``."""
    env = {
        **os.environ,
        "EVENTS_ENV": "dev",
        "EVENTS_SECRET_KEY": SECRET,
        "EVENTS_DATABASE_URL": pg_url,
        "EVENTS_PORT": str(port),
    }
    env.pop("EVENTS_PUBLIC_BASE_URL", None)
    done = subprocess.run(
        [str(EVENTS), "demo"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def links_in(output: str, port: int) -> tuple[str, str]:
    scanner = re.search(rf"http://127\.0\.0\.1:{port}/scan#token=\S+", output)
    tickets = re.search(rf"http://127\.0\.0\.1:{port}/orders/\S+", output)
    assert scanner, output
    assert tickets, output
    return scanner.group(0), tickets.group(0)


@pytest.mark.browser
async def test_the_demo_loaded_today_gives_a_ticket_that_scans_green_today(
    pg_url: str, db: Database, client: Client, live_server: LiveServer, page: Page
) -> None:
    output = run_demo(pg_url, 19100)
    assert "Rehearsal day" in output
    assert "organiser / organiser-demo-2027" in output
    scanner_link, tickets_link = links_in(output, 19100)

    # A second run (the next make run) finds it all and prints the same links.
    again = run_demo(pg_url, 19100)
    assert "already there" in again
    assert links_in(again, 19100) == (scanner_link, tickets_link)

    # The ticket link opens today's tickets; the scanner link sets up the gate phone.
    order = urlsplit(tickets_link)
    token = parse_qs(order.query)["access_token"][0]
    answer = await client.get(f"/api/v1{order.path}", params={"access_token": token})
    assert answer.status_code == 200, answer.text
    tickets = answer.json()["tickets"]
    assert answer.json()["status"] == "paid"
    assert len(tickets) == 3

    await page.goto(f"{live_server.url}{order.path}?{order.query}")
    await expect(page.get_by_test_id("ticket")).to_have_count(3)

    scanner = urlsplit(scanner_link)
    await page.goto(f"{live_server.url}{scanner.path}#{scanner.fragment}")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-keys", "ready")
    result = page.get_by_test_id("answer")
    await page.keyboard.type(tickets[0]["token"])
    await page.keyboard.press("Enter")
    await expect(result).to_have_attribute("data-status", "ok")
    await expect(result).to_have_attribute("data-offline", "false")
    await expect(page.get_by_test_id("answer-zh")).to_have_text("请通行")


def test_the_demo_refuses_production_without_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.setenv("EVENTS_ENV", "production")
    monkeypatch.setenv("EVENTS_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "--allow-production" in result.output
    assert "demo-2027" not in result.output


def test_demo_passwords_are_published_only_in_dev_and_test(pg_url: str) -> None:
    from events.demo import demo_password

    assert demo_password(make_settings(pg_url), "gate") == "gate-demo-2027"
    production = make_settings(pg_url).model_copy(update={"env": "production"})
    first, second = demo_password(production, "gate"), demo_password(production, "gate")
    assert first != second
    assert "demo-2027" not in first
    assert len(first) >= 16
