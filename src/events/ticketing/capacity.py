"""Capacity: which quotas a ticket type counts against, and the atomic take.

The rule (research/ticketing.md §4.2): a quota's capacity is taken by its sold tickets
(``ticket_quota.sold``) plus the unexpired holds of pending orders
(``ticket_quota_hold.expires_at > now``). Expired holds are simply not counted, so no
background worker is needed for capacity to come back.

The decision is made in the database, never from a cache:

1. lock the quota rows the order needs, in sorted id order (no deadlocks), with a lock
   timeout (PostgreSQL ``lock_timeout``; a timeout is ``503 capacity_busy``);
2. in a *new* statement (READ COMMITTED: a fresh snapshot, so it sees every hold
   committed by the transactions we waited for) sum the unexpired holds of other orders;
3. take (insert holds) or sell (``sold = sold + n``) only if every quota has room.

Every writer of ``sold`` or of holds takes the quota locks first, in the same order.
Releasing needs no check: it only frees capacity. ``CHECK (sold <= size)`` backs it up.
All SQL here is Core on the request's connection: no ORM objects on the purchase path.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.errors import ServiceUnavailable
from events.ticketing.models import QuotaHold, TicketQuota, TicketType, TicketTypeDay

QUOTA: Any = TicketQuota.__table__  # type: ignore[attr-defined]
HOLD: Any = QuotaHold.__table__  # type: ignore[attr-defined]
TYPE: Any = TicketType.__table__  # type: ignore[attr-defined]
TYPE_DAY: Any = TicketTypeDay.__table__  # type: ignore[attr-defined]

LOCK_NOT_AVAILABLE = "55P03"


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
    day_match = sa.exists().where(TYPE_DAY.c.ticket_type_id == TYPE.c.id,
                                  TYPE_DAY.c.day_id == QUOTA.c.day_id)
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
    return (sa.select(sa.func.coalesce(sa.func.sum(HOLD.c.quantity), 0)).where(*condition)
            .scalar_subquery())


async def coverage(conn: AsyncConnection, type_ids: Iterable[uuid.UUID], now: datetime,
                   ) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, QuotaState]]:
    """For each type, the quotas it counts against; and each quota's state (not locked:
    for listing and for refusing early, never for the decision)."""
    ids = list(type_ids)
    if not ids:
        return {}, {}
    rows = await conn.execute(
        sa.select(TYPE.c.id, QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now))
        .select_from(TYPE.join(QUOTA, _matches())).where(TYPE.c.id.in_(ids)))
    by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    states: dict[uuid.UUID, QuotaState] = {}
    for type_id, quota_id, size, sold, held in rows:
        by_type[type_id].append(quota_id)
        states[quota_id] = QuotaState(quota_id, size, sold, int(held))
    return dict(by_type), states


async def festival_coverage(conn: AsyncConnection, festival_id: uuid.UUID, now: datetime,
                            ) -> tuple[dict[uuid.UUID, list[uuid.UUID]],
                                       dict[uuid.UUID, QuotaState]]:
    """``coverage`` for every ticket type of a festival, in one statement."""
    rows = await conn.execute(
        sa.select(TYPE.c.id, QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now))
        .select_from(TYPE.join(QUOTA, _matches())).where(TYPE.c.festival_id == festival_id))
    by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    states: dict[uuid.UUID, QuotaState] = {}
    for type_id, quota_id, size, sold, held in rows:
        by_type[type_id].append(quota_id)
        states[quota_id] = QuotaState(quota_id, size, sold, int(held))
    return dict(by_type), states


async def quota_states(conn: AsyncConnection, festival_id: uuid.UUID, now: datetime,
                       ) -> dict[uuid.UUID, QuotaState]:
    rows = await conn.execute(sa.select(QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold, _held_now(now))
                              .where(QUOTA.c.festival_id == festival_id))
    return {q: QuotaState(q, size, sold, int(held)) for q, size, sold, held in rows}


def needs_of(quantities: Mapping[uuid.UUID, int],
             by_type: Mapping[uuid.UUID, list[uuid.UUID]]) -> dict[uuid.UUID, int]:
    """How many places each quota must give for ``quantities`` (per ticket type)."""
    needs: dict[uuid.UUID, int] = defaultdict(int)
    for type_id, quantity in quantities.items():
        for quota_id in by_type.get(type_id, []):
            needs[quota_id] += quantity
    return dict(needs)


def short_quotas(needs: Mapping[uuid.UUID, int], states: Mapping[uuid.UUID, QuotaState],
                 ) -> list[uuid.UUID]:
    return sorted(q for q, n in needs.items() if q not in states or states[q].available < n)


async def lock(conn: AsyncConnection, needs: Mapping[uuid.UUID, int], now: datetime, *,
               exclude_order: uuid.UUID | None, lock_timeout_ms: int,
               ) -> dict[uuid.UUID, QuotaState]:
    """Lock the quotas in ``needs`` (sorted) and read their state, fresh, for the decision.

    The locks last until the transaction ends. Holds of ``exclude_order`` are not counted
    (an order turning its own hold into tickets).
    """
    ids = sorted(needs)
    if not ids:
        return {}
    postgres = conn.dialect.name == "postgresql"
    try:
        if postgres:
            await conn.execute(sa.select(sa.func.set_config(
                "lock_timeout", f"{int(lock_timeout_ms)}ms", True)))
        locked = await conn.execute(
            sa.select(QUOTA.c.id, QUOTA.c.size, QUOTA.c.sold).where(QUOTA.c.id.in_(ids))
            .order_by(QUOTA.c.id).with_for_update())
        rows = {quota_id: (size, sold) for quota_id, size, sold in locked}
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE or "lock timeout" in str(
                exc.orig):
            raise ServiceUnavailable("Tickets are selling fast; please try again.",
                                     code="capacity_busy") from exc
        raise
    # A new statement, so a fresh snapshot: it sees the holds of the transactions whose
    # locks we waited for. (Summing in the locking statement would read a stale snapshot.)
    condition = [HOLD.c.quota_id.in_(ids), HOLD.c.expires_at > now]
    if exclude_order is not None:
        condition.append(HOLD.c.order_id != exclude_order)
    held = {quota_id: int(total) for quota_id, total in await conn.execute(
        sa.select(HOLD.c.quota_id, sa.func.sum(HOLD.c.quantity)).where(*condition)
        .group_by(HOLD.c.quota_id))}
    return {q: QuotaState(q, size, sold, int(held.get(q, 0))) for q, (size, sold) in rows.items()}


async def hold(conn: AsyncConnection, order_id: uuid.UUID, needs: Mapping[uuid.UUID, int],
               expires_at: datetime) -> None:
    await conn.execute(sa.insert(HOLD), [
        {"order_id": order_id, "quota_id": q, "quantity": n, "expires_at": expires_at}
        for q, n in sorted(needs.items())])


async def release_holds(conn: AsyncConnection, order_id: uuid.UUID) -> None:
    await conn.execute(sa.delete(HOLD).where(HOLD.c.order_id == order_id))


async def sell(conn: AsyncConnection, needs: Mapping[uuid.UUID, int]) -> None:
    """``sold += n`` on quotas already locked by ``lock``."""
    await _add_sold(conn, needs)


async def unsell(conn: AsyncConnection, counts: Mapping[uuid.UUID, int]) -> None:
    """Give places back (cancelled or refunded tickets), locking in sorted order."""
    await _add_sold(conn, {q: -n for q, n in counts.items()})


async def _add_sold(conn: AsyncConnection, deltas: Mapping[uuid.UUID, int]) -> None:
    items = [{"quota": q, "delta": d} for q, d in sorted(deltas.items()) if d]
    if not items:
        return
    await conn.execute(
        sa.update(QUOTA).where(QUOTA.c.id == sa.bindparam("quota"))
        .values(sold=QUOTA.c.sold + sa.bindparam("delta")), items)
