"""Which races may this horse and rider enter? The open races, those they may enter
first, then the others with every reason they may not (``eligibility.check``, the same
rules the entry itself is checked by).
"""

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.models import Festival, FestivalDay
from events.registration import eligibility
from events.registration.eligibility import RuleFailure, Standing
from events.registration.models import ACTIVE, Entry, Horse, Owner, Race, Rider
from events.registration.races import RaceService
from events.registration.schemas import RaceRead


@dataclass(frozen=True, slots=True)
class RaceChoice:
    race: RaceRead
    festival: Festival
    failures: list[RuleFailure]

    @property
    def eligible(self) -> bool:
        return not self.failures


async def _standings(
    session: AsyncSession,
    race_ids: list[uuid.UUID],
    owner: Owner,
    horse_id: uuid.UUID,
    rider_id: uuid.UUID,
) -> dict[uuid.UUID, Standing]:
    active = (col(Entry.race_id).in_(race_ids), col(Entry.status).in_(ACTIVE))
    county: dict[uuid.UUID, int] = defaultdict(int)
    for race_id in (
        await session.exec(
            select(Entry.race_id).where(
                *active, Entry.province == owner.province, Entry.county == owner.county
            )
        )
    ).all():
        county[race_id] += 1
    rows = (
        await session.exec(
            select(Entry.race_id, Entry.horse_id, Entry.rider_id).where(
                *active, sa.or_(col(Entry.horse_id) == horse_id, col(Entry.rider_id) == rider_id)
            )
        )
    ).all()
    horses: set[uuid.UUID] = set()
    riders: set[uuid.UUID] = set()
    for race_id, horse, rider in rows:
        if horse == horse_id:
            horses.add(race_id)
        if rider == rider_id:
            riders.add(race_id)
    return {
        r: Standing(county_entries=county[r], horse_entered=r in horses, rider_entered=r in riders)
        for r in race_ids
    }


async def race_choices(
    session: AsyncSession, owner: Owner, horse: Horse, rider: Rider, now: dt.datetime
) -> list[RaceChoice]:
    """Every race open for entries now, eligible ones first (each group by date)."""
    races = await RaceService(session).open_for_entries(now)
    ids = [uuid.UUID(r.id) for r, _ in races]
    if not ids:
        return []
    models = {
        r.id: r for r in (await session.exec(select(Race).where(col(Race.id).in_(ids)))).all()
    }
    days = {
        d.id: d.date
        for d in (
            await session.exec(
                select(FestivalDay).where(
                    col(FestivalDay.id).in_([m.day_id for m in models.values()])
                )
            )
        ).all()
    }
    standings = await _standings(session, ids, owner, horse.id, rider.id)
    choices = []
    for read, festival in races:
        model = models[uuid.UUID(read.id)]
        failures = eligibility.check(
            model, days[model.day_id], horse, rider, owner, standings[model.id]
        )
        choices.append(RaceChoice(race=read, festival=festival, failures=failures))
    return sorted(choices, key=lambda c: not c.eligible)  # stable: dates kept in each group
