"""The same table of gate scans (scan_cases.json) on PostgreSQL, on SQLite and in the
scanner's offline JavaScript decision: the three cannot drift apart."""

from pathlib import Path

import pytest

from tests.checkin.scan_table import CASES, expected, make_world, run_offline_js, run_on_server
from tests.conftest import Client


async def test_the_scan_table_on_postgresql(
    client: Client, organiser: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(client, organiser)
    assert await run_on_server(world, monkeypatch) == expected(CASES["cases"])


@pytest.mark.sqlite
async def test_the_scan_table_on_sqlite(
    sqlite_client: Client, sqlite_organiser: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(sqlite_client, sqlite_organiser)
    assert await run_on_server(world, monkeypatch) == expected(CASES["cases"])


async def test_the_scan_table_in_the_offline_javascript(
    client: Client, organiser: dict[str, str], tmp_path: Path
) -> None:
    world = await make_world(client, organiser)
    shared, offline_only = await run_offline_js(world, tmp_path)
    assert shared == expected(CASES["cases"])
    assert offline_only == expected(CASES["offline_only"])
