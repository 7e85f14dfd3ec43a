"""``events results replay`` moves a running server's pages through Redis."""

import asyncio
import uuid
from typing import Any

import pytest

from events.access.models import Role
from events.access.services import UserService
from events.db.engine import Database
from events.live.replay import ReplayError, replay
from tests.conftest import PASSWORD, make_settings
from tests.live.servers import server_processes
from tests.live.test_routes import REDIS_URL, sse_events, wait_until
from tests.results.conftest import RaceFactory


async def test_a_replay_reaches_a_running_servers_stream_step_by_step(
    pg_url: str, db: Database, make_race: RaceFactory
) -> None:
    race = await make_race(horses=3, objection_minutes=0)
    async with db.transaction() as session:
        await UserService(session).create(
            username="official", password=PASSWORD, role=Role.OFFICIAL
        )
    prefix = f"test-replay-{uuid.uuid4().hex[:12]}"
    settings = make_settings(pg_url, redis_url=REDIS_URL, redis_prefix=prefix)
    with server_processes(
        1, EVENTS_DATABASE_URL=pg_url, EVENTS_REDIS_URL=REDIS_URL, EVENTS_REDIS_PREFIX=prefix
    ) as (url,):
        got: list[tuple[float, Any]] = []
        reader = asyncio.create_task(
            sse_events(f"{url}/api/v1/festivals/{race.festival_id}/results/stream", got)
        )
        try:
            await asyncio.sleep(1.0)
            said: list[str] = []
            await replay(settings, race.race_id, speed=100, say=said.append)
            await wait_until(lambda: any(d["kind"] == "official" for _, d in got))
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    kinds = [data["kind"] for _, data in got]
    steps = [k for n, k in enumerate(kinds) if k != "prize_money" and k not in kinds[:n]]
    assert steps == ["start_list", "provisional", "official"]  # drawn and published: 2
    official = next(data for _, data in got if data["kind"] == "official")
    assert official["race"]["state"] == "official"
    assert [data["id"] for _, data in got] == sorted(data["id"] for _, data in got)
    assert len(said) == 4  # the race named, then each step
    with pytest.raises(ReplayError, match="already has a result"):
        await replay(settings, race.race_id, speed=100, say=said.append)


async def test_a_replay_without_redis_explains_itself(pg_url: str) -> None:
    with pytest.raises(ReplayError, match="EVENTS_REDIS_URL"):
        await replay(make_settings(pg_url), "long-10k")
