"""One worker's feed: bodies from memory until a change, changes pushed to every stream.

The results domain is replaced here by a document the test controls, so that what the feed
itself does (cache, invalidate, number, resume, drop) is what is tested.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.serialization import decode_json
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.engine import Database
from events.errors import ServiceUnavailable
from events.live.bus import MemoryHistory
from events.live.feed import CHANNEL, REFRESH, ResultsFeed, parse_event_id

FESTIVAL = uuid.uuid4()
RACE = uuid.uuid4()


class Results:
    """What the results domain would say, and how often it was asked."""

    def __init__(self) -> None:
        self.state = "scheduled"
        self.builds = 0

    async def build(self, session: AsyncSession, festival_id: uuid.UUID) -> dict[str, Any]:
        self.builds += 1
        await asyncio.sleep(0.01)  # a real query takes a while: concurrent misses overlap
        return {"festival_id": festival_id, "items": [{"race_id": RACE, "state": self.state}]}


@pytest.fixture
def results() -> Results:
    return Results()


def make_feed(db: Database, results: Results, **options: Any) -> ResultsFeed:
    return ResultsFeed(
        history=MemoryHistory(keep=5),
        channels=ChannelsPlugin(MemoryChannelsBackend(), channels=[CHANNEL]),
        database=db,
        build=results.build,
        **options,
    )


@pytest.fixture
async def feed(db: Database, results: Results) -> AsyncIterator[ResultsFeed]:
    async with make_feed(db, results).running() as running:
        yield running


async def change(feed: ResultsFeed, results: Results, state: str) -> int:
    results.state = state
    event = await feed.publish(FESTIVAL, RACE, state)
    await asyncio.sleep(0.05)  # the doorbell is heard by the listener task
    return event.id


async def read(events: AsyncIterator[bytes], count: int) -> list[bytes]:
    got = []
    async with asyncio.timeout(2):
        while len(got) < count:
            chunk = await anext(events)
            if not chunk.startswith((b"retry:", b":")):
                got.append(chunk)
    return got


def data(chunk: bytes) -> dict[str, Any]:
    line = next(x for x in chunk.split(b"\n") if x.startswith(b"data: "))
    result: dict[str, Any] = decode_json(line[6:])
    return result


async def test_a_body_is_built_once_and_served_from_memory(
    feed: ResultsFeed, results: Results
) -> None:
    first = await feed.body(FESTIVAL)
    again = await feed.body(FESTIVAL)
    assert again is first
    assert results.builds == 1
    assert first.etag.startswith('"')
    assert first.etag.endswith('"')
    assert decode_json(first.raw)["items"][0]["state"] == "scheduled"


async def test_concurrent_misses_wait_for_one_build(feed: ResultsFeed, results: Results) -> None:
    bodies = await asyncio.gather(*(feed.body(FESTIVAL) for _ in range(50)))
    assert results.builds == 1
    assert len({body.etag for body in bodies}) == 1


async def test_a_change_gives_a_new_body_and_etag(feed: ResultsFeed, results: Results) -> None:
    before = await feed.body(FESTIVAL)
    event_id = await change(feed, results, "official")
    after = await feed.body(FESTIVAL)
    assert after.etag != before.etag
    document = decode_json(after.raw)
    assert document["items"][0]["state"] == "official"
    assert document["event_id"] == event_id


async def test_a_stream_gets_each_change_with_the_race_as_it_stands(
    feed: ResultsFeed, results: Results
) -> None:
    events = await feed.stream(FESTIVAL, None)
    assert await anext(events) == b"retry: 3000\n\n"
    await change(feed, results, "provisional")
    await change(feed, results, "official")
    got = await read(events, 2)
    assert [data(c)["kind"] for c in got] == ["provisional", "official"]
    assert [data(c)["race"]["state"] for c in got] == ["provisional", "official"]
    assert got[0].startswith(b"id: 1\n")
    assert got[1].startswith(b"id: 2\n")


async def test_last_event_id_resumes_with_nothing_lost(feed: ResultsFeed, results: Results) -> None:
    for state in ("provisional", "official", "amended"):
        await change(feed, results, state)
    events = await feed.stream(FESTIVAL, "1")
    got = await read(events, 2)
    assert [data(c)["id"] for c in got] == [2, 3]
    await change(feed, results, "official")
    assert [data(c)["id"] for c in await read(events, 1)] == [4]


@pytest.mark.parametrize("last_event_id", ["not-a-number", "-1", "99"])
async def test_an_unusable_last_event_id_gets_a_refresh(
    feed: ResultsFeed, results: Results, last_event_id: str
) -> None:
    await change(feed, results, "provisional")
    events = await feed.stream(FESTIVAL, last_event_id)
    assert await read(events, 1) == [REFRESH]


async def test_an_id_older_than_the_history_gets_a_refresh(
    feed: ResultsFeed, results: Results
) -> None:
    for _ in range(7):  # the history keeps 5
        await change(feed, results, "amended")
    assert await read(await feed.stream(FESTIVAL, "1"), 1) == [REFRESH]


async def test_a_slow_stream_is_dropped_and_the_others_go_on(
    db: Database, results: Results
) -> None:
    async with make_feed(db, results, backlog=2).running() as feed:
        slow = await feed.stream(FESTIVAL, None)
        quick = await feed.stream(FESTIVAL, None)
        await anext(slow)
        await anext(quick)
        reader = asyncio.create_task(read(quick, 5))  # quick keeps up, slow never reads
        for state in ("a", "b", "c", "d", "e"):  # slow's queue of 2 overflows at "c"
            await change(feed, results, state)
        assert [data(c)["kind"] for c in await reader] == ["a", "b", "c", "d", "e"]
        assert feed.stats()["streams"] == 2
        drained = [chunk async for chunk in slow]  # what was queued, then the end
        assert [data(c)["kind"] for c in drained] == ["a", "b"]


async def test_more_streams_than_allowed_get_503_with_retry_after(
    db: Database, results: Results
) -> None:
    async with make_feed(db, results, max_streams=1).running() as feed:
        first = await feed.stream(FESTIVAL, None)
        await anext(first)  # a stream counts once it runs
        with pytest.raises(ServiceUnavailable) as refused:
            await feed.stream(FESTIVAL, None)
        await first.aclose()
        assert feed.stats()["streams"] == 0  # a stream that ends leaves the count
        await feed.stream(FESTIVAL, None)
    assert refused.value.instance_code == "too_many_streams"
    assert refused.value.extra["retry_after"] == 5


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("7", 7), ("0", 0), (None, None), ("", None), ("-3", None), ("٣", None), ("9" * 19, None)],
)
def test_last_event_id_parsing(value: str | None, parsed: int | None) -> None:
    assert parse_event_id(value) == parsed
