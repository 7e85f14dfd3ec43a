"""CI smoke of `make load`: the festival day in locust, short, with every invariant checked.

A real server (2 workers, PostgreSQL, Redis for the live feed) on a database of its own
(the test database's name + ``_day``), the day compressed into about 15 seconds at a
quarter of the crowd. Errors are held to a generous ratio (a busy 2-core machine); latency
is not judged here (no timing assertions): `make load` does that.
"""

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from load_tests.invariants import check_async, read_acks
from load_tests.run import run_day
from load_tests.server import asyncpg_dsn
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_short_festival_day_keeps_every_invariant(tmp_path: Path) -> None:
    database = f"{make_url(PG_URL).database}_day"
    result = run_day(
        database=database,
        visitors=600,
        workers=2,
        out=tmp_path,
        env={
            "LOAD_SPEEDUP": "1200",
            "LOAD_MAX_SECONDS": "15",
            "LOAD_USER_SCALE": "0.25",
            "LOAD_GATES": "4",
            "LOAD_MAX_FAIL_RATIO": "0.05",
            "LOAD_P95_MS": "0",
            "LOAD_P99_MS": "0",
        },
    )
    assert result.report.violations, "no invariant was checked"
    assert result.report.ok, result.report.violations
    assert result.locust_exit == 0, result.summary
    assert result.summary["sold"] > 0, result.summary
    assert result.summary["admitted"] > 0, result.summary
    assert result.summary["results_delivered"] > 0, result.summary
    assert result.report.figures["admitted"] >= result.summary["admitted"]
    assert (tmp_path / "day.html").exists()
    assert (tmp_path / "day_stats.csv").exists()
    assert result.report.figures["acknowledged"] > 0
    _each_invariant_catches_its_violation(asyncpg_dsn(database), tmp_path / "acks.jsonl")


def _each_invariant_catches_its_violation(dsn: str, ack_file: Path) -> None:
    """The checks are not vacuous: break the day's data and each one says so."""

    async def tamper() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            columns = [
                r["column_name"]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'checkin_scan' AND column_name NOT IN ('id', 'nonce')"
                )
            ]
            listed = ", ".join(columns)
            await conn.execute(  # a second admission of one ticket, behind the presence row
                f"INSERT INTO checkin_scan ({listed}, nonce) SELECT {listed}, 'tampered'"
                " FROM checkin_scan WHERE result = 'ok' AND kind = 'entry' LIMIT 1"
            )
            # A paid order loses a ticket of a type its own quota counts (so that quota's
            # count and the valid tickets disagree too).
            await conn.execute(
                "UPDATE ticket SET status = 'canceled' WHERE id = (SELECT t.id FROM ticket t"
                " JOIN ticket_order o ON o.id = t.order_id"
                " JOIN ticket_quota q ON q.ticket_type_id = t.ticket_type_id"
                " AND q.enclosure_id IS NULL AND q.day_id IS NULL"
                " WHERE o.status = 'paid' AND t.status = 'valid' LIMIT 1)"
            )
        finally:
            await conn.close()

    asyncio.run(tamper())
    acks = [
        *read_acks(ack_file),
        {"kind": "scan", "nonce": "never-stored"},
        {"kind": "order", "order_id": str(uuid.uuid4()), "tickets": 1},
    ]
    report = asyncio.run(check_async(dsn, acks))
    broken = {name for name, problems in report.violations.items() if problems}
    assert broken == set(report.violations), report.violations
