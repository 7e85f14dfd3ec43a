"""What other domains read of festivals: days and gates by id, without touching its tables.

Ticketing checks that a ticket type's days and an enclosure's gates belong to the
festival; registration checks a race's day. They ask here instead of selecting from
``festival_day`` or ``gate`` themselves (docs/DEVELOPING.md, "Boundaries").
"""

import uuid
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.models import FestivalDay, Gate


async def days(
    session: AsyncSession, day_ids: Iterable[uuid.UUID], *, festival_id: uuid.UUID | None = None
) -> dict[uuid.UUID, FestivalDay]:
    """The days among ``day_ids`` that exist (and are this festival's, when given)."""
    query = select(FestivalDay).where(col(FestivalDay.id).in_(list(day_ids)))
    if festival_id is not None:
        query = query.where(FestivalDay.festival_id == festival_id)
    return {d.id: d for d in (await session.exec(query)).all()}


async def gate_ids(
    session: AsyncSession, festival_id: uuid.UUID, wanted: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The ids among ``wanted`` that are gates of this festival."""
    rows = await session.exec(
        select(Gate.id).where(col(Gate.id).in_(list(wanted)), Gate.festival_id == festival_id)
    )
    return set(rows.all())
