"""What orders and tickets share: locking an order, ending tickets, revoking their tokens.

Nothing here commits.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.upsert import insert
from events.payments import services as payment_services
from events.ticketing import capacity
from events.ticketing.models import ORDER, REVOCATION, TICKET, OrderStatus, TicketStatus


def _advisory_key(festival_id: uuid.UUID) -> int:
    return int.from_bytes(festival_id.bytes[:8], "big", signed=True)


async def _release_tickets(conn: AsyncConnection, rows: Sequence[Any], now: datetime) -> None:
    """Give the places of these (no longer valid) tickets back to their quotas."""
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for row in rows:
        counts[row.ticket_type_id] += 1
    by_type, _ = await capacity.coverage(conn, counts, now)
    await capacity.unsell(conn, capacity.needs_of(counts, by_type))


async def revoke(
    conn: AsyncConnection, festival_id: uuid.UUID, rows: Sequence[Any], reason: str, now: datetime
) -> None:
    """Put tokens on the revocation list.

    On PostgreSQL the festival's revocations are serialised by an advisory lock, so their
    ids are handed out in commit order and ``id > cursor`` never skips a late commit.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_advisory_key(festival_id))))
    await conn.execute(
        insert(conn, REVOCATION).on_conflict_do_nothing(index_elements=["ticket_id", "serial"]),
        [
            {
                "festival_id": festival_id,
                "ticket_id": r.id,
                "serial": r.serial,
                "kid": r.kid,
                "reason": reason,
                "revoked_at": now,
            }
            for r in rows
        ],
    )


async def end_tickets(
    conn: AsyncConnection,
    festival_id: uuid.UUID,
    rows: Sequence[Any],
    status: TicketStatus,
    now: datetime,
) -> None:
    """Mark valid tickets cancelled/refunded: revoke their tokens, free their places."""
    if not rows:
        return
    await conn.execute(
        sa.update(TICKET)
        .where(TICKET.c.id.in_([r.id for r in rows]))
        .values(status=status, canceled_at=now)
    )
    await revoke(conn, festival_id, rows, str(status), now)
    await _release_tickets(conn, rows, now)


async def lock_order(conn: AsyncConnection, order_id: uuid.UUID) -> Any:
    return (
        await conn.execute(sa.select(ORDER).where(ORDER.c.id == order_id).with_for_update())
    ).first()


async def lock_payment_then_order(
    session: AsyncSession, settings: Settings, order_id: uuid.UUID
) -> Any:
    """Lock an order for a change that may move its payment. The payment is locked first,
    as the payments domain does before it calls the handler (payment, then order), so a
    refund here and a webhook there queue up instead of deadlocking."""
    conn = await session.connection()
    payment_id = (
        await conn.execute(sa.select(ORDER.c.payment_id).where(ORDER.c.id == order_id))
    ).scalar_one_or_none()
    if payment_id is not None:
        await payment_services.PaymentService(session, settings).lock(payment_id)
    return await lock_order(conn, order_id)


async def valid_tickets(
    conn: AsyncConnection, order_id: uuid.UUID, ticket_ids: Sequence[uuid.UUID] | None = None
) -> list[Any]:
    query = sa.select(
        TICKET.c.id, TICKET.c.serial, TICKET.c.kid, TICKET.c.ticket_type_id, TICKET.c.price
    ).where(TICKET.c.order_id == order_id, TICKET.c.status == TicketStatus.VALID)
    if ticket_ids is not None:
        query = query.where(TICKET.c.id.in_(ticket_ids))
    return list((await conn.execute(query.order_by(TICKET.c.id).with_for_update())).all())


async def settle_order_status(
    conn: AsyncConnection, order_id: uuid.UUID, now: datetime, reason: str
) -> None:
    """An order whose tickets are all gone becomes refunded (money went back) or cancelled."""
    counts = {
        status: int(n)
        for status, n in await conn.execute(
            sa.select(TICKET.c.status, sa.func.count())
            .where(TICKET.c.order_id == order_id)
            .group_by(TICKET.c.status)
        )
    }
    if counts.get(TicketStatus.VALID, 0):
        return
    status = OrderStatus.REFUNDED if counts.get(TicketStatus.REFUNDED) else OrderStatus.CANCELED
    await conn.execute(
        sa.update(ORDER)
        .where(ORDER.c.id == order_id)
        .values(status=status, canceled_at=now, cancel_reason=reason[:200], updated_at=now)
    )
