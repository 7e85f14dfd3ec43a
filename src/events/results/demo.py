"""Demo: a start list drawn for every race; the April meeting's first two days official,
its third day provisional, the July races not yet run.

* Day 1: the yak race (finish order, a dead heat for 2nd) and the youth-rider race (time,
  one rider disqualified, one DNF); day 2: the local pacing race (gait-legal time, horses
  that broke into a gallop disqualified by their faults). All official: their prize money
  is owed.
* Day 3: the khata pick-up (count), provisional.

Deterministic (fixed seeds, one seeded generator per race) and idempotent: a race with a
start list is not drawn again, a race with a result is not entered again. Results are
recorded at the race's time on its day (the objection window closes before it is declared
official).
"""

import datetime as dt
import random
from decimal import Decimal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role, User
from events.festivals.models import Festival
from events.registration import reads as registration_reads
from events.registration.models import Race
from events.results import reads, schemas
from events.results.models import DrawMethod, StarterResult
from events.results.payouts import prize_money_totals
from events.results.services import ResultService
from events.results.startlists import Actor, StartListService

SEED = 2027
RACE_TIME_UTC = dt.time(4, 0)  # 12:00 in Lhasa (Asia/Shanghai)


async def _actor(session: AsyncSession) -> Actor | None:
    user = (await session.exec(select(User).where(User.username == "official"))).first()
    if user is None:
        user = (await session.exec(select(User).where(User.role == Role.ORGANISER))).first()
    return Actor(user_id=user.id, role=user.role) if user else None


def _starters(code: str, entries: list[str], rng: random.Random) -> list[schemas.StarterIn]:
    if code == "yak":
        lines = [schemas.StarterIn(entry_id=e, place=i) for i, e in enumerate(entries, 1)]
        if len(lines) >= 4:  # a dead heat for 2nd: places 2 and 3 pooled, the next is 4th
            lines[1] = schemas.StarterIn(entry_id=entries[1], place=2, dead_heat=True)
            lines[2] = schemas.StarterIn(entry_id=entries[2], place=2, dead_heat=True)
        lines[-1] = schemas.StarterIn(entry_id=entries[-1], status=StarterResult.DNF)
        return lines
    if code == "youth-5k":
        times = sorted(rng.sample(range(55_000, 75_000), len(entries)))
        lines = [
            schemas.StarterIn(entry_id=e, time_hundredths=t)
            for e, t in zip(entries, times, strict=True)
        ]
        lines[0] = schemas.StarterIn(
            entry_id=entries[0],
            status=StarterResult.DSQ,
            reason="rider's whip used over the limit (stewards)",
        )
        lines[-1] = schemas.StarterIn(entry_id=entries[-1], status=StarterResult.DNF)
        return lines
    if code == "khata":
        return [schemas.StarterIn(entry_id=e, count=rng.randint(4, 20)) for e in entries]
    times = rng.sample(range(95_000, 130_000), len(entries))
    return [
        schemas.StarterIn(
            entry_id=e, time_hundredths=t, gait_faults=1 if rng.random() < 0.12 else 0
        )
        for e, t in zip(entries, times, strict=True)
    ]


RUN = {"yak": True, "youth-5k": True, "pacing-local-8k": True, "khata": False}
"""Race code → declared official (True) or left provisional (False)."""


async def demo_results(session: AsyncSession, festival: Festival) -> list[str]:
    actor = await _actor(session)
    if actor is None:
        return ["Results: no official or organiser account; nothing drawn."]
    start_lists = StartListService(session)
    results = ResultService(session)
    drawn = entered = declared = 0
    races: list[tuple[Race, dt.date]] = await registration_reads.festival_races(
        session, festival.id
    )
    for n, (race, date) in enumerate(races):
        if await reads.start_list(session, race.id) is None:
            await start_lists.draw(
                actor,
                str(race.id),
                schemas.DrawIn(
                    seed=SEED * 100 + n, method=DrawMethod.SEPARATED, include_unpaid=True
                ),
            )
            await start_lists.publish(actor, str(race.id))
            drawn += 1
        if race.code not in RUN or await reads.latest_version(session, race.id) is not None:
            continue
        listed = await start_lists.read(race.id, public=False)
        entries = [s.entry_id for s in listed.starters]
        rng = random.Random(f"{SEED}:{race.code}")
        at = dt.datetime.combine(date, RACE_TIME_UTC, tzinfo=dt.UTC)
        await results.submit(
            actor,
            str(race.id),
            schemas.ResultsIn(starters=_starters(race.code, entries, rng)),
            now=at,
        )
        entered += 1
        if RUN[race.code]:
            await results.declare_official(actor, str(race.id), now=at + dt.timedelta(hours=1))
            declared += 1
    totals = await _totals(session, festival)
    return [
        f"Results: {drawn} start lists drawn, {entered} races entered, {declared} declared official"
        if drawn or entered
        else "Results: start lists and results already there",
        f"  prize money owed {totals}",
    ]


async def _totals(session: AsyncSession, festival: Festival) -> str:
    found = await prize_money_totals(session, festival.id)
    return (
        f"{Decimal(found.owed) / 100:,.2f} yuan, paid {Decimal(found.paid) / 100:,.2f}, "
        f"held {Decimal(found.held) / 100:,.2f}"
    )
