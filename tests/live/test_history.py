"""The results history: numbered in order, resumable, and honest about what it lost."""

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from events.live.bus import History, MemoryHistory, RedisHistory

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def history(request: pytest.FixtureRequest) -> AsyncIterator[History]:
    if request.param == "memory":
        yield MemoryHistory(keep=3)
        return
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex}"
    store = RedisHistory(redis, keep=3, prefix=prefix)
    try:
        yield store
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await store.close()


async def test_events_are_numbered_per_festival_and_carry_their_id(history: History) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    first = await history.append(one, b'{"kind":"official"}')
    await history.append(two, b'{"kind":"entered"}')
    second = await history.append(one, b'{"kind":"amended"}')
    assert (first.id, second.id) == (1, 2)
    assert first.data == b'{"id":1,"kind":"official"}'
    assert await history.last_id(one) == 2
    assert await history.last_id(two) == 1


async def test_a_reader_gets_what_came_after_its_id(history: History) -> None:
    festival = uuid.uuid4()
    for kind in (b"a", b"b", b"c"):
        await history.append(festival, b'{"kind":"%s"}' % kind)
    assert [e.id for e in await history.since(festival, 1) or []] == [2, 3]
    assert await history.since(festival, 3) == []
    assert [e.data for e in await history.since(festival, 2) or []] == [b'{"id":3,"kind":"c"}']


async def test_an_id_the_history_no_longer_has_means_refresh(history: History) -> None:
    festival = uuid.uuid4()
    for _ in range(5):  # keeps 3: ids 3, 4, 5
        await history.append(festival, b"{}")
    assert [e.id for e in await history.since(festival, 2) or []] == [3, 4, 5]
    assert await history.since(festival, 1) is None
    assert await history.since(festival, 0) is None
    assert await history.since(festival, 99) is None  # newer than anything: a reset store


async def test_an_unknown_festival_has_an_empty_history(history: History) -> None:
    assert await history.last_id(uuid.uuid4()) == 0
    assert await history.since(uuid.uuid4(), 0) == []
