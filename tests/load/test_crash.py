"""CI version of `make crash`: a short burst of scans, orders and signed Stripe webhooks
against a real 2-worker server, a worker and then the whole server killed with SIGKILL
and started again; every acknowledged write stored exactly once, nothing half-stored.
No timing is asserted: only what the database holds against what the clients were told.
"""

import asyncio
from pathlib import Path

import asyncpg
import pytest
from load_tests.crash import run_crash
from load_tests.invariants import check_async, check_exactly_once
from load_tests.server import asyncpg_dsn
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    database = f"{make_url(PG_URL).database}_crash"
    result = run_crash(
        database=database, seconds=4, scanners=4, buyers=3, tickets=300, out=tmp_path
    )
    assert len(result.kills) == 2
    assert result.report.violations, "no check ran"
    assert result.report.ok, result.report.violations
    burst = result.burst
    assert any(a["kind"] == "scan" for a in burst.acks), "no admission was acknowledged"
    assert burst.events, "no webhook was acknowledged"
    assert any(a["status"] != "ok" for a in burst.answers.values()), "no refusal was stored"
    _the_checks_see_a_lost_or_doubled_write(asyncpg_dsn(database), burst)


def _the_checks_see_a_lost_or_doubled_write(dsn: str, burst: object) -> None:
    """Not vacuous: lose an acknowledged admission and an acknowledged webhook, half-store
    an order; each check reports it."""
    from load_tests.crash import Burst

    assert isinstance(burst, Burst)
    admitted = next(a["nonce"] for a in burst.acks if a["kind"] == "scan")
    event_id = burst.events[0]

    async def tamper() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "UPDATE checkin_scan SET result = 'error', reason = 'invalid' WHERE nonce = $1",
                admitted,
            )
            await conn.execute("DELETE FROM payment_provider_event WHERE event_id = $1", event_id)
            await conn.execute(
                "DELETE FROM ticket WHERE id = (SELECT t.id FROM ticket t JOIN ticket_order o"
                " ON o.id = t.order_id WHERE o.status = 'paid' AND (SELECT count(*)"
                " FROM ticket u WHERE u.order_id = o.id) > 1 LIMIT 1)"
            )
        finally:
            await conn.close()

    asyncio.run(tamper())
    crash = asyncio.run(check_exactly_once(dsn, burst.answers, burst.events))
    assert crash["each answered scan stored once, as answered"]
    assert crash["nothing half-stored"]
    assert crash["each acknowledged webhook stored once"]
    report = asyncio.run(check_async(dsn, burst.acks))
    assert report.violations["nothing acknowledged is missing"]
