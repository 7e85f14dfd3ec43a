"""What withdrawing an entry would give back, before it happens.

``preview`` answers with the refund the published rule (``fees.refund_for``) gives if the
entry were withdrawn now: the very function ``EntryService.withdraw`` calls, with the same
inputs (what was paid and refunded, the race's close, whether the freed place is taken
from the waiting list at once). Nothing is changed or locked; the real withdrawal decides
again, so a preview shown a minute before can only differ if the race changed meanwhile
(someone joined or left the waiting list, the entries closed).
"""

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import Conflict
from events.registration import fees, schemas
from events.registration.models import ACTIVE, HOLDS_PLACE, Entry, EntryStatus, Race
from events.registration.services import Actor, EntryService


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


async def preview(session: AsyncSession, actor: Actor, entry_id: str) -> schemas.RefundRead:
    """The refund a withdrawal now would give (409 ``entry_not_active`` when it cannot be
    withdrawn)."""
    entry = await EntryService(session)._entry(actor, entry_id)
    if entry.status not in ACTIVE:
        raise Conflict(f"This entry is already {entry.status}.", code="entry_not_active")
    race = await session.get_one(Race, entry.race_id)
    refund = fees.refund_for(
        entry,
        race,
        utcnow(),
        new_status=EntryStatus.WITHDRAWN,
        place_refilled=await _waiting_list_refills(session, entry, race),
    )
    return schemas.RefundRead(
        amount=refund.amount,
        currency=entry.currency,
        rule=refund.rule,
        policy=fees.REFUND_POLICY["en"],
        payment_id=str(entry.payment_id) if entry.payment_id else None,
    )
