"""Entry figures for the organisers' dashboard: entries of a festival by status."""

import uuid

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from events.registration.models import Entry, EntryStatus


async def entries_by_status(
    session: AsyncSession, festival_id: uuid.UUID
) -> dict[EntryStatus, int]:
    """Every status, with 0 for those no entry has (one grouped count)."""
    query = (
        sa.select(col(Entry.status), sa.func.count())
        .where(col(Entry.festival_id) == festival_id)
        .group_by(col(Entry.status))
    )
    rows = (await (await session.connection()).execute(query)).all()
    counts = {EntryStatus(status): int(n) for status, n in rows}
    return {status: counts.get(status, 0) for status in EntryStatus}
