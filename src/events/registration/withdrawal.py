"""What withdrawing (or scratching) an entry would give back, before it happens.

The refund is the one the published rule (``fees.refund_for``) gives if the entry left now:
the very function ``EntryService.withdraw`` calls, with the same inputs (what was paid and
refunded, the race's close, whether the freed place is taken from the waiting list at
once). Nothing is changed or locked; the real withdrawal decides again, so a preview shown a
minute before can only differ if the race changed meanwhile (someone joined or left the
waiting list, the entries closed). Owners ask through ``preview`` (their own entries); the
console asks through ``refund_preview`` (any entry, withdrawn or scratched).
"""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import Conflict, NotFound
from events.ids import parse_id
from events.registration import fees, schemas
from events.registration.common import Actor
from events.registration.entries import EntryService
from events.registration.models import ACTIVE, HOLDS_PLACE, Entry, EntryStatus, Race


async def _waiting_list_refills(session: AsyncSession, entry: Entry, race: Race) -> bool:
    """Whether the place this entry frees goes to a waiting entry at once (as
    ``EntryService.fill_from_waiting_list`` would do it)."""
    if entry.status not in HOLDS_PLACE or race.entered - 1 >= race.field_size:
        return False
    waiting = (
        await session.exec(
            select(sa.func.count())
            .select_from(Entry)
            .where(
                Entry.race_id == race.id,
                col(Entry.status) == EntryStatus.WAITING,
                col(Entry.id) != entry.id,
            )
        )
    ).one()
    return int(waiting) > 0


async def _refund(
    session: AsyncSession, entry: Entry, to: EntryStatus, at: dt.datetime | None
) -> fees.Refund:
    if entry.status not in ACTIVE:
        raise Conflict(f"This entry is already {entry.status}.", code="entry_not_active")
    race = await session.get_one(Race, entry.race_id)
    return fees.refund_for(
        entry,
        race,
        at or utcnow(),
        new_status=to,
        place_refilled=await _waiting_list_refills(session, entry, race),
    )


async def preview(session: AsyncSession, actor: Actor, entry_id: str) -> schemas.RefundRead:
    """The refund a withdrawal now would give (409 ``entry_not_active`` when it cannot be
    withdrawn)."""
    entry = await EntryService(session)._entry(actor, entry_id)
    refund = await _refund(session, entry, EntryStatus.WITHDRAWN, None)
    return schemas.RefundRead(
        amount=refund.amount,
        currency=entry.currency,
        rule=refund.rule,
        policy=fees.REFUND_POLICY["en"],
        payment_id=str(entry.payment_id) if entry.payment_id else None,
    )


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
    return entry, await _refund(session, entry, to, at)
