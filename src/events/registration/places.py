"""A race's places and its waiting list. Services flush; the request commits.

Places in a race are scarce (STYLE habit 6). Every change that takes or frees a place runs
under the race's row lock (``SELECT ... FOR UPDATE`` with a lock timeout on PostgreSQL),
and the place itself is taken by a conditional ``UPDATE race SET entered = entered + 1
WHERE entered < field_size RETURNING``, which alone would already refuse an overfill; a
check constraint on ``race`` is the last guard. Locks are taken in one order everywhere:
the payment (when one is involved), then the race, then the entry.
"""

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.db.locks import is_lock_timeout, set_lock_timeout
from events.errors import (
    NotFound,
    ServiceUnavailable,
)
from events.registration.models import (
    Entry,
    EntryEvent,
    EntryEventKind,
    EntryStatus,
    Race,
)

LOCK_TIMEOUT_MS = 10_000
"""How long to wait for a race's lock before answering 503 ``race_busy``."""


class RacePlaces:
    """A race's places and its waiting list, changed under the race's row lock: what
    entering, leaving and resizing a race's field share (``EntryService`` builds on it)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_race(self, race_id: uuid.UUID) -> Race:
        """The race, locked until the transaction ends: places change one at a time."""
        await set_lock_timeout(await self.session.connection(), LOCK_TIMEOUT_MS)
        try:
            race = (
                await self.session.exec(
                    select(Race)
                    .where(Race.id == race_id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).first()
        except DBAPIError as exc:
            if is_lock_timeout(exc):
                raise ServiceUnavailable(
                    "The race is busy; try again in a moment.", code="race_busy"
                ) from exc
            raise
        if race is None:
            raise NotFound(f"No race with id {race_id}.")
        return race

    async def _take_place(self, race: Race) -> bool:
        """One place, if the field has one: decided by the database, atomically."""
        taken = (
            await self.session.exec(
                sa.update(Race)
                .where(col(Race.id) == race.id, col(Race.entered) < col(Race.field_size))
                .values(entered=col(Race.entered) + 1)
                .returning(col(Race.entered))
            )
        ).first()
        if taken is None:
            return False
        set_committed_value(race, "entered", taken[0])
        return True

    async def _free_place(self, race: Race) -> None:
        left = (
            await self.session.exec(
                sa.update(Race)
                .where(col(Race.id) == race.id, col(Race.entered) > 0)
                .values(entered=col(Race.entered) - 1)
                .returning(col(Race.entered))
            )
        ).first()
        if left is not None:
            set_committed_value(race, "entered", left[0])

    async def _next_waitlist_position(self, race: Race) -> int:
        position = (
            await self.session.exec(
                sa.update(Race)
                .where(col(Race.id) == race.id)
                .values(waitlist_seq=col(Race.waitlist_seq) + 1)
                .returning(col(Race.waitlist_seq))
            )
        ).one()[0]
        set_committed_value(race, "waitlist_seq", position)
        return int(position)

    def _event(
        self,
        entry: Entry,
        kind: EntryEventKind,
        *,
        from_status: str | None = None,
        to_status: str | None = None,
        amount: int | None = None,
        detail: str = "",
        actor_id: uuid.UUID | None = None,
    ) -> None:
        self.session.add(
            EntryEvent(
                entry_id=entry.id,
                kind=kind,
                from_status=from_status,
                to_status=to_status,
                amount=amount,
                detail=detail[:500],
                actor_id=actor_id,
            )
        )

    def _move(
        self, entry: Entry, to: EntryStatus, *, detail: str = "", actor_id: uuid.UUID | None = None
    ) -> None:
        self._event(
            entry,
            EntryEventKind.STATUS,
            from_status=entry.status,
            to_status=to,
            detail=detail,
            actor_id=actor_id,
        )
        entry.status = to
        entry.status_changed_at = entry.updated_at = utcnow()
        self.session.add(entry)

    async def fill_from_waiting_list(self, race: Race) -> list[Entry]:
        """Move waiting entries up, in waiting-list order, while the (locked) race has
        places. A moved-up entry owes its fee (or is confirmed when it owes nothing)."""
        moved: list[Entry] = []
        while race.entered < race.field_size:
            entry = (
                await self.session.exec(
                    select(Entry)
                    .where(Entry.race_id == race.id, Entry.status == EntryStatus.WAITING)
                    .order_by(col(Entry.waitlist_position), col(Entry.created_at))
                    .limit(1)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).first()
            if entry is None or not await self._take_place(race):
                break
            position = entry.waitlist_position
            entry.waitlist_position = None
            paid = entry.amount_paid >= entry.fee_due
            self._move(
                entry,
                EntryStatus.CONFIRMED if paid else EntryStatus.PENDING_PAYMENT,
                detail=f"moved up from the waiting list (number {position})",
            )
            await self.session.flush()  # before the next query reloads waiting entries
            moved.append(entry)
        return moved
