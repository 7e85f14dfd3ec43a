"""Building a process's live results feed from its settings, and feeding it the changes."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from events.config import Settings
from events.db.engine import Database
from events.live.bus import History, MemoryHistory, RedisHistory
from events.live.document import build_document
from events.live.feed import CHANNEL, Builder, ResultsFeed
from events.results.notifications import (
    register_results_listener,
    unregister_results_listener,
)

logger = logging.getLogger(__name__)


def create_feed(
    settings: Settings, database: Database, build: Builder = build_document
) -> ResultsFeed:
    """Redis history and pub/sub when ``EVENTS_REDIS_URL`` is set; memory otherwise."""
    history: History
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        history = RedisHistory(redis, settings.live_history, settings.redis_prefix)
        backend = RedisChannelsPubSubBackend(
            redis=Redis.from_url(settings.redis_url), key_prefix=f"{settings.redis_prefix}:channels"
        )
        channels = ChannelsPlugin(backend=backend, channels=[CHANNEL])
    else:
        history = MemoryHistory(settings.live_history)
        channels = ChannelsPlugin(backend=MemoryChannelsBackend(), channels=[CHANNEL])
    return ResultsFeed(
        history=history,
        channels=channels,
        database=database,
        build=build,
        backlog=settings.live_stream_backlog,
        max_streams=settings.live_max_streams,
    )


@contextlib.asynccontextmanager
async def publishing(feed: ResultsFeed) -> AsyncIterator[ResultsFeed]:
    """Run ``feed`` and publish every committed results change of this process to it.

    The results domain announces a change after its transaction commits; publishing (a
    read of the race as it now stands, an append to the history, the doorbell) runs as a
    task so that the request that made the change does not wait for it. Pending publishes
    finish before the feed closes, so a CLI command's last change is not lost.
    """
    pending: set[asyncio.Task[object]] = set()

    def changed(festival_id: uuid.UUID, race_id: uuid.UUID, kind: str) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(
            feed.publish(festival_id, race_id, kind)
        )
        pending.add(task)
        task.add_done_callback(_done(pending))

    async with feed.running():
        register_results_listener(changed, engine=feed.database.engine)
        try:
            yield feed
        finally:
            unregister_results_listener(changed)
            await asyncio.gather(*pending, return_exceptions=True)


def _done(pending: set[asyncio.Task[object]]) -> Callable[[asyncio.Task[object]], None]:
    def done(task: asyncio.Task[object]) -> None:
        pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("live results: a change could not be published", exc_info=task.exception())

    return done
