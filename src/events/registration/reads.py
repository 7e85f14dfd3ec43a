"""Read-only queries other domains use: entry cards for start lists and results, a
festival's races with their dates, an account's owner profile, entries owing their fee."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.models import FestivalDay
from events.registration.models import (
    Entry,
    EntryStatus,
    Horse,
    Owner,
    Race,
    Rider,
)
from events.registration.owners import OwnerService


async def entries_awaiting_fee(
    session: AsyncSession, festival_id: uuid.UUID, *, limit: int
) -> list[tuple[uuid.UUID, int, str]]:
    """(entry id, fee due, currency) of entries waiting for their fee with no payment
    started, oldest first: for the funding demo's cash at the desk."""
    rows = await session.exec(
        select(Entry.id, Entry.fee_due, Entry.currency)
        .where(
            Entry.festival_id == festival_id,
            Entry.status == EntryStatus.PENDING_PAYMENT,
            col(Entry.payment_id).is_(None),
            Entry.fee_due > 0,
        )
        .order_by(col(Entry.created_at), col(Entry.id))
        .limit(limit)
    )
    return [(entry_id, int(fee), currency) for entry_id, fee, currency in rows.all()]


@dataclass(frozen=True, slots=True)
class EntryCard:
    """An entry as a start list or a result shows it."""

    entry_id: uuid.UUID
    race_id: uuid.UUID
    festival_id: uuid.UUID
    status: EntryStatus
    horse_id: uuid.UUID
    horse_name: str
    owner_id: uuid.UUID
    owner_name: str
    rider_id: uuid.UUID
    rider_name: str
    province: str
    county: str


def _card_query() -> Any:
    return (
        sa.select(
            col(Entry.id),
            col(Entry.race_id),
            col(Entry.festival_id),
            col(Entry.status),
            col(Entry.horse_id),
            col(Horse.name_zh),
            col(Entry.owner_id),
            col(Owner.name),
            col(Entry.rider_id),
            col(Rider.name),
            col(Entry.province),
            col(Entry.county),
        )
        .join(Horse, col(Horse.id) == Entry.horse_id)
        .join(Rider, col(Rider.id) == Entry.rider_id)
        .join(Owner, col(Owner.id) == Entry.owner_id)
    )


def _card(row: Sequence[Any]) -> EntryCard:
    return EntryCard(
        entry_id=row[0],
        race_id=row[1],
        festival_id=row[2],
        status=EntryStatus(row[3]),
        horse_id=row[4],
        horse_name=row[5],
        owner_id=row[6],
        owner_name=row[7],
        rider_id=row[8],
        rider_name=row[9],
        province=row[10],
        county=row[11],
    )


async def race_entries(
    session: AsyncSession, race_id: uuid.UUID, statuses: Sequence[EntryStatus]
) -> list[EntryCard]:
    """A race's entries in the given states, oldest first."""
    rows = (
        await session.exec(
            _card_query()
            .where(Entry.race_id == race_id, col(Entry.status).in_(list(statuses)))
            .order_by(col(Entry.created_at), col(Entry.id))
        )
    ).all()
    return [_card(row) for row in rows]


async def entry_cards(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EntryCard]:
    if not entry_ids:
        return {}
    rows = (await session.exec(_card_query().where(col(Entry.id).in_(list(entry_ids))))).all()
    return {row[0]: _card(row) for row in rows}


async def festival_races(
    session: AsyncSession, festival_id: uuid.UUID
) -> list[tuple[Race, dt.date]]:
    """A festival's races with their day's date, in running order (date, code)."""
    rows = (
        await session.exec(
            select(Race, col(FestivalDay.date))
            .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
            .where(Race.festival_id == festival_id)
            .order_by(col(FestivalDay.date), col(Race.code))
        )
    ).all()
    return [(race, date) for race, date in rows]


async def race_date(session: AsyncSession, race: Race) -> dt.date:
    return (await session.get_one(FestivalDay, race.day_id)).date


async def owner_id_for(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID:
    """The owner profile of a signed-in owner (404 when they have none yet)."""
    return (await OwnerService(session).for_user(user_id)).id
