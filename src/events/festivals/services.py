"""Rules for festivals, their meetings, days and gates."""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals import schemas
from events.festivals.models import Festival, FestivalDay, Gate, Meeting
from events.ids import parse_id


def _check_timezone(name: str, field: str = "timezone") -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            [
                FieldError(
                    field, f"Unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'."
                )
            ]
        ) from None
    if name not in available_timezones() and name != "UTC":
        raise ValidationFailed([FieldError(field, f"Unknown time zone {name!r}.")])


class FestivalService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, festival_id: str | uuid.UUID) -> Festival:
        key = (
            festival_id if isinstance(festival_id, uuid.UUID) else parse_id(festival_id, "festival")
        )
        festival = await self.session.get(Festival, key)
        if festival is None:
            raise NotFound(f"No festival with id {str(festival_id)!r}.")
        return festival

    async def get_by_slug(self, slug: str) -> Festival | None:
        return (await self.session.exec(select(Festival).where(Festival.slug == slug))).first()

    async def list(
        self, *, limit: int, offset: int, q: str | None = None
    ) -> tuple[list[schemas.FestivalSummary], int]:
        query = select(Festival)
        count = select(func.count()).select_from(Festival)
        if q:
            pattern = f"%{q}%"
            cond = (
                col(Festival.name_zh).ilike(pattern)
                | col(Festival.name_en).ilike(pattern)
                | col(Festival.slug).ilike(pattern)
            )
            query = query.where(cond)
            count = count.where(cond)
        total = int((await self.session.exec(count)).one())
        festivals = (
            await self.session.exec(
                query.order_by(col(Festival.created_at).desc(), col(Festival.slug))
                .limit(limit)
                .offset(offset)
            )
        ).all()
        spans = await self._date_spans([f.id for f in festivals])
        items = [
            schemas.FestivalSummary(
                id=str(f.id),
                slug=f.slug,
                name_zh=f.name_zh,
                name_en=f.name_en,
                timezone=f.timezone,
                currency=f.currency,
                venue_zh=f.venue_zh,
                venue_en=f.venue_en,
                name_bo=f.name_bo,
                venue_bo=f.venue_bo,
                starts_on=spans.get(f.id, (None, None))[0],
                ends_on=spans.get(f.id, (None, None))[1],
            )
            for f in festivals
        ]
        return items, total

    async def _date_spans(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[dt.date | None, dt.date | None]]:
        if not ids:
            return {}
        rows = await self.session.exec(
            select(
                col(FestivalDay.festival_id),
                func.min(col(FestivalDay.date)),
                func.max(col(FestivalDay.date)),
            )
            .where(col(FestivalDay.festival_id).in_(ids))
            .group_by(col(FestivalDay.festival_id))
        )
        return {fid: (start, end) for fid, start, end in rows.all()}

    async def create(self, data: schemas.FestivalCreate) -> Festival:
        _check_timezone(data.timezone)
        errors: list[FieldError] = []
        seen_dates: set[object] = set()
        for m, meeting in enumerate(data.meetings):
            for d, day in enumerate(meeting.days):
                if day.date in seen_dates:
                    errors.append(
                        FieldError(f"meetings.{m}.days.{d}.date", f"{day.date} appears twice.")
                    )
                seen_dates.add(day.date)
        codes = [g.code for g in data.gates]
        for g, code in enumerate(codes):
            if codes.index(code) != g:
                errors.append(FieldError(f"gates.{g}.code", f"Gate code {code!r} appears twice."))
        if errors:
            raise ValidationFailed(errors)
        if await self.get_by_slug(data.slug) is not None:
            raise Conflict(f"A festival with the slug {data.slug!r} exists.", code="slug_taken")

        festival = Festival(
            **{
                k: getattr(data, k)
                for k in (
                    "slug",
                    "name_zh",
                    "name_en",
                    "name_bo",
                    "timezone",
                    "currency",
                    "venue_zh",
                    "venue_en",
                    "venue_bo",
                    "description_zh",
                    "description_en",
                )
            }
        )
        self.session.add(festival)
        await self._flush(f"A festival with the slug {data.slug!r} exists.", "slug_taken")
        for position, meeting in enumerate(data.meetings, start=1):
            await self._add_meeting(festival.id, position, meeting)
        for gate in data.gates:
            self.session.add(
                Gate(
                    festival_id=festival.id,
                    code=gate.code,
                    name_zh=gate.name_zh,
                    name_en=gate.name_en,
                )
            )
        await self.session.flush()
        return festival

    async def _add_meeting(
        self, festival_id: uuid.UUID, position: int, data: schemas.MeetingIn
    ) -> Meeting:
        # Parents are flushed first: without relationships the unit of work does not order
        # inserts by foreign key.
        meeting = Meeting(
            festival_id=festival_id, position=position, name_zh=data.name_zh, name_en=data.name_en
        )
        self.session.add(meeting)
        await self.session.flush()
        for day in sorted(data.days, key=lambda d: d.date):
            self.session.add(
                FestivalDay(
                    festival_id=festival_id,
                    meeting_id=meeting.id,
                    date=day.date,
                    name_zh=day.name_zh,
                    name_en=day.name_en,
                )
            )
        await self.session.flush()
        return meeting

    async def _flush(self, message: str, code: str) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(message, code=code) from exc

    async def update(self, festival_id: str, data: schemas.FestivalUpdate) -> Festival:
        festival = await self.get(festival_id)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "timezone" in changes:
            _check_timezone(changes["timezone"])
        for field, value in changes.items():
            setattr(festival, field, value)
        festival.updated_at = utcnow()
        self.session.add(festival)
        await self.session.flush()
        return festival

    async def add_meeting(self, festival_id: str, data: schemas.MeetingIn) -> Meeting:
        festival = await self.get(festival_id)
        existing = set(
            (
                await self.session.exec(
                    select(col(FestivalDay.date)).where(FestivalDay.festival_id == festival.id)
                )
            ).all()
        )
        errors = [
            FieldError(f"days.{i}.date", f"{d.date} already belongs to a meeting.")
            for i, d in enumerate(data.days)
            if d.date in existing
        ]
        dates = [d.date for d in data.days]
        errors += [
            FieldError(f"days.{i}.date", f"{d} appears twice.")
            for i, d in enumerate(dates)
            if dates.index(d) != i
        ]
        if errors:
            raise ValidationFailed(errors)
        position = (
            int(
                (
                    await self.session.exec(
                        select(func.coalesce(func.max(Meeting.position), 0)).where(
                            Meeting.festival_id == festival.id
                        )
                    )
                ).one()
            )
            + 1
        )
        return await self._add_meeting(festival.id, position, data)

    async def add_gate(self, festival_id: str, data: schemas.GateIn) -> Gate:
        festival = await self.get(festival_id)
        taken = (
            await self.session.exec(
                select(Gate.id).where(Gate.festival_id == festival.id, Gate.code == data.code)
            )
        ).first()
        if taken is not None:
            raise Conflict(f"The gate code {data.code!r} is taken.", code="gate_code_taken")
        gate = Gate(
            festival_id=festival.id, code=data.code, name_zh=data.name_zh, name_en=data.name_en
        )
        self.session.add(gate)
        await self._flush(f"The gate code {data.code!r} is taken.", "gate_code_taken")
        return gate

    async def gate_of(self, festival_id: str, gate_id: str) -> Gate:
        """The gate of this festival: a 404 names whichever of the two is not there."""
        festival = await self.get(festival_id)
        return await self.get_gate(festival.id, gate_id)

    async def get_gate(self, festival_id: uuid.UUID, gate_id: str) -> Gate:
        gate = await self.session.get(Gate, parse_id(gate_id, "gate"))
        if gate is None or gate.festival_id != festival_id:
            raise NotFound(f"No gate with id {gate_id!r} at this festival.")
        return gate

    async def update_gate(self, festival_id: str, gate_id: str, data: schemas.GateUpdate) -> Gate:
        festival = await self.get(festival_id)
        gate = await self.get_gate(festival.id, gate_id)
        for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(gate, field, value)
        self.session.add(gate)
        await self.session.flush()
        return gate

    async def days(self, festival_id: uuid.UUID) -> Sequence[FestivalDay]:
        rows = await self.session.exec(
            select(FestivalDay)
            .where(FestivalDay.festival_id == festival_id)
            .order_by(col(FestivalDay.date))
        )
        return rows.all()

    async def gates(self, festival_id: uuid.UUID) -> Sequence[Gate]:
        rows = await self.session.exec(
            select(Gate).where(Gate.festival_id == festival_id).order_by(col(Gate.code))
        )
        return rows.all()

    async def read(self, festival_id: str | uuid.UUID) -> schemas.FestivalRead:
        """The festival with its meetings, days and gates, in three queries."""
        festival = await self.get(festival_id)
        meetings = (
            await self.session.exec(
                select(Meeting)
                .where(Meeting.festival_id == festival.id)
                .order_by(col(Meeting.position))
            )
        ).all()
        days_by_meeting: dict[uuid.UUID, list[schemas.DayRead]] = defaultdict(list)
        all_days = await self.days(festival.id)
        for day in all_days:
            days_by_meeting[day.meeting_id].append(
                schemas.DayRead(
                    id=str(day.id), date=day.date, name_zh=day.name_zh, name_en=day.name_en
                )
            )
        meeting_reads = []
        for m in meetings:
            days = days_by_meeting[m.id]
            meeting_reads.append(
                schemas.MeetingRead(
                    id=str(m.id),
                    position=m.position,
                    name_zh=m.name_zh,
                    name_en=m.name_en,
                    starts_on=days[0].date if days else None,
                    ends_on=days[-1].date if days else None,
                    days=days,
                )
            )
        gates = [gate_read(g) for g in await self.gates(festival.id)]
        return schemas.FestivalRead(
            id=str(festival.id),
            slug=festival.slug,
            name_zh=festival.name_zh,
            name_en=festival.name_en,
            timezone=festival.timezone,
            currency=festival.currency,
            venue_zh=festival.venue_zh,
            venue_en=festival.venue_en,
            description_zh=festival.description_zh,
            description_en=festival.description_en,
            starts_on=all_days[0].date if all_days else None,
            ends_on=all_days[-1].date if all_days else None,
            meetings=meeting_reads,
            gates=gates,
            created_at=festival.created_at,
            updated_at=festival.updated_at,
            name_bo=festival.name_bo,
            venue_bo=festival.venue_bo,
        )


def gate_read(gate: Gate) -> schemas.GateRead:
    return schemas.GateRead(
        id=str(gate.id), code=gate.code, name_zh=gate.name_zh, name_en=gate.name_en
    )
