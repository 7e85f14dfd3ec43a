"""Finding a festival's orders by what a buyer tells the ticket office: their e-mail
address, their phone number, or the order number (the first characters of its id, as
printed on the confirmation and in the console)."""

import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.festivals import services as festival_services
from events.ticketing import mappers, schemas
from events.ticketing.models import ORDER, TICKET, TicketStatus

NUMBER_LENGTH = 8
"""An order's number: the first eight hex digits of its id."""
_HEX = re.compile(r"[0-9a-f]{6,32}")
_PHONE_NOISE = re.compile(r"[\s\-()]")


def order_number(order_id: str | uuid.UUID) -> str:
    return str(order_id).replace("-", "")[:NUMBER_LENGTH].upper()


def matching(q: str) -> Any:
    """The condition an order meets when ``q`` is its e-mail, phone or number."""
    text = q.strip()
    found: list[Any] = [sa.func.lower(ORDER.c.email) == text.lower()]
    phone = _PHONE_NOISE.sub("", text)
    if phone:
        found.append(ORDER.c.phone == phone)
        if phone.startswith("+86"):
            found.append(ORDER.c.phone == phone[3:])
        else:
            found.append(ORDER.c.phone == f"+86{phone}")
    compact = text.replace("-", "").lower()
    if _HEX.fullmatch(compact):
        found.append(sa.func.replace(sa.cast(ORDER.c.id, sa.String), "-", "").like(f"{compact}%"))
    return sa.or_(*found)


async def find_orders(
    session: AsyncSession,
    festival_id: str,
    *,
    q: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[schemas.OrderSummary], int]:
    """The festival's orders (newest first), those matching ``q`` when given."""
    festival = await festival_services.FestivalService(session).get(festival_id)
    conn = await session.connection()
    conditions: list[Any] = [ORDER.c.festival_id == festival.id]
    if q and q.strip():
        conditions.append(matching(q))
    if status:
        conditions.append(ORDER.c.status == status)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(ORDER).where(*conditions))
    ).scalar_one()
    valid = (
        sa.select(sa.func.count())
        .where(TICKET.c.order_id == ORDER.c.id, TICKET.c.status == TicketStatus.VALID)
        .scalar_subquery()
    )
    rows = await conn.execute(
        sa.select(
            ORDER.c.id,
            ORDER.c.status,
            ORDER.c.email,
            ORDER.c.phone,
            ORDER.c.total,
            ORDER.c.currency,
            valid,
            ORDER.c.created_at,
            ORDER.c.paid_at,
            ORDER.c.expires_at,
        )
        .where(*conditions)
        .order_by(ORDER.c.created_at.desc(), ORDER.c.id)
        .limit(limit)
        .offset(offset)
    )
    now = utcnow()
    items = [mappers.order_summary(r, now) for r in rows]
    return items, int(total)
