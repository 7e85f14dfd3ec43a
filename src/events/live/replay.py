"""``events results replay``: run a race live for a demo, step by step, through the services.

A newcomer opens the results page or the overlay and watches a race go from its start list
to a provisional and then an official result, each step entered through the same services
the officials' routes use and published to the live feed like any other change (through
Redis, so a running server's pages move; without ``EVENTS_REDIS_URL`` only this process
would hear it, so the command says so and stops).
"""

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.access.services import UserService
from events.awards.models import RankingMethod
from events.config import Settings
from events.db.base import utcnow
from events.db.engine import Database
from events.errors import DomainError
from events.festivals.services import FestivalService
from events.live.wiring import create_feed, publishing
from events.results import reads, schemas
from events.results.models import DrawMethod
from events.results.services import ResultService, festival_results
from events.results.startlists import Actor, StartListService

STEP_SECONDS = 10.0
"""Seconds between steps at ``--speed 1``."""


class ReplayError(Exception):
    """The race cannot be replayed; the message says why and what to do."""


@dataclass(frozen=True)
class Race:
    id: uuid.UUID
    festival_id: uuid.UUID
    label: str
    ranked_by: str


async def _actor(session: AsyncSession) -> Actor:
    users = UserService(session)
    for name in ("official", "organiser"):
        user = await users.get_by_username(name)
        if user is not None and user.role in (Role.OFFICIAL, Role.ORGANISER):
            return Actor(user_id=user.id, role=user.role)
    raise ReplayError("No 'official' or 'organiser' account: run `events demo` first.")


async def _find(session: AsyncSession, race_ref: str, festival_ref: str | None) -> Race:
    """A race by id, or by code within the festival (by id or slug; the only one if
    there is just one)."""
    festivals = FestivalService(session)
    if festival_ref:
        festival = await festivals.get_by_slug(festival_ref) or await festivals.get(festival_ref)
        candidates = [festival.id]
    else:
        found, _ = await festivals.list(limit=500, offset=0)
        candidates = [uuid.UUID(str(f.id)) for f in found]
    for festival_id in candidates:
        for race in await festival_results(session, festival_id):
            if race_ref in (race.race_id, race.code):
                return Race(
                    uuid.UUID(race.race_id),
                    festival_id,
                    f"{race.code} {race.name_zh} / {race.name_en}",
                    race.ranked_by,
                )
    raise ReplayError(
        f"No race {race_ref!r}"
        + (f" in {festival_ref!r}" if festival_ref else "")
        + ": give its id or code "
        "(and --festival when several festivals have that code)."
    )


def _starters(ranked_by: str, entries: list[str], rng: random.Random) -> list[schemas.StarterIn]:
    """A plausible result in the category's own method, the same for the same race."""
    order = rng.sample(entries, len(entries))
    if ranked_by in (RankingMethod.TIME, RankingMethod.GAIT_LEGAL_TIME):
        times = sorted(rng.sample(range(55_000, 130_000), len(order)))
        return [
            schemas.StarterIn(
                entry_id=e,
                time_hundredths=t,
                gait_faults=0 if ranked_by == RankingMethod.GAIT_LEGAL_TIME else None,
            )
            for e, t in zip(order, times, strict=True)
        ]
    if ranked_by == RankingMethod.COUNT:
        return [schemas.StarterIn(entry_id=e, count=20 - i) for i, e in enumerate(order)]
    return [schemas.StarterIn(entry_id=e, place=i) for i, e in enumerate(order, start=1)]


async def replay(
    settings: Settings,
    race_ref: str,
    *,
    festival_ref: str | None = None,
    speed: float = 1.0,
    say: Callable[[str], None] = print,
    require_redis: bool = True,
) -> None:
    """Draw and publish the start list, enter a provisional result, declare it official."""
    if require_redis and not settings.redis_url:
        raise ReplayError(
            "Set EVENTS_REDIS_URL (the server's too) so the running server "
            "hears the replay; without Redis only this process would."
        )
    pause = STEP_SECONDS / max(speed, 0.001)
    database = Database.from_settings(settings)
    try:
        async with publishing(create_feed(settings, database)):
            async with database.transaction() as session:
                race = await _find(session, race_ref, festival_ref)
                actor = await _actor(session)
                if await reads.latest_version(session, race.id) is not None:
                    raise ReplayError(
                        f"{race.label} already has a result; replay a race "
                        "not yet run (the results page shows them)."
                    )
            say(f"Replaying {race.label}: a step every {pause:g} s")
            await _step(database, say, "start list published", lambda s: _start(s, actor, race))
            await asyncio.sleep(pause)
            await _step(
                database, say, "provisional result entered", lambda s: _provisional(s, actor, race)
            )
            await asyncio.sleep(pause)
            await _step(database, say, "declared official", lambda s: _official(s, actor, race))
    finally:
        await database.dispose()


async def _step(
    database: Database,
    say: Callable[[str], None],
    done: str,
    work: Callable[[AsyncSession], Awaitable[None]],
) -> None:
    try:
        async with database.transaction() as session:
            await work(session)
    except DomainError as exc:
        raise ReplayError(f"Refused: {exc.detail}") from exc
    say(f"  {utcnow():%H:%M:%S} {done}")


async def _start(session: AsyncSession, actor: Actor, race: Race) -> None:
    start_lists = StartListService(session)
    if await reads.start_list(session, race.id) is None:
        await start_lists.draw(
            actor, str(race.id), schemas.DrawIn(method=DrawMethod.SEPARATED, include_unpaid=True)
        )
    await start_lists.publish(actor, str(race.id))


async def _provisional(session: AsyncSession, actor: Actor, race: Race) -> None:
    listed = await StartListService(session).read(race.id, public=False)
    entries = [s.entry_id for s in listed.starters]
    if not entries:
        raise ReplayError("The start list has no starters.")
    await ResultService(session).submit(
        actor,
        str(race.id),
        schemas.ResultsIn(starters=_starters(race.ranked_by, entries, random.Random(str(race.id)))),
    )


async def _official(session: AsyncSession, actor: Actor, race: Race) -> None:
    latest = await reads.latest_version(session, race.id)
    closes = latest.objections_close_at if latest else None
    now = max(utcnow(), closes + dt.timedelta(seconds=1)) if closes else utcnow()
    await ResultService(session).declare_official(actor, str(race.id), now=now)
