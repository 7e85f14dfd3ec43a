"""Ticket figures for the organisers' dashboard: tickets sold since a moment."""

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from events.ticketing.models import Ticket, TicketStatus


async def tickets_sold_since(
    session: AsyncSession, festival_id: uuid.UUID, since: dt.datetime
) -> tuple[int, int]:
    """(tickets issued since ``since`` and still valid, their face value in minor units)."""
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(col(Ticket.price)), 0)).where(
        col(Ticket.festival_id) == festival_id,
        col(Ticket.status) == TicketStatus.VALID,
        col(Ticket.issued_at) >= since,
    )
    count, value = (await (await session.connection()).execute(query)).one()
    return int(count), int(value)
