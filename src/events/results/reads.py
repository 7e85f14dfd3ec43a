"""Reads the results modules share: a race's latest result version, its rows, its start
list and its open objections."""

import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.ids import parse_id
from events.registration import entries as registration_entries
from events.registration import races as registration_races
from events.registration.models import Race
from events.results.models import (
    Objection,
    ObjectionStatus,
    ResultRow,
    ResultVersion,
    StartList,
    StartPosition,
)


async def race(session: AsyncSession, race_id: str | uuid.UUID) -> Race:
    return await registration_races.RaceService(session).get(race_id)


async def lock_race(session: AsyncSession, race_id: str | uuid.UUID) -> Race:
    """The race row, locked for this transaction: one change to its results at a time."""
    race_uuid = race_id if isinstance(race_id, uuid.UUID) else parse_id(race_id, "race")
    return await registration_entries.EntryService(session).lock_race(race_uuid)


async def latest_version(session: AsyncSession, race_id: uuid.UUID) -> ResultVersion | None:
    return (
        await session.exec(
            select(ResultVersion)
            .where(ResultVersion.race_id == race_id)
            .order_by(col(ResultVersion.number).desc())
            .limit(1)
        )
    ).first()


async def latest_versions(
    session: AsyncSession, race_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ResultVersion]:
    if not race_ids:
        return {}
    rows = (
        await session.exec(
            select(ResultVersion)
            .where(col(ResultVersion.race_id).in_(list(race_ids)))
            .order_by(col(ResultVersion.race_id), col(ResultVersion.number))
        )
    ).all()
    return {row.race_id: row for row in rows}  # the last (highest number) wins


async def rows_of(
    session: AsyncSession, version_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ResultRow]]:
    found: dict[uuid.UUID, list[ResultRow]] = {v: [] for v in version_ids}
    if version_ids:
        for row in (
            await session.exec(
                select(ResultRow)
                .where(col(ResultRow.version_id).in_(list(version_ids)))
                .order_by(
                    col(ResultRow.place).is_(None),
                    col(ResultRow.place),
                    col(ResultRow.status),
                    col(ResultRow.id),
                )
            )
        ).all():
            found[row.version_id].append(row)
    return found


async def start_list(session: AsyncSession, race_id: uuid.UUID) -> StartList | None:
    return (await session.exec(select(StartList).where(StartList.race_id == race_id))).first()


async def positions(
    session: AsyncSession, race_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StartPosition]]:
    found: dict[uuid.UUID, list[StartPosition]] = {r: [] for r in race_ids}
    if race_ids:
        for row in (
            await session.exec(
                select(StartPosition)
                .where(col(StartPosition.race_id).in_(list(race_ids)))
                .order_by(col(StartPosition.draw_order))
            )
        ).all():
            found[row.race_id].append(row)
    return found


async def open_objections(session: AsyncSession, race_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The races (of ``race_ids``) with an objection still open."""
    if not race_ids:
        return set()
    return set(
        (
            await session.exec(
                select(col(Objection.race_id)).where(
                    col(Objection.race_id).in_(list(race_ids)),
                    Objection.status == ObjectionStatus.OPEN,
                )
            )
        ).all()
    )
