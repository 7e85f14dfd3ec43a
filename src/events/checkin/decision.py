"""The check-in decision, taken in the database in one statement.

Order (docs/checkin.md): the token is genuine and its ticket found → not cancelled (nor
refunded) → not revoked (nor an old serial) → valid today (entries only: an exit after
midnight is not refused) → admitted by a list behind this gate → not already inside that
list today. Tickets exist only for paid orders, so ``unpaid`` cannot arise. The scanner's
offline decision (``static/checkin-decision.js``) takes the same steps, and
``tests/checkin/scan_cases.json`` runs the same cases through all three.

On PostgreSQL one statement (data-modifying CTEs) does everything: it checks the device
is not revoked, finds a retried nonce, decides, inserts the presence row that makes the
entry single-use (``ON CONFLICT`` on its primary key: of 50 concurrent scans exactly one
inserts), and writes the scan log, all atomically. On SQLite the same decision runs as a
few statements inside one write transaction (SQLite has one writer at a time).

The statement is check-in's (it decides check-in's rule) and writes only check-in's
tables (``checkin_scan``, ``checkin_presence``); it reads, never writes, ticketing's
``ticket``, ``ticket_day``, ``ticket_revocation``, ``enclosure`` and ``enclosure_gate``
and access's ``device`` (docs/DEVELOPING.md, "Boundaries": a hot path that decides in
one round trip).
"""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
import sqlalchemy as sa

from events.checkin.models import PRESENCE, SCAN
from events.db.base import UTCDateTime
from events.db.engine import Database
from events.db.fast import Statement, fetch, fetchrow
from events.db.upsert import insert

# Verdicts before the presence check; "go" means the ticket may pass this gate now.
GO = "go"
REPLAY = "replay"
DEVICE_REVOKED = "device_revoked"


@dataclass(frozen=True, slots=True)
class ScanInput:
    festival_id: uuid.UUID
    device_id: uuid.UUID
    gate_id: uuid.UUID
    nonce: str
    kind: str
    ticket_id: uuid.UUID
    serial: int
    today: dt.date
    at: dt.datetime
    """When the scan happened: now, or an offline scan's own time."""
    now: dt.datetime
    """When the server recorded it."""
    client_time: dt.datetime | None
    offline: bool


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What the database decided, or the stored answer of a retried nonce."""

    verdict: str
    result: str | None
    reason: str | None
    enclosure_id: uuid.UUID | None
    first_entry_at: dt.datetime | None
    first_entry_gate_id: uuid.UUID | None
    logged: bool
    """False when a concurrent retry of the same nonce logged first: read its answer."""
    conflict: bool = False


_UUID = sa.Uuid()
_TIME = UTCDateTime()

SCAN_PG = Statement("""
WITH
i AS (
  SELECT * FROM unnest(
    CAST(:idx AS int[]), CAST(:device AS uuid[]), CAST(:nonce AS text[]),
    CAST(:ticket AS uuid[]), CAST(:festival AS uuid[]), CAST(:serial AS int[]),
    CAST(:today AS date[]), CAST(:gate AS uuid[]), CAST(:at AS timestamptz[]),
    CAST(:now AS timestamptz[]), CAST(:kind AS text[]), CAST(:offline AS boolean[]),
    CAST(:client_time AS timestamptz[]))
    AS i (idx, s_device, s_nonce, s_ticket, s_festival, s_serial, s_today, s_gate, s_at,
          s_now, s_kind, s_offline, s_client_time)
),
facts AS (
  SELECT i.*, (SELECT revoked_at IS NULL FROM device WHERE id = i.s_device) AS device_ok,
         p.result AS prior_result, p.reason AS prior_reason, p.enclosure_id AS prior_enclosure,
         p.first_entry_at AS prior_first_entry_at,
         p.first_entry_gate_id AS prior_first_entry_gate_id, p.conflict AS prior_conflict,
         t.id AS ticket_id, t.status, t.serial,
         EXISTS (SELECT 1 FROM ticket_revocation r
                 WHERE r.ticket_id = t.id AND r.serial = i.s_serial) AS revoked,
         EXISTS (SELECT 1 FROM ticket_day d
                 WHERE d.ticket_id = t.id AND d.date = i.s_today) AS today_ok,
         l.id AS list_id, pr.first_entry_at AS seen_at, pr.first_gate_id AS seen_gate
  FROM i
  LEFT JOIN checkin_scan p ON p.device_id = i.s_device AND p.nonce = i.s_nonce
  LEFT JOIN ticket t ON t.id = i.s_ticket AND t.festival_id = i.s_festival
  LEFT JOIN LATERAL (
    SELECT e.id FROM enclosure own JOIN enclosure e ON e.id = own.id OR e.id = own.parent_id
    WHERE own.id = t.enclosure_id
      AND (NOT EXISTS (SELECT 1 FROM enclosure_gate g WHERE g.enclosure_id = e.id)
           OR EXISTS (SELECT 1 FROM enclosure_gate g
                      WHERE g.enclosure_id = e.id AND g.gate_id = i.s_gate))
    ORDER BY (e.id = own.id) DESC LIMIT 1) AS l ON TRUE
  LEFT JOIN checkin_presence pr
    ON pr.ticket_id = i.s_ticket AND pr.enclosure_id = l.id AND pr.day = i.s_today
),
v AS (
  SELECT f.*, CASE
    WHEN NOT COALESCE(f.device_ok, FALSE) THEN 'device_revoked'
    WHEN f.prior_result IS NOT NULL THEN 'replay'
    WHEN f.ticket_id IS NULL THEN 'invalid'
    WHEN f.status <> 'valid' THEN 'canceled'
    WHEN f.revoked OR f.serial <> f.s_serial THEN 'revoked'
    WHEN NOT f.today_ok AND f.s_kind = 'entry' THEN 'wrong_day'
    WHEN f.list_id IS NULL THEN 'wrong_gate'
    ELSE 'go' END AS verdict
  FROM facts f
),
entered AS (
  INSERT INTO checkin_presence AS p (ticket_id, enclosure_id, day, first_entry_at,
      first_gate_id, first_device_id, inside, entries, last_change_at)
  SELECT v.s_ticket, v.list_id, v.s_today, v.s_at, v.s_gate, v.s_device, TRUE, 1, v.s_at
  FROM v WHERE v.verdict = 'go' AND v.s_kind = 'entry'
  ORDER BY v.s_ticket
  ON CONFLICT (ticket_id, enclosure_id, day) DO UPDATE
     SET inside = TRUE, entries = p.entries + 1, last_change_at = EXCLUDED.last_change_at
     WHERE NOT p.inside
       AND (SELECT allow_reentry FROM enclosure WHERE id = EXCLUDED.enclosure_id)
  RETURNING p.ticket_id, p.first_entry_at, p.first_gate_id
),
exited AS (
  UPDATE checkin_presence p SET inside = FALSE, last_change_at = v.s_at
  FROM v
  WHERE v.s_kind = 'exit' AND v.verdict = 'go' AND p.ticket_id = v.s_ticket
    AND p.enclosure_id = v.list_id AND p.inside AND p.last_change_at <= v.s_at
    AND p.day = (SELECT max(q.day) FROM checkin_presence q WHERE q.ticket_id = v.s_ticket
                 AND q.enclosure_id = v.list_id AND q.day <= v.s_today)
  RETURNING p.ticket_id
),
o AS (
  SELECT v.*, COALESCE(e.first_entry_at, v.seen_at) AS first_entry_at,
         COALESCE(e.first_gate_id, v.seen_gate) AS first_entry_gate_id,
         v.verdict = 'go' AND (v.s_kind = 'exit' OR e.first_entry_at IS NOT NULL) AS ok
  FROM v LEFT JOIN entered e ON e.ticket_id = v.s_ticket AND v.s_kind = 'entry'
),
logged AS (
  INSERT INTO checkin_scan (festival_id, device_id, gate_id, nonce, kind, ticket_id, serial,
      enclosure_id, result, reason, offline, conflict, client_time, server_time,
      first_entry_at, first_entry_gate_id)
  SELECT o.s_festival, o.s_device, o.s_gate, o.s_nonce, o.s_kind, o.s_ticket, o.s_serial,
         o.list_id, CASE WHEN o.ok THEN 'ok' ELSE 'error' END,
         CASE WHEN o.ok THEN NULL WHEN o.verdict = 'go' THEN 'already_redeemed'
              ELSE o.verdict END,
         o.s_offline, o.s_offline AND NOT o.ok AND o.verdict = 'go',
         o.s_client_time, o.s_now, o.first_entry_at, o.first_entry_gate_id
  FROM o WHERE o.verdict NOT IN ('replay', 'device_revoked')
  ORDER BY o.s_device, o.s_nonce
  ON CONFLICT (device_id, nonce) DO NOTHING
  RETURNING device_id, nonce
)
SELECT o.idx, o.verdict, o.ok, o.list_id AS enclosure_id, o.first_entry_at,
       o.first_entry_gate_id,
       EXISTS (SELECT 1 FROM logged g WHERE g.device_id = o.s_device AND g.nonce = o.s_nonce)
         AS logged,
       o.prior_result, o.prior_reason, o.prior_enclosure, o.prior_first_entry_at,
       o.prior_first_entry_gate_id, o.prior_conflict
FROM o
""")
"""Decides N scans in one round trip (``checkin.batch`` gathers them; one scan is a batch
of one). The scans of one batch must be of different tickets and different (device,
nonce): each presence row and each log row is then written by at most one scan of the
statement, and every scan is decided exactly as if it ran alone. Rows are written in
ticket (and device, nonce) order, so two batches lock shared rows in the same order."""


async def decide_many_pg(db: Database, scans: Sequence[ScanInput]) -> list[ScanOutcome]:
    """Decide and record ``scans`` (distinct tickets and nonces) in one statement; the
    outcomes in the order given. A deadlock between two concurrent batches (possible only
    through exits, whose rows are updated in plan order) rolls the statement back whole,
    so it is simply run again."""
    params = {
        "idx": list(range(len(scans))),
        "device": [s.device_id for s in scans],
        "nonce": [s.nonce for s in scans],
        "ticket": [s.ticket_id for s in scans],
        "festival": [s.festival_id for s in scans],
        "serial": [s.serial for s in scans],
        "today": [s.today for s in scans],
        "gate": [s.gate_id for s in scans],
        "at": [s.at for s in scans],
        "now": [s.now for s in scans],
        "kind": [s.kind for s in scans],
        "offline": [s.offline for s in scans],
        "client_time": [s.client_time for s in scans],
    }
    for attempt in range(5):
        try:
            rows = await fetch(db, SCAN_PG, **params)
            break
        except asyncpg.DeadlockDetectedError:
            if attempt == 4:
                raise
    outcomes: list[ScanOutcome | None] = [None] * len(scans)
    for row in rows:
        index = row["idx"]
        outcomes[index] = _outcome_from_row(row, scans[index].offline)
    assert all(o is not None for o in outcomes)  # one row per scan
    return outcomes  # type: ignore[return-value]


def _outcome_from_row(row: Mapping[str, Any], offline: bool) -> ScanOutcome:
    verdict = row["verdict"]
    if verdict == REPLAY:
        return ScanOutcome(
            verdict=REPLAY,
            result=row["prior_result"],
            reason=row["prior_reason"],
            enclosure_id=row["prior_enclosure"],
            first_entry_at=row["prior_first_entry_at"],
            first_entry_gate_id=row["prior_first_entry_gate_id"],
            logged=False,
            conflict=bool(row["prior_conflict"]),
        )
    ok = bool(row["ok"])
    reason = None if ok else ("already_redeemed" if verdict == GO else verdict)
    return ScanOutcome(
        verdict=verdict,
        result="ok" if ok else "error",
        reason=reason,
        enclosure_id=row["enclosure_id"],
        first_entry_at=row["first_entry_at"],
        first_entry_gate_id=row["first_entry_gate_id"],
        logged=row["logged"],
        conflict=offline and reason == "already_redeemed",
    )


STORED = Statement(
    "SELECT result, reason, enclosure_id, first_entry_at, first_entry_gate_id, conflict "
    "FROM checkin_scan WHERE device_id = :device AND nonce = :nonce",
    param_types={"device": _UUID},
    result_types={"enclosure_id": _UUID, "first_entry_at": _TIME, "first_entry_gate_id": _UUID},
)

FIRST_ENTRY = Statement(
    "SELECT first_entry_at, first_gate_id FROM checkin_presence "
    "WHERE ticket_id = :ticket AND enclosure_id = :enclosure AND day = :day",
    param_types={"ticket": _UUID, "enclosure": _UUID, "day": sa.Date()},
    result_types={"first_entry_at": _TIME, "first_gate_id": _UUID},
)


async def stored_answer(db: Database, device_id: uuid.UUID, nonce: str) -> ScanOutcome | None:
    row = await fetchrow(db, STORED, device=device_id, nonce=nonce)
    if row is None:
        return None
    return ScanOutcome(
        verdict=REPLAY,
        result=row["result"],
        reason=row["reason"],
        enclosure_id=row["enclosure_id"],
        first_entry_at=row["first_entry_at"],
        first_entry_gate_id=row["first_entry_gate_id"],
        logged=False,
        conflict=bool(row["conflict"]),
    )


class Batcher(Protocol):
    """What gathers scans into one statement (``checkin.batch.ScanBatcher``)."""

    async def decide(self, scan: ScanInput) -> "ScanOutcome": ...


async def decide(db: Database, scan: ScanInput, batcher: "Batcher | None" = None) -> ScanOutcome:
    """Decide and record one scan of a genuine token: on PostgreSQL through ``batcher``
    (with other scans arriving within a millisecond or two) when given, else alone."""
    if db.is_sqlite:
        outcome = await _decide_sqlite(db, scan)
    else:
        outcome = (
            await batcher.decide(scan)
            if batcher is not None
            else (await decide_many_pg(db, [scan]))[0]
        )
    if not outcome.logged and outcome.verdict not in (REPLAY, DEVICE_REVOKED):
        # A retry of this nonce, sent at the same moment, was logged first: its answer wins.
        stored = await stored_answer(db, scan.device_id, scan.nonce)
        if stored is not None:
            return stored
    if (
        outcome.reason == "already_redeemed"
        and outcome.first_entry_at is None
        and outcome.enclosure_id is not None
    ):
        # Entered by a scan that committed while this one ran: read when and where.
        first = await fetchrow(
            db, FIRST_ENTRY, ticket=scan.ticket_id, enclosure=outcome.enclosure_id, day=scan.today
        )
        if first is not None:
            return ScanOutcome(
                verdict=outcome.verdict,
                result=outcome.result,
                reason=outcome.reason,
                enclosure_id=outcome.enclosure_id,
                first_entry_at=first["first_entry_at"],
                first_entry_gate_id=first["first_gate_id"],
                logged=True,
                conflict=outcome.conflict,
            )
    return outcome


INVALID_PG = Statement("""
WITH dev AS (SELECT 1 FROM device WHERE id = CAST(:device AS uuid) AND revoked_at IS NULL),
prior AS (SELECT result, reason FROM checkin_scan
          WHERE device_id = CAST(:device AS uuid) AND nonce = CAST(:nonce AS text)),
logged AS (
  INSERT INTO checkin_scan (festival_id, device_id, gate_id, nonce, kind, raw, ticket_id,
                            serial, result, reason, offline, conflict, client_time, server_time)
  SELECT CAST(:festival AS uuid), CAST(:device AS uuid), CAST(:gate AS uuid), CAST(:nonce AS text),
         CAST(:kind AS text), CAST(:raw AS text), CAST(:ticket AS uuid), CAST(:serial AS int),
         'error', CAST(:reason AS text), CAST(:offline AS boolean), FALSE,
         CAST(:client_time AS timestamptz), CAST(:now AS timestamptz)
  WHERE EXISTS (SELECT 1 FROM dev) AND NOT EXISTS (SELECT 1 FROM prior)
  ON CONFLICT (device_id, nonce) DO NOTHING
  RETURNING id
)
SELECT EXISTS (SELECT 1 FROM dev) AS device_ok, EXISTS (SELECT 1 FROM logged) AS logged,
       (SELECT result FROM prior) AS prior_result, (SELECT reason FROM prior) AS prior_reason
""")


async def record_refusal(
    db: Database,
    *,
    festival_id: uuid.UUID,
    device_id: uuid.UUID,
    gate_id: uuid.UUID,
    nonce: str,
    kind: str,
    raw: str,
    reason: str,
    now: dt.datetime,
    client_time: dt.datetime | None,
    offline: bool,
    ticket_id: uuid.UUID | None = None,
    serial: int | None = None,
) -> ScanOutcome:
    """Log a scan refused without a decision: not a genuine ticket of this festival (the
    raw value is kept), or refused by an offline scanner itself (a genuine ticket is
    logged by its id, not its code)."""
    params = {
        "festival": festival_id,
        "device": device_id,
        "gate": gate_id,
        "nonce": nonce,
        "kind": kind,
        "raw": raw[:512] if ticket_id is None else None,
        "ticket": ticket_id,
        "serial": serial,
        "reason": reason,
        "now": now,
        "client_time": client_time,
        "offline": offline,
    }
    if db.is_sqlite:
        async with db.engine.begin() as conn:
            if not await _device_ok(conn, device_id):
                return _device_revoked()
            logged = (await conn.execute(_SQLITE_LOG_INVALID, params)).first() is not None
    else:
        row = await fetchrow(db, INVALID_PG, **params)
        assert row is not None
        if not row["device_ok"]:
            return _device_revoked()
        logged = row["logged"]
    if not logged:
        stored = await stored_answer(db, device_id, nonce)
        if stored is not None:
            return stored
    return ScanOutcome(
        verdict=reason,
        result="error",
        reason=reason,
        enclosure_id=None,
        first_entry_at=None,
        first_entry_gate_id=None,
        logged=logged,
    )


def _device_revoked() -> ScanOutcome:
    return ScanOutcome(
        verdict=DEVICE_REVOKED,
        result=None,
        reason=None,
        enclosure_id=None,
        first_entry_at=None,
        first_entry_gate_id=None,
        logged=False,
    )


# --- SQLite: the same decision, statement by statement, in one write transaction --------

_SQLITE_DEVICE = sa.text(
    "SELECT 1 FROM device WHERE id = :device AND revoked_at IS NULL"
).bindparams(sa.bindparam("device", type_=_UUID))

_SQLITE_LOG_INVALID = sa.text(
    "INSERT INTO checkin_scan (festival_id, device_id, gate_id, nonce, kind, raw, ticket_id, "
    "serial, result, reason, offline, conflict, client_time, server_time) VALUES (:festival, "
    ":device, :gate, :nonce, :kind, :raw, :ticket, :serial, 'error', :reason, :offline, 0, "
    ":client_time, :now) ON CONFLICT (device_id, nonce) DO NOTHING RETURNING id"
).bindparams(
    sa.bindparam("festival", type_=_UUID),
    sa.bindparam("device", type_=_UUID),
    sa.bindparam("gate", type_=_UUID),
    sa.bindparam("ticket", type_=_UUID),
    sa.bindparam("now", type_=_TIME),
    sa.bindparam("client_time", type_=_TIME),
)

_SQLITE_CLAIM_NONCE = sa.text(
    "INSERT INTO checkin_scan (festival_id, device_id, gate_id, nonce, kind, ticket_id, serial, "
    "result, offline, conflict, client_time, server_time) VALUES (:festival, :device, :gate, "
    ":nonce, :kind, :ticket, :serial, 'error', :offline, 0, :client_time, :now) "
    "ON CONFLICT (device_id, nonce) DO NOTHING RETURNING id"
).bindparams(
    sa.bindparam("festival", type_=_UUID),
    sa.bindparam("device", type_=_UUID),
    sa.bindparam("gate", type_=_UUID),
    sa.bindparam("ticket", type_=_UUID),
    sa.bindparam("now", type_=_TIME),
    sa.bindparam("client_time", type_=_TIME),
)

_SQLITE_FACTS = (
    sa.text(
        "SELECT t.status, t.serial, "
        " EXISTS (SELECT 1 FROM ticket_revocation r WHERE r.ticket_id = t.id AND r.serial = "
        ":serial)"
        "   AS revoked, "
        " EXISTS (SELECT 1 FROM ticket_day d WHERE d.ticket_id = t.id AND d.date = :today) AS "
        "today_ok,"
        " (SELECT e.id FROM enclosure own JOIN enclosure e ON e.id = own.id OR e.id = own.parent_id"
        "   WHERE own.id = t.enclosure_id AND (NOT EXISTS (SELECT 1 FROM enclosure_gate g"
        "   WHERE g.enclosure_id = e.id) OR EXISTS (SELECT 1 FROM enclosure_gate g"
        "   WHERE g.enclosure_id = e.id AND g.gate_id = :gate)) ORDER BY (e.id = own.id) DESC"
        "   LIMIT 1) AS list_id "
        "FROM ticket t WHERE t.id = :ticket AND t.festival_id = :festival"
    )
    .bindparams(
        sa.bindparam("ticket", type_=_UUID),
        sa.bindparam("festival", type_=_UUID),
        sa.bindparam("gate", type_=_UUID),
        sa.bindparam("today", type_=sa.Date()),
    )
    .columns(
        status=sa.String(),
        serial=sa.Integer(),
        revoked=sa.Boolean(),
        today_ok=sa.Boolean(),
        list_id=_UUID,
    )
)

_SQLITE_EXIT_DAY = (
    sa.text(
        "SELECT max(day) AS day FROM checkin_presence WHERE ticket_id = :ticket "
        "AND enclosure_id = :list AND day <= :today"
    )
    .bindparams(
        sa.bindparam("ticket", type_=_UUID),
        sa.bindparam("list", type_=_UUID),
        sa.bindparam("today", type_=sa.Date()),
    )
    .columns(day=sa.Date())
)

_SQLITE_PRESENCE = (
    sa.text(
        "SELECT p.first_entry_at, p.first_gate_id, p.inside, e.allow_reentry, p.last_change_at "
        "FROM enclosure e LEFT JOIN checkin_presence p ON p.enclosure_id = e.id "
        " AND p.ticket_id = :ticket AND p.day = :today WHERE e.id = :list"
    )
    .bindparams(
        sa.bindparam("ticket", type_=_UUID),
        sa.bindparam("list", type_=_UUID),
        sa.bindparam("today", type_=sa.Date()),
    )
    .columns(
        first_entry_at=_TIME,
        first_gate_id=_UUID,
        inside=sa.Boolean(),
        allow_reentry=sa.Boolean(),
        last_change_at=_TIME,
    )
)


async def _device_ok(conn: Any, device_id: uuid.UUID) -> bool:
    return (await conn.execute(_SQLITE_DEVICE, {"device": device_id})).first() is not None


async def _decide_sqlite(db: Database, scan: ScanInput) -> ScanOutcome:

    presence_table, scan_table = PRESENCE, SCAN
    base = {
        "festival": scan.festival_id,
        "device": scan.device_id,
        "gate": scan.gate_id,
        "nonce": scan.nonce,
        "kind": scan.kind,
        "ticket": scan.ticket_id,
        "serial": scan.serial,
        "now": scan.now,
        "client_time": scan.client_time,
        "offline": scan.offline,
        "today": scan.today,
    }
    async with db.engine.begin() as conn:
        if not await _device_ok(conn, scan.device_id):
            return _device_revoked()
        # Writing first takes SQLite's write lock: the rest of the decision is serialised.
        claimed = (await conn.execute(_SQLITE_CLAIM_NONCE, base)).first()
        if claimed is None:
            stored = await conn.execute(
                STORED.clause, {"device": scan.device_id, "nonce": scan.nonce}
            )
            row = stored.first()
            assert row is not None
            return ScanOutcome(
                verdict=REPLAY,
                result=row.result,
                reason=row.reason,
                enclosure_id=row.enclosure_id,
                first_entry_at=row.first_entry_at,
                first_entry_gate_id=row.first_entry_gate_id,
                logged=False,
                conflict=bool(row.conflict),
            )
        facts = (await conn.execute(_SQLITE_FACTS, base)).first()
        list_id = facts.list_id if facts is not None else None
        if facts is None:
            verdict = "invalid"
        elif facts.status != "valid":
            verdict = "canceled"
        elif facts.revoked or facts.serial != scan.serial:
            verdict = "revoked"
        elif not facts.today_ok and scan.kind == "entry":
            verdict = "wrong_day"
        elif list_id is None:
            verdict = "wrong_gate"
        else:
            verdict = GO
        first_at: dt.datetime | None = None
        first_gate: uuid.UUID | None = None
        result: str = "error"
        reason: str | None = verdict
        if verdict == GO:
            day = scan.today
            if scan.kind == "exit":  # the latest day it entered: an exit after midnight too
                day = (
                    await conn.execute(_SQLITE_EXIT_DAY, {**base, "list": list_id})
                ).scalar() or scan.today
            place = (
                await conn.execute(_SQLITE_PRESENCE, {**base, "list": list_id, "today": day})
            ).first()
            assert place is not None
            first_at, first_gate = place.first_entry_at, place.first_gate_id
            key = {"ticket_id": scan.ticket_id, "enclosure_id": list_id, "day": day}
            where = sa.and_(*(presence_table.c[k] == v for k, v in key.items()))
            if scan.kind == "exit":
                result, reason = "ok", None
                if place.inside and place.last_change_at <= scan.at:
                    await conn.execute(
                        presence_table.update()
                        .where(where)
                        .values(inside=False, last_change_at=scan.at)
                    )
            elif first_at is None:
                await conn.execute(
                    presence_table.insert().values(
                        **key,
                        first_entry_at=scan.at,
                        first_gate_id=scan.gate_id,
                        first_device_id=scan.device_id,
                        inside=True,
                        entries=1,
                        last_change_at=scan.at,
                    )
                )
                result, reason, first_at, first_gate = "ok", None, scan.at, scan.gate_id
            elif not place.inside and place.allow_reentry:
                await conn.execute(
                    presence_table.update()
                    .where(where)
                    .values(
                        inside=True, entries=presence_table.c.entries + 1, last_change_at=scan.at
                    )
                )
                result, reason = "ok", None
            else:
                reason = "already_redeemed"
        conflict = scan.offline and reason == "already_redeemed"
        await conn.execute(
            scan_table.update()
            .where(scan_table.c.id == claimed.id)
            .values(
                enclosure_id=list_id,
                result=result,
                reason=reason,
                conflict=conflict,
                first_entry_at=first_at,
                first_entry_gate_id=first_gate,
            )
        )
    return ScanOutcome(
        verdict=verdict,
        result=result,
        reason=reason,
        enclosure_id=list_id,
        first_entry_at=first_at,
        first_entry_gate_id=first_gate,
        logged=True,
        conflict=conflict,
    )


# --- presence from the facts, in the order they happened --------------------------------

_FACTS = (
    sa.text(
        "SELECT kind, CASE WHEN offline THEN client_time ELSE server_time END AS at, gate_id, "
        "device_id, nonce, conflict, offline FROM checkin_scan WHERE ticket_id = :ticket "
        "AND enclosure_id = :list AND (result = 'ok' OR conflict)"
    )
    .bindparams(sa.bindparam("ticket", type_=_UUID), sa.bindparam("list", type_=_UUID))
    .columns(at=_TIME, gate_id=_UUID, device_id=_UUID, conflict=sa.Boolean(), offline=sa.Boolean())
)
_REENTRY = sa.text("SELECT allow_reentry FROM enclosure WHERE id = :list").bindparams(
    sa.bindparam("list", type_=_UUID)
)
_FLAG_CONFLICT = sa.text(
    "UPDATE checkin_scan SET conflict = TRUE WHERE device_id = :device AND nonce = :nonce"
).bindparams(sa.bindparam("device", type_=_UUID))


def presence_from_facts(
    facts: Any, zone: ZoneInfo, allow_reentry: bool
) -> tuple[dict[dt.date, dict[str, Any]], set[tuple[uuid.UUID, str]]]:
    """Who is inside, replayed from the passages (admissions and exits) of one ticket on one
    check-in list in the order they happened, whatever order they were uploaded in. Ties
    are broken by kind (an entry before an exit at the same instant), then device and
    nonce. An entry opens (or re-opens) the row of its local day; an exit closes the row of
    the latest entry before it, after midnight too.

    Also the (device, nonce) of each offline entry that, in this order, came while the
    ticket was already inside (or after an exit where the list allows no re-entry): the
    conflicts. A live entry was decided on what the server knew then; it is not one."""
    rows: dict[dt.date, dict[str, Any]] = {}
    conflicts: set[tuple[uuid.UUID, str]] = set()
    current: dict[str, Any] | None = None
    ordered = sorted(facts, key=lambda f: (f.at, f.kind == "exit", str(f.device_id), f.nonce))
    for fact in ordered:
        if fact.kind == "entry":
            day = fact.at.astimezone(zone).date()
            current = rows.get(day)
            if current is None:
                current = rows[day] = {
                    "day": day,
                    "first_entry_at": fact.at,
                    "first_gate_id": fact.gate_id,
                    "first_device_id": fact.device_id,
                    "inside": True,
                    "entries": 1,
                    "last_change_at": fact.at,
                }
            else:
                if fact.offline and (current["inside"] or not allow_reentry):
                    conflicts.add((fact.device_id, fact.nonce))
                current.update(inside=True, entries=current["entries"] + 1, last_change_at=fact.at)
        elif current is not None and current["inside"]:
            current.update(inside=False, last_change_at=fact.at)
    return rows, conflicts


async def replay_presence(
    db: Database, zone: ZoneInfo, pairs: set[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, str]]:
    """Rewrite the presence rows of these (ticket, check-in list) pairs from their facts.

    Run after offline facts are uploaded (never on the live scan path): an offline scan
    may be older than what was already recorded. Conflicts stay flagged on their scans; a
    row a live scan changed after the newest fact read here is left to that scan.

    Returns the (device, nonce) of scans newly flagged as conflicts: an entry that turns
    out, in time order, to have come while the ticket was inside. A flag is only ever
    added, never taken away."""

    table = PRESENCE
    flagged: set[tuple[uuid.UUID, str]] = set()
    for ticket_id, list_id in sorted(pairs):
        async with db.engine.begin() as conn:
            if not db.is_sqlite:  # one replay of a pair at a time
                await conn.execute(
                    sa.select(
                        sa.func.pg_advisory_xact_lock(
                            sa.func.hashtextextended(f"presence:{ticket_id}:{list_id}", 0)
                        )
                    )
                )
            facts = (await conn.execute(_FACTS, {"ticket": ticket_id, "list": list_id})).all()
            reentry = bool((await conn.execute(_REENTRY, {"list": list_id})).scalar())
            rows, conflicts = presence_from_facts(facts, zone, reentry)
            for fact in facts:
                if (fact.device_id, fact.nonce) in conflicts and not fact.conflict:
                    await conn.execute(
                        _FLAG_CONFLICT, {"device": fact.device_id, "nonce": fact.nonce}
                    )
                    flagged.add((fact.device_id, fact.nonce))
            for row in rows.values():
                values = {"ticket_id": ticket_id, "enclosure_id": list_id, **row}
                statement = insert(conn, table).values(**values)
                await conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["ticket_id", "enclosure_id", "day"],
                        set_={k: statement.excluded[k] for k in row if k != "day"},
                        where=table.c.last_change_at <= statement.excluded.last_change_at,
                    )
                )
    return flagged
