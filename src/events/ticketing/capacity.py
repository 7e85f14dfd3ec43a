"""Capacity: which quotas a ticket type counts against, and the atomic take.

A quota's capacity is taken by its sold tickets (``ticket_quota.sold``) and by the holds of
pending orders (``ticket_quota.held``, the quantity of its ``ticket_quota_hold`` rows).
An expired hold stops counting without any worker: every decision first deletes the
expired holds of the quotas it locked and gives their quantity back, so ``held`` counts
only live holds when it is used.

The decision is one statement (``TAKE`` and its variants, on PostgreSQL): it locks the
quotas the order needs in id order (no deadlocks; ``lock_timeout`` answers ``503
capacity_busy``), drops their expired holds, checks every quota against the counters of
the row it has just locked (the newest version: READ COMMITTED re-reads a row it waited
for, so no other table's snapshot is trusted), and, only if every quota has room, takes
the places and writes the order's rows, all or nothing. On the free path that statement
runs alone (autocommit), so the locks last one round trip: nothing is decided in Python
while they are held. On SQLite (a single writer) ``take_portable`` does the same in the
request's transaction.

Every writer of ``sold``, ``held`` or holds locks the quotas first, in id order. Giving
capacity back (``release_holds``, ``unsell``) also moves the festival's capacity epoch,
which invalidates cached "sold out" answers (``SoldOutCache``) in every worker.
``CHECK (sold + held <= size)`` backs it all up.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.db.fast import Statement
from events.db.locks import is_lock_timeout, set_lock_timeout
from events.db.upsert import insert
from events.errors import ServiceUnavailable
from events.ticketing.models import (
    EPOCH,
    HOLD,
    QUOTA,
    TYPE,
    TYPE_DAY,
)


@dataclass(frozen=True, slots=True)
class QuotaState:
    id: uuid.UUID
    size: int
    sold: int
    held: int

    @property
    def available(self) -> int:
        return max(0, self.size - self.sold - self.held)


def _matches() -> Any:
    """``ticket_quota`` covers ``ticket_type`` (both in the FROM clause)."""
    day_match = sa.exists().where(
        TYPE_DAY.c.ticket_type_id == TYPE.c.id, TYPE_DAY.c.day_id == QUOTA.c.day_id
    )
    return sa.and_(
        QUOTA.c.festival_id == TYPE.c.festival_id,
        sa.or_(QUOTA.c.ticket_type_id.is_(None), QUOTA.c.ticket_type_id == TYPE.c.id),
        sa.or_(QUOTA.c.enclosure_id.is_(None), QUOTA.c.enclosure_id == TYPE.c.enclosure_id),
        sa.or_(QUOTA.c.day_id.is_(None), day_match),
    )


def _held_now(now: datetime, exclude_order: uuid.UUID | None = None) -> Any:
    """Correlated: the unexpired held quantity of ``ticket_quota``."""
    condition = [HOLD.c.quota_id == QUOTA.c.id, HOLD.c.expires_at > now]
    if exclude_order is not None:
        condition.append(HOLD.c.order_id != exclude_order)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(HOLD.c.quantity), 0))
        .where(*condition)
        .scalar_subquery()
    )


async def coverage(
    conn: AsyncConnection,
    type_ids: Iterable[uuid.UUID],
    now: datetime,
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, QuotaState]]:
    """For each type, the quotas it counts against; and each quota's state (not locked:
    for listing and for refusing early, never for the decision)."""
    ids = list(type_ids)
    if not ids:
        return {}, {}
    rows = await conn.execute(
        sa.select(TYPE.c.id, QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now))
        .select_from(TYPE.join(QUOTA, _matches()))
        .where(TYPE.c.id.in_(ids))
    )
    by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    states: dict[uuid.UUID, QuotaState] = {}
    for type_id, quota_id, size, sold, held in rows:
        by_type[type_id].append(quota_id)
        states[quota_id] = QuotaState(quota_id, size, sold, int(held))
    return dict(by_type), states


async def festival_coverage(
    conn: AsyncConnection,
    festival_id: uuid.UUID,
    now: datetime,
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, QuotaState]]:
    """``coverage`` for every ticket type of a festival, in one statement."""
    rows = await conn.execute(
        sa.select(TYPE.c.id, QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now))
        .select_from(TYPE.join(QUOTA, _matches()))
        .where(TYPE.c.festival_id == festival_id)
    )
    by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    states: dict[uuid.UUID, QuotaState] = {}
    for type_id, quota_id, size, sold, held in rows:
        by_type[type_id].append(quota_id)
        states[quota_id] = QuotaState(quota_id, size, sold, int(held))
    return dict(by_type), states


async def quota_states(
    conn: AsyncConnection,
    festival_id: uuid.UUID,
    now: datetime,
) -> dict[uuid.UUID, QuotaState]:
    rows = await conn.execute(
        sa.select(QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now)).where(
            QUOTA.c.festival_id == festival_id
        )
    )
    return {q: QuotaState(q, size, sold, int(held)) for q, size, sold, held in rows}


def needs_of(
    quantities: Mapping[uuid.UUID, int], by_type: Mapping[uuid.UUID, list[uuid.UUID]]
) -> dict[uuid.UUID, int]:
    """How many places each quota must give for ``quantities`` (per ticket type)."""
    needs: dict[uuid.UUID, int] = defaultdict(int)
    for type_id, quantity in quantities.items():
        for quota_id in by_type.get(type_id, []):
            needs[quota_id] += quantity
    return dict(needs)


def short_quotas(
    needs: Mapping[uuid.UUID, int],
    states: Mapping[uuid.UUID, QuotaState],
) -> list[uuid.UUID]:
    return sorted(q for q, n in needs.items() if q not in states or states[q].available < n)


async def plan_coverage(
    conn: AsyncConnection,
    type_ids: Iterable[uuid.UUID],
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, int]]:
    """For each type, the quotas it counts against, and each quota's ``version`` (read
    without a lock; the take checks the versions under its locks)."""
    ids = list(type_ids)
    if not ids:
        return {}, {}
    rows = await conn.execute(
        sa.select(TYPE.c.id, QUOTA.c.id, QUOTA.c.version)
        .select_from(TYPE.join(QUOTA, _matches()))
        .where(TYPE.c.id.in_(ids))
    )
    by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    versions: dict[uuid.UUID, int] = {}
    for type_id, quota_id, version in rows:
        by_type[type_id].append(quota_id)
        versions[quota_id] = version
    return dict(by_type), versions


# --- the decision --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    """Every quota had room: the places were taken (and the order's rows written)."""
    fresh: bool
    """The coverage the caller planned with was still current (else: plan again)."""
    short: tuple[uuid.UUID, ...] = ()
    """Quotas without room for this order."""
    full: tuple[uuid.UUID, ...] = ()
    """Quotas without a single place left."""
    until: datetime | None = None
    """When the earliest hold on a full quota lapses (a cached "sold out" lasts until)."""


def _array(name: str, sql_type: str) -> str:
    return f"CAST(:{name} AS {sql_type}[])"


_TAKE = f"""
WITH need AS (
    SELECT n.quota_id, n.n, n.version
    FROM unnest({_array("quota_ids", "uuid")}, {_array("needs", "int")},
                {_array("versions", "int")}) AS n(quota_id, n, version)
), locked AS (
    SELECT q.id, q.size, q.sold, q.held, q.version FROM ticket_quota q
    WHERE q.id = ANY({_array("quota_ids", "uuid")}) ORDER BY q.id FOR UPDATE
), lapsed AS (
    DELETE FROM ticket_quota_hold h USING locked l
    WHERE h.quota_id = l.id AND h.expires_at <= CAST(:now AS timestamptz)
    RETURNING h.quota_id, h.quantity
), own AS (
    SELECT h.quota_id, h.quantity FROM ticket_quota_hold h
    WHERE h.order_id = CAST(:order_id AS uuid) AND h.expires_at > CAST(:now AS timestamptz)
      AND h.quota_id = ANY({_array("quota_ids", "uuid")})
), state AS (
    SELECT l.id, n.n, l.version = n.version AS current, l.size - l.sold - l.held AS free,
           coalesce((SELECT sum(x.quantity) FROM lapsed x WHERE x.quota_id = l.id), 0) AS lapsed,
           coalesce((SELECT sum(o.quantity) FROM own o WHERE o.quota_id = l.id), 0) AS own
    FROM locked l JOIN need n ON n.quota_id = l.id
), decided AS (
    SELECT count(*) = cardinality({_array("quota_ids", "uuid")})
               AND coalesce(bool_and(current), true) AS fresh,
           count(*) = cardinality({_array("quota_ids", "uuid")})
               AND coalesce(bool_and(current), true)
               AND coalesce(bool_and(free + lapsed + own >= n), true) AS ok
    FROM state
), moved AS (
    UPDATE ticket_quota q
    SET held = q.held - s.lapsed + CASE WHEN d.ok THEN CASE WHEN CAST(:hold AS boolean)
                                                            THEN s.n ELSE -s.own END
                                        ELSE 0 END,
        sold = q.sold + CASE WHEN d.ok AND NOT CAST(:hold AS boolean) THEN s.n ELSE 0 END
    FROM state s, decided d
    WHERE q.id = s.id AND (d.ok OR s.lapsed > 0)
    RETURNING q.id
), own_gone AS (
    DELETE FROM ticket_quota_hold h USING decided d
    WHERE d.ok AND NOT CAST(:hold AS boolean) AND h.order_id = CAST(:order_id AS uuid)
      AND h.expires_at > CAST(:now AS timestamptz)
      AND h.quota_id = ANY({_array("quota_ids", "uuid")})
    RETURNING h.quota_id
), new_holds AS (
    INSERT INTO ticket_quota_hold (order_id, quota_id, quantity, expires_at)
    SELECT CAST(:order_id AS uuid), s.id, s.n, CAST(:expires_at AS timestamptz)
    FROM state s, decided d WHERE d.ok AND CAST(:hold AS boolean)
    RETURNING quota_id
)"""  # noqa: S608 (only constant fragments)

_NEW_ORDER = f"""
, new_order AS (
    INSERT INTO ticket_order (id, festival_id, email, phone, locale, status, total, currency,
                              access_token_hash, access_token_sealed, expires_at,
                              idempotency_key, request_fingerprint, paid_at, cancel_reason,
                              created_at, updated_at)
    SELECT CAST(:order_id AS uuid), CAST(:festival_id AS uuid), CAST(:email AS text),
           CAST(:phone AS text), CAST(:locale AS text), CAST(:status AS text),
           CAST(:total AS bigint), CAST(:currency AS text), CAST(:token_hash AS text),
           CAST(:token_sealed AS text), CAST(:order_expires_at AS timestamptz),
           CAST(:idempotency_key AS text), CAST(:fingerprint AS text),
           CAST(:paid_at AS timestamptz), '', CAST(:now AS timestamptz),
           CAST(:now AS timestamptz)
    FROM decided d WHERE d.ok
    RETURNING id
), new_lines AS (
    INSERT INTO ticket_order_line (id, order_id, ticket_type_id, quantity, unit_price)
    SELECT l.id, CAST(:order_id AS uuid), l.type_id, l.quantity, l.price
    FROM unnest({_array("line_ids", "uuid")}, {_array("line_types", "uuid")},
                {_array("line_quantities", "int")}, {_array("line_prices", "bigint")})
         AS l(id, type_id, quantity, price), decided d
    WHERE d.ok
    RETURNING id
)"""  # noqa: S608 (only constant fragments)

_PAID = """
, paid AS (
    UPDATE ticket_order SET status = 'paid', paid_at = CAST(:now AS timestamptz),
                            expires_at = NULL, updated_at = CAST(:now AS timestamptz)
    FROM decided d WHERE d.ok AND ticket_order.id = CAST(:order_id AS uuid)
    RETURNING ticket_order.id
)"""

_TICKETS = f"""
, new_tickets AS (
    INSERT INTO ticket (id, festival_id, order_id, ticket_type_id, enclosure_id, status,
                        audience, price, currency, serial, kid, token, issued_at)
    SELECT t.id, CAST(:festival_id AS uuid), CAST(:order_id AS uuid), t.type_id,
           t.enclosure_id, 'valid', t.audience, t.price, CAST(:currency AS text), 1,
           CAST(:kid AS int), t.token, CAST(:now AS timestamptz)
    FROM unnest({_array("ticket_ids", "uuid")}, {_array("ticket_types", "uuid")},
                {_array("ticket_enclosures", "uuid")}, {_array("ticket_audiences", "text")},
                {_array("ticket_prices", "bigint")}, {_array("ticket_tokens", "text")})
         AS t(id, type_id, enclosure_id, audience, price, token), decided d
    WHERE d.ok
    RETURNING id
), new_days AS (
    INSERT INTO ticket_day (ticket_id, day_id, date)
    SELECT x.ticket_id, x.day_id, x.date
    FROM unnest({_array("day_tickets", "uuid")}, {_array("day_ids", "uuid")},
                {_array("day_dates", "date")}) AS x(ticket_id, day_id, date), decided d
    WHERE d.ok
    RETURNING ticket_id
), new_mail AS (
    INSERT INTO ticket_mail (id, order_id, to_address, kind, status, attempts, last_error,
                             next_attempt_at, created_at)
    SELECT CAST(:mail_id AS uuid), CAST(:order_id AS uuid), CAST(:mail_to AS text),
           'order_confirmation', 'pending', 0, '', CAST(:now AS timestamptz),
           CAST(:now AS timestamptz)
    FROM decided d WHERE d.ok AND CAST(:mail_to AS text) IS NOT NULL
    RETURNING id
)"""  # noqa: S608 (only constant fragments)

_ANSWER = """
SELECT d.ok, d.fresh,
       ARRAY(SELECT s.id FROM state s WHERE s.free + s.lapsed + s.own < s.n ORDER BY s.id)
           AS short,
       ARRAY(SELECT s.id FROM state s WHERE s.free + s.lapsed + s.own <= 0 ORDER BY s.id)
           AS full,
       (SELECT min(h.expires_at) FROM ticket_quota_hold h
        WHERE NOT d.ok AND h.expires_at > CAST(:now AS timestamptz)
          AND h.quota_id IN (SELECT s.id FROM state s WHERE s.free + s.lapsed + s.own <= 0))
           AS until
FROM decided d"""

TAKE_HOLD_NEW_ORDER = Statement(_TAKE + _NEW_ORDER + _ANSWER)
"""A paid order placed: its holds, the order and its lines, or nothing."""
TAKE_SELL_NEW_ORDER = Statement(_TAKE + _NEW_ORDER + _TICKETS + _ANSWER)
"""A free order placed: sold, the order (paid), its lines and tickets, or nothing."""
TAKE_SELL_ORDER = Statement(_TAKE + _PAID + _TICKETS + _ANSWER)
"""A pending order paid: its holds become tickets, the order is paid, or nothing."""


def take_params(
    *,
    needs: Mapping[uuid.UUID, int],
    versions: Mapping[uuid.UUID, int],
    order_id: uuid.UUID,
    hold: bool,
    now: datetime,
    expires_at: datetime | None,
) -> dict[str, Any]:
    ids = sorted(needs)
    return {
        "quota_ids": ids,
        "needs": [needs[q] for q in ids],
        "versions": [versions.get(q, -1) for q in ids],
        "order_id": order_id,
        "hold": hold,
        "now": now,
        "expires_at": expires_at,
    }


def verdict_of(row: Mapping[str, Any]) -> Verdict:
    return Verdict(
        ok=bool(row["ok"]),
        fresh=bool(row["fresh"]),
        short=tuple(row["short"]),
        full=tuple(row["full"]),
        until=row["until"],
    )


def capacity_busy(exc: BaseException) -> bool:
    return is_lock_timeout(exc)


def busy_error() -> ServiceUnavailable:
    return ServiceUnavailable("Tickets are selling fast; please try again.", code="capacity_busy")


async def run_take(
    conn: AsyncConnection, statement: Statement, params: Mapping[str, Any], lock_timeout_ms: int
) -> Verdict:
    """A ``TAKE_*`` statement inside the caller's transaction (PostgreSQL), on the
    driver's connection (no ORM, no SQLAlchemy type processing on the hot path)."""
    await set_lock_timeout(conn, lock_timeout_ms)
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    try:
        row = await raw.fetchrow(statement.pg_sql, *statement.pg_args(params))
    except Exception as exc:
        if capacity_busy(exc):
            raise busy_error() from exc
        raise
    assert row is not None
    return verdict_of(row)


async def take_portable(
    conn: AsyncConnection,
    *,
    needs: Mapping[uuid.UUID, int],
    versions: Mapping[uuid.UUID, int],
    order_id: uuid.UUID,
    hold: bool,
    now: datetime,
    expires_at: datetime | None,
) -> Verdict:
    """The same decision as ``TAKE`` in several statements, inside the caller's
    transaction: for SQLite, whose single writer lock serialises it (the first write takes
    that lock, and nothing is decided from a read made before it)."""
    ids = sorted(needs)
    # Take the writer lock first, then read: the lapsed holds go, their places come back.
    await conn.execute(sa.update(QUOTA).where(QUOTA.c.id.in_(ids)).values(version=QUOTA.c.version))
    await drop_lapsed(conn, ids, now)
    rows = {
        q: (size, sold, held, version)
        for q, size, sold, held, version in await conn.execute(
            sa.select(QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, QUOTA.c.held, QUOTA.c.version).where(
                QUOTA.c.id.in_(ids)
            )
        )
    }
    own: dict[uuid.UUID, int] = defaultdict(int)
    for quota_id, quantity in await conn.execute(
        sa.select(HOLD.c.quota_id, HOLD.c.quantity).where(
            HOLD.c.order_id == order_id, HOLD.c.expires_at > now, HOLD.c.quota_id.in_(ids)
        )
    ):
        own[quota_id] += quantity
    fresh = len(rows) == len(ids) and all(rows[q][3] == versions.get(q) for q in ids)
    free = {q: size - sold - held + own[q] for q, (size, sold, held, _) in rows.items()}
    short = tuple(q for q in ids if free.get(q, 0) < needs[q])
    full = tuple(q for q in ids if free.get(q, 0) <= 0)
    if not fresh or short:
        until = None
        if full:
            until = (
                await conn.execute(
                    sa.select(sa.func.min(HOLD.c.expires_at)).where(
                        HOLD.c.quota_id.in_(full), HOLD.c.expires_at > now
                    )
                )
            ).scalar_one_or_none()
        return Verdict(ok=False, fresh=fresh, short=short, full=full, until=until)
    if hold:
        assert expires_at is not None
        await conn.execute(
            sa.insert(HOLD),
            [
                {
                    "order_id": order_id,
                    "quota_id": q,
                    "quantity": needs[q],
                    "expires_at": expires_at,
                }
                for q in ids
            ],
        )
        await _add(conn, {q: needs[q] for q in ids}, "held")
    else:
        await conn.execute(
            sa.delete(HOLD).where(HOLD.c.order_id == order_id, HOLD.c.quota_id.in_(ids))
        )
        await _add(conn, {q: -own[q] for q in ids}, "held")
        await _add(conn, {q: needs[q] for q in ids}, "sold")
    return Verdict(ok=True, fresh=True)


async def lock_sorted(
    conn: AsyncConnection, quota_ids: Iterable[uuid.UUID], *, lock_timeout_ms: int | None = None
) -> list[Any]:
    """Lock quotas in id order (PostgreSQL; SQLite's writer lock serialises anyway) and
    return their rows as they are now."""
    ids = sorted(set(quota_ids))
    if not ids:
        return []
    try:
        if lock_timeout_ms is not None:
            await set_lock_timeout(conn, lock_timeout_ms)
        return list(
            (
                await conn.execute(
                    sa.select(QUOTA)
                    .where(QUOTA.c.id.in_(ids))
                    .order_by(QUOTA.c.id)
                    .with_for_update()
                )
            ).all()
        )
    except DBAPIError as exc:
        if capacity_busy(exc):
            raise busy_error() from exc
        raise


async def drop_lapsed(
    conn: AsyncConnection,
    quota_ids: Iterable[uuid.UUID],
    now: datetime,
) -> None:
    """Delete the expired holds of quotas this transaction has locked; give them back."""
    gone: dict[uuid.UUID, int] = defaultdict(int)
    for quota_id, quantity in await conn.execute(
        sa.delete(HOLD)
        .where(HOLD.c.quota_id.in_(list(quota_ids)), HOLD.c.expires_at <= now)
        .returning(HOLD.c.quota_id, HOLD.c.quantity)
    ):
        gone[quota_id] += quantity
    await _add(conn, {q: -n for q, n in gone.items()}, "held")


async def bump_epoch(conn: AsyncConnection, festival_ids: Iterable[uuid.UUID]) -> None:
    """Capacity was given back: cached "sold out" answers of these festivals are stale."""
    ids = sorted(set(festival_ids))
    if not ids:
        return
    statement = insert(conn, EPOCH)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["festival_id"], set_={"epoch": EPOCH.c.epoch + 1}
        ),
        [{"festival_id": f, "epoch": 1} for f in ids],
    )


async def release_holds(
    conn: AsyncConnection,
    order_ids: uuid.UUID | Sequence[uuid.UUID],
) -> None:
    """Drop orders' holds and give their places back (quotas locked in id order first)."""
    ids = [order_ids] if isinstance(order_ids, uuid.UUID) else list(order_ids)
    if not ids:
        return
    quota_ids = (
        (await conn.execute(sa.select(HOLD.c.quota_id).where(HOLD.c.order_id.in_(ids)).distinct()))
        .scalars()
        .all()
    )
    if not quota_ids:
        return
    locked = await lock_sorted(conn, quota_ids)
    # A new statement: it sees holds another writer removed before we got the locks.
    gone: dict[uuid.UUID, int] = defaultdict(int)
    for quota_id, quantity in await conn.execute(
        sa.delete(HOLD).where(HOLD.c.order_id.in_(ids)).returning(HOLD.c.quota_id, HOLD.c.quantity)
    ):
        gone[quota_id] += quantity
    await _add(conn, {q: -n for q, n in gone.items()}, "held")
    await bump_epoch(conn, [row.festival_id for row in locked])


async def unsell(conn: AsyncConnection, counts: Mapping[uuid.UUID, int]) -> None:
    """Give places back (cancelled or refunded tickets), locking in sorted order."""
    locked = await lock_sorted(conn, [q for q, n in counts.items() if n])
    await _add(conn, {q: -n for q, n in counts.items()}, "sold")
    await bump_epoch(conn, [row.festival_id for row in locked])


async def _add(conn: AsyncConnection, deltas: Mapping[uuid.UUID, int], column: str) -> None:
    items = [{"quota": q, "delta": d} for q, d in sorted(deltas.items()) if d]
    if not items:
        return
    await conn.execute(
        sa.update(QUOTA)
        .where(QUOTA.c.id == sa.bindparam("quota"))
        .values({column: QUOTA.c[column] + sa.bindparam("delta")}),
        items,
    )


# --- "sold out", cached ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SoldOut:
    epoch: int
    until: datetime | None


class SoldOutCache:
    """Ticket types found sold out, per worker: a crowd refreshing a sold-out type is
    answered without reaching the quota rows.

    An entry holds while the festival's capacity epoch (``ticket_capacity_epoch``, read
    with the ticket types on every order) is the one it was made at, and until the
    earliest hold on its full quotas lapses. Whoever gives capacity back moves the epoch
    in the same transaction, so every worker sees the change as soon as it commits: no
    message can be lost and no place freed stays hidden. A type is per day (its days are
    fixed once it sells), so this is the sold-out state per type and day.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[uuid.UUID, _SoldOut] = {}
        self._max = max_entries

    def sold_out(
        self,
        type_ids: Iterable[uuid.UUID],
        epoch: int,
        now: datetime,
    ) -> list[uuid.UUID]:
        found = []
        for type_id in type_ids:
            entry = self._entries.get(type_id)
            if entry is None:
                continue
            if entry.epoch != epoch or (entry.until is not None and entry.until <= now):
                self._entries.pop(type_id, None)
                continue
            found.append(type_id)
        return found

    def mark(self, type_ids: Iterable[uuid.UUID], epoch: int, until: datetime | None) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        for type_id in type_ids:
            self._entries[type_id] = _SoldOut(epoch, until)

    def clear(self) -> None:
        self._entries.clear()


SOLD_OUT = SoldOutCache()
