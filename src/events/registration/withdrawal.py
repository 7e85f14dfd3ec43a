"""What a withdrawal (or a scratch) would refund, before anyone confirms it.

The same rule as ``EntryService._leave`` (``fees.refund_for``), read without changing
anything: the place counts as refilled when the entry holds a place and someone is waiting
for it (the waiting list moves up the moment the place frees).
"""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import Conflict, NotFound
from events.registration import fees
from events.registration.models import ACTIVE, HOLDS_PLACE, Entry, EntryStatus, Race
from events.registration.services import parse_id


async def refund_preview(
    session: AsyncSession,
    entry_id: str,
    *,
    to: EntryStatus = EntryStatus.WITHDRAWN,
    at: dt.datetime | None = None,
) -> tuple[Entry, fees.Refund]:
    """The entry and what leaving it (``to``: withdrawn or scratched) would refund now."""
    entry = await session.get(Entry, parse_id(entry_id, "entry"))
    if entry is None:
        raise NotFound(f"No entry with id {entry_id!r}.")
    if entry.status not in ACTIVE:
        raise Conflict(f"This entry is already {entry.status}.", code="entry_not_active")
    race = await session.get_one(Race, entry.race_id)
    waiting = (
        await session.exec(
            select(sa.func.count())
            .select_from(Entry)
            .where(Entry.race_id == race.id, Entry.status == EntryStatus.WAITING)
        )
    ).one()
    refilled = EntryStatus(entry.status) in HOLDS_PLACE and int(waiting) > 0
    refund = fees.refund_for(entry, race, at or utcnow(), new_status=to, place_refilled=refilled)
    return entry, refund
