"""What the category, award and prize-list services share: the festival they work in and
the prize list's lock.

Each change takes a shared lock on the festival's ``prize_list`` row; locking and imports
take an exclusive one, so no change slips in after a lock and two imports of the same file
run one after the other. A locked prize list refuses every change with 409
``prize_list_locked``.

Services never commit: the request (or the CLI's transaction) does.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards.models import (
    Award,
    AwardCategory,
    AwardPayeeShare,
    LockReason,
    PrizeList,
    PrizeListStatus,
)
from events.db.base import table_of
from events.db.upsert import insert
from events.errors import Conflict
from events.festivals import services as festival_services
from events.festivals.models import Festival


class FestivalScoped:
    """A service over one festival's awards data."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.festivals = festival_services.FestivalService(session)

    async def festival(self, festival_id: str | uuid.UUID) -> Festival:
        return await self.festivals.get(festival_id)


async def prize_list_row(
    session: AsyncSession, festival_id: uuid.UUID, *, exclusive: bool
) -> PrizeList:
    """The festival's prize list row, created on first use, locked for this transaction
    (shared for changes to awards, exclusive to change the list itself)."""
    await session.exec(
        insert(await session.connection(), table_of(PrizeList))
        .values(**PrizeList(festival_id=festival_id).model_dump())
        .on_conflict_do_nothing(index_elements=["festival_id"])
    )
    return (
        await session.exec(
            select(PrizeList)
            .where(PrizeList.festival_id == festival_id)
            .with_for_update(read=not exclusive)
            .execution_options(populate_existing=True)
        )
    ).one()


async def editable(
    session: AsyncSession, festival_id: uuid.UUID, *, exclusive: bool = False
) -> PrizeList:
    """The prize list row, locked; 409 ``prize_list_locked`` when the list is locked."""
    row = await prize_list_row(session, festival_id, exclusive=exclusive)
    if row.status == PrizeListStatus.LOCKED:
        why = (
            "results are official"
            if row.lock_reason == LockReason.RESULTS_OFFICIAL
            else "the organiser locked it"
        )
        raise Conflict(
            f"The prize list is locked ({why}); it cannot be changed.",
            code="prize_list_locked",
        )
    return row


async def count(
    session: AsyncSession, model: type[Award] | type[AwardCategory], festival_id: uuid.UUID
) -> int:
    return int(
        (
            await session.exec(
                select(func.count()).select_from(model).where(col(model.festival_id) == festival_id)
            )
        ).one()
    )


async def delete_awards(
    session: AsyncSession,
    category_ids: Sequence[uuid.UUID],
    *,
    award_ids: Sequence[uuid.UUID] = (),
) -> int:
    """Delete awards (and their payee shares) by category or by id; returns how many."""
    condition = (
        col(Award.category_id).in_(category_ids) if category_ids else col(Award.id).in_(award_ids)
    )
    ids = list((await session.exec(select(Award.id).where(condition))).all())
    if not ids:
        return 0
    await session.exec(sa.delete(AwardPayeeShare).where(col(AwardPayeeShare.award_id).in_(ids)))
    await session.exec(sa.delete(Award).where(col(Award.id).in_(ids)))
    return len(ids)
