"""Races: creating and changing one (a field cannot shrink below the places held; a larger
field moves the waiting list up), and reading races with their day's date and waiting list.
Services flush; the request commits."""

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from events.festivals import reads as festival_reads
from events.festivals import services as festival_services
from events.festivals.models import Festival, FestivalDay
from events.ids import parse_id
from events.registration import schemas
from events.registration.common import _maybe_id
from events.registration.mappers import race_read
from events.registration.models import (
    Entry,
    EntryStatus,
    Race,
)
from events.registration.places import RacePlaces


def _check_race(race: Race, day: FestivalDay) -> list[FieldError]:
    errors = []
    if race.entries_close_at <= race.entries_open_at:
        errors.append(FieldError("entries_close_at", "The entries must close after they open."))
    if race.late_close_at is not None and race.late_close_at <= race.entries_close_at:
        errors.append(FieldError("late_close_at", "The final close must come after the close."))
    if race.age_min is not None and race.age_max is not None and race.age_min > race.age_max:
        errors.append(FieldError("age_max", "The maximum age is below the minimum."))
    if (
        race.height_min_cm is not None
        and race.height_max_cm is not None
        and race.height_min_cm > race.height_max_cm
    ):
        errors.append(FieldError("height_max_cm", "The maximum height is below the minimum."))
    if (
        race.rider_min_age is not None
        and race.rider_max_age is not None
        and race.rider_min_age > race.rider_max_age
    ):
        errors.append(FieldError("rider_max_age", "The maximum rider age is below the minimum."))
    return errors


class RaceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _day(self, festival_id: uuid.UUID, day_id: str) -> FestivalDay:
        key = _maybe_id(day_id, "festival day", "day_id")
        day = (await festival_reads.days(self.session, [key], festival_id=festival_id)).get(key)
        if day is None:
            raise ValidationFailed([FieldError("day_id", f"No day {day_id!r} at this festival.")])
        return day

    @staticmethod
    def _category(value: str | None) -> uuid.UUID | None:
        return None if value is None else _maybe_id(value, "award category", "award_category_id")

    async def create(self, festival_id: str, data: schemas.RaceIn) -> Race:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        day = await self._day(festival.id, data.day_id)
        race = Race(
            festival_id=festival.id,
            day_id=day.id,
            currency=festival.currency,
            award_category_id=self._category(data.award_category_id),
            **data.model_dump(exclude={"day_id", "award_category_id"}),
        )
        errors = _check_race(race, day)
        if errors:
            raise ValidationFailed(errors)
        taken = (
            await self.session.exec(
                select(Race.id).where(Race.festival_id == festival.id, Race.code == data.code)
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"The race code {data.code!r} is taken at this festival.", code="race_code_taken"
            )
        self.session.add(race)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"The race code {data.code!r} is taken at this festival.", code="race_code_taken"
            ) from exc
        return race

    async def open_for_entries(self, now: dt.datetime) -> list[tuple[schemas.RaceRead, Festival]]:
        """Races taking entries now (on time or late), of every festival."""
        still_open = sa.or_(col(Race.entries_close_at) >= now, col(Race.late_close_at) >= now)
        rows = (
            await self.session.exec(
                select(Race, col(FestivalDay.date), Festival)
                .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
                .join(Festival, col(Festival.id) == Race.festival_id)
                .where(col(Race.entries_open_at) <= now, still_open)
                .order_by(col(FestivalDay.date), col(Race.code))
            )
        ).all()
        waiting = await self._waiting([race.id for race, _, _ in rows])
        return [
            (race_read(race, date, waiting.get(race.id, 0), now), festival)
            for race, date, festival in rows
        ]

    async def get(self, race_id: str | uuid.UUID) -> Race:
        race = await self.session.get(Race, parse_id(race_id, "race"))
        if race is None:
            raise NotFound(f"No race with id {str(race_id)!r}.")
        return race

    async def update(self, race_id: str, data: schemas.RaceUpdate) -> Race:
        race = await RacePlaces(self.session).lock_race(parse_id(race_id, "race"))
        changes = data.model_dump(exclude_unset=True)
        for required in (
            "day_id",
            "name_zh",
            "name_en",
            "distance_m",
            "field_size",
            "entries_open_at",
            "entries_close_at",
            "registration_fee",
            "start_fee",
            "late_fee",
            "local_provinces",
            "local_counties",
        ):
            if required in changes and changes[required] is None:
                raise ValidationFailed([FieldError(required, "This cannot be cleared.")])
        if "day_id" in changes:
            changes["day_id"] = (await self._day(race.festival_id, changes["day_id"])).id
        if "award_category_id" in changes:
            changes["award_category_id"] = self._category(changes["award_category_id"])
        size = changes.get("field_size")
        if size is not None and size < race.entered:
            raise Conflict(
                f"{race.entered} places are held; the field cannot shrink to {size}. "
                "Scratch or withdraw entries first.",
                code="field_size_below_entered",
            )
        for field, value in changes.items():
            setattr(race, field, value)
        race.updated_at = utcnow()
        errors = _check_race(race, await self.session.get_one(FestivalDay, race.day_id))
        if errors:
            raise ValidationFailed(errors)
        self.session.add(race)
        await self.session.flush()
        if size is not None:
            await RacePlaces(self.session).fill_from_waiting_list(race)
        return race

    async def of_festival(self, festival_id: str) -> list[schemas.RaceRead]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        rows = (
            await self.session.exec(
                select(Race, col(FestivalDay.date))
                .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
                .where(Race.festival_id == festival.id)
                .order_by(col(FestivalDay.date), col(Race.code))
            )
        ).all()
        waiting = await self._waiting([race.id for race, _ in rows])
        now = utcnow()
        return [race_read(race, date, waiting.get(race.id, 0), now) for race, date in rows]

    async def read(self, race: Race) -> schemas.RaceRead:
        day = await self.session.get_one(FestivalDay, race.day_id)
        waiting = await self._waiting([race.id])
        return race_read(race, day.date, waiting.get(race.id, 0), utcnow())

    async def _waiting(self, race_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not race_ids:
            return {}
        rows = await self.session.exec(
            select(col(Entry.race_id), sa.func.count())
            .where(col(Entry.race_id).in_(race_ids), Entry.status == EntryStatus.WAITING)
            .group_by(col(Entry.race_id))
        )
        return {race_id: int(n) for race_id, n in rows.all()}
