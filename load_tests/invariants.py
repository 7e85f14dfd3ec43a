"""What must hold after a festival day, read from the database (and the clients' record).

Each check returns the violations it found (empty: it holds). `check` runs them all:

- sold ≤ capacity: no quota has more taken than its size, and the valid tickets of each
  type do not exceed the quotas that cover it alone;
- each ticket admitted at most once per enclosure and day (the scan log's `ok` entries);
- attendance equals the admissions in the scan log (`checkin_presence` rows, and their
  entry counts, against the `ok` entry scans);
- every succeeded payment has exactly its tickets (a ticket order: paid, one valid ticket
  per unit ordered) or its entry (an entry fee: the entry has that amount paid);
- nothing acknowledged to a client is missing: every order a client saw paid is paid with
  its tickets, every admission a gate showed is in the scan log as `ok`.
"""

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg


@dataclass
class Report:
    violations: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())


def _rows(rows: list[asyncpg.Record], limit: int = 5) -> list[str]:
    return [", ".join(f"{k}={v}" for k, v in row.items()) for row in rows[:limit]] + (
        [f"... {len(rows) - limit} more"] if len(rows) > limit else []
    )


async def _capacity(conn: asyncpg.Connection) -> list[str]:
    over = await conn.fetch(
        "SELECT q.id, q.size, q.sold, q.held FROM ticket_quota q WHERE q.sold + q.held > q.size"
        " OR q.sold <> (SELECT count(*) FROM ticket t WHERE t.ticket_type_id = q.ticket_type_id"
        "               AND t.status = 'valid' AND q.ticket_type_id IS NOT NULL"
        "               AND q.enclosure_id IS NULL AND q.day_id IS NULL)"
        "   AND q.ticket_type_id IS NOT NULL AND q.enclosure_id IS NULL AND q.day_id IS NULL"
    )
    return _rows(over)


async def _once_per_enclosure_day(conn: asyncpg.Connection) -> list[str]:
    twice = await conn.fetch(
        "SELECT s.ticket_id, s.enclosure_id, (s.server_time AT TIME ZONE f.timezone)::date"
        " AS day, count(*) AS admissions"
        " FROM checkin_scan s JOIN festival f ON f.id = s.festival_id"
        " LEFT JOIN enclosure e ON e.id = s.enclosure_id"
        " WHERE s.result = 'ok' AND s.kind = 'entry' AND NOT coalesce(e.allow_reentry, false)"
        " GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    return _rows(twice)


async def _attendance(conn: asyncpg.Connection) -> tuple[list[str], int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM checkin_presence) AS present,"
        " (SELECT coalesce(sum(entries), 0) FROM checkin_presence) AS entries,"
        " (SELECT count(*) FROM checkin_scan WHERE result = 'ok' AND kind = 'entry'"
        "  AND NOT conflict) AS admissions,"
        " (SELECT count(DISTINCT (ticket_id, enclosure_id)) FROM checkin_scan"
        "  WHERE result = 'ok' AND kind = 'entry') AS admitted"
    )
    assert row is not None
    problems = []
    if row["entries"] != row["admissions"]:
        problems.append(f"presence entries {row['entries']} != ok entry scans {row['admissions']}")
    if row["present"] != row["admitted"]:
        problems.append(
            f"presence rows {row['present']} != tickets admitted in the scan log {row['admitted']}"
        )
    return problems, int(row["admitted"])


async def _payments(conn: asyncpg.Connection) -> list[str]:
    orders = await conn.fetch(
        "SELECT p.id AS payment_id, o.id AS order_id, o.status,"
        " (SELECT coalesce(sum(l.quantity), 0) FROM ticket_order_line l"
        "  WHERE l.order_id = o.id) AS ordered,"
        " (SELECT count(*) FROM ticket t WHERE t.order_id = o.id AND t.status = 'valid')"
        "  AS tickets"
        " FROM payment p JOIN ticket_order o ON o.id = p.reference_id"
        " WHERE p.purpose = 'ticket_order' AND p.status = 'succeeded'"
        " AND (o.status <> 'paid' OR (SELECT coalesce(sum(l.quantity), 0)"
        "      FROM ticket_order_line l WHERE l.order_id = o.id)"
        "   <> (SELECT count(*) FROM ticket t WHERE t.order_id = o.id AND t.status = 'valid'))"
    )
    missing = await conn.fetch(
        "SELECT p.id FROM payment p WHERE p.purpose = 'ticket_order' AND p.status = 'succeeded'"
        " AND NOT EXISTS (SELECT 1 FROM ticket_order o WHERE o.id = p.reference_id)"
    )
    entries = await conn.fetch(
        "SELECT p.id AS payment_id, e.id AS entry_id, p.amount, e.amount_paid"
        " FROM payment p LEFT JOIN entry e ON e.id = p.reference_id"
        " WHERE p.purpose = 'entry_fee' AND p.status = 'succeeded'"
        " AND (e.id IS NULL OR e.amount_paid < p.amount)"
    )
    return _rows(orders) + _rows(missing) + _rows(entries)


async def _acknowledged(conn: asyncpg.Connection, acks: list[dict[str, object]]) -> list[str]:
    orders = [a for a in acks if a["kind"] == "order"]
    nonces = [str(a["nonce"]) for a in acks if a["kind"] == "scan"]
    problems = []
    if orders:
        found = {
            str(r["id"]): (r["status"], r["tickets"])
            for r in await conn.fetch(
                "SELECT o.id, o.status, (SELECT count(*) FROM ticket t WHERE t.order_id = o.id"
                " AND t.status = 'valid') AS tickets FROM ticket_order o WHERE o.id = "
                "ANY($1::uuid[])",
                [str(a["order_id"]) for a in orders],
            )
        }
        for ack in orders:
            got = found.get(str(ack["order_id"]))
            if got != ("paid", ack["tickets"]):
                problems.append(
                    f"order {ack['order_id']} acknowledged paid with "
                    f"{ack['tickets']} tickets, stored {got}"
                )
    if nonces:
        stored = {
            r["nonce"]
            for r in await conn.fetch(
                "SELECT nonce FROM checkin_scan WHERE result = 'ok' AND nonce = ANY($1::text[])",
                nonces,
            )
        }
        problems += [
            f"admission {n} acknowledged, not in the scan log as ok"
            for n in nonces
            if n not in stored
        ]
    return problems[:5] + ([f"... {len(problems) - 5} more"] if len(problems) > 5 else [])


def read_acks(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def check_async(dsn: str, acks: list[dict[str, object]]) -> Report:
    conn = await asyncpg.connect(dsn)
    try:
        report = Report()
        report.violations["sold ≤ capacity"] = await _capacity(conn)
        report.violations["admitted once per enclosure and day"] = await _once_per_enclosure_day(
            conn
        )
        attendance, admitted = await _attendance(conn)
        report.violations["attendance = admissions in the scan log"] = attendance
        report.violations["every paid payment has its tickets or entry"] = await _payments(conn)
        report.violations["nothing acknowledged is missing"] = await _acknowledged(conn, acks)
        sold = await conn.fetchval("SELECT count(*) FROM ticket WHERE status = 'valid'")
        report.figures = {
            "admitted": admitted,
            "tickets_valid": int(sold),
            "acknowledged": len(acks),
        }
        return report
    finally:
        await conn.close()


def check(dsn: str, ack_file: Path) -> Report:
    return asyncio.run(check_async(dsn, read_acks(ack_file)))


# --- after a crash (load_tests/crash.py): stored exactly once, nothing half-stored -------


async def check_exactly_once(
    dsn: str, answers: dict[str, dict[str, object]], webhook_events: list[str]
) -> dict[str, list[str]]:
    """``answers``: every scan nonce a gate got an answer for, with that answer;
    ``webhook_events``: every Stripe event id answered 200.

    - each answered scan is in the scan log once, with the answer the gate was given;
    - each acknowledged webhook event is recorded once, and each payment reached
      ``succeeded`` at most once;
    - nothing is half-stored: no order has some but not all of its tickets, no unpaid
      order has a valid ticket, no paid order lacks its succeeded payment, no scan row is
      undecided."""
    conn = await asyncpg.connect(dsn)
    try:
        found: dict[str, list[asyncpg.Record]] = {}
        for row in await conn.fetch(
            "SELECT nonce, result, reason FROM checkin_scan WHERE nonce = ANY($1::text[])",
            list(answers),
        ):
            found.setdefault(row["nonce"], []).append(row)
        scans = []
        for nonce, answer in answers.items():
            rows = found.get(nonce, [])
            expected = ("ok", None) if answer["status"] == "ok" else ("error", answer["reason"])
            if [(r["result"], r["reason"]) for r in rows] != [expected]:
                scans.append(
                    f"scan {nonce} answered {expected}, stored "
                    f"{[(r['result'], r['reason']) for r in rows]}"
                )
        events = await conn.fetch(
            "SELECT e.event_id, count(x.id) AS stored FROM unnest($1::text[]) AS e(event_id)"
            " LEFT JOIN payment_provider_event x ON x.event_id = e.event_id"
            " AND x.provider = 'stripe' GROUP BY 1 HAVING count(x.id) <> 1",
            webhook_events,
        )
        twice = await conn.fetch(
            "SELECT payment_id, count(*) AS moves FROM payment_status_change"
            " WHERE to_status = 'succeeded' GROUP BY 1 HAVING count(*) > 1"
        )
        partial = await conn.fetch(
            "SELECT o.id, o.status, (SELECT count(*) FROM ticket t WHERE t.order_id = o.id)"
            " AS tickets, (SELECT coalesce(sum(l.quantity), 0) FROM ticket_order_line l"
            " WHERE l.order_id = o.id) AS ordered FROM ticket_order o"
            " WHERE (SELECT count(*) FROM ticket t WHERE t.order_id = o.id) NOT IN"
            " (0, (SELECT coalesce(sum(l.quantity), 0) FROM ticket_order_line l"
            "      WHERE l.order_id = o.id))"
        )
        unpaid = await conn.fetch(
            "SELECT o.id, o.status FROM ticket_order o WHERE o.status <> 'paid' AND EXISTS"
            " (SELECT 1 FROM ticket t WHERE t.order_id = o.id AND t.status = 'valid')"
        )
        unfunded = await conn.fetch(
            "SELECT o.id FROM ticket_order o WHERE o.status = 'paid' AND o.total > 0"
            " AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.reference_id = o.id"
            " AND p.status = 'succeeded')"
        )
        undecided = await conn.fetch(
            "SELECT id, nonce FROM checkin_scan WHERE result IS NULL"
            " OR result NOT IN ('ok', 'error') OR (result = 'error' AND reason IS NULL)"
        )
        return {
            "each answered scan stored once, as answered": scans[:5]
            + ([f"... {len(scans) - 5} more"] if len(scans) > 5 else []),
            "each acknowledged webhook stored once": _rows(events) + _rows(twice),
            "nothing half-stored": (
                _rows(partial) + _rows(unpaid) + _rows(unfunded) + _rows(undecided)
            ),
        }
    finally:
        await conn.close()
