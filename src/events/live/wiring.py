"""Building a process's live results feed from its settings."""

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from events.config import Settings
from events.db.engine import Database
from events.live.bus import History, MemoryHistory, RedisHistory
from events.live.document import build_document
from events.live.feed import CHANNEL, Builder, ResultsFeed


def create_feed(settings: Settings, database: Database,
                build: Builder = build_document) -> ResultsFeed:
    """Redis history and pub/sub when ``EVENTS_REDIS_URL`` is set; memory otherwise."""
    history: History
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        history = RedisHistory(redis, settings.live_history, settings.redis_prefix)
        backend = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url),
                                             key_prefix=f"{settings.redis_prefix}:channels")
        channels = ChannelsPlugin(backend=backend, channels=[CHANNEL])
    else:
        history = MemoryHistory(settings.live_history)
        channels = ChannelsPlugin(backend=MemoryChannelsBackend(), channels=[CHANNEL])
    return ResultsFeed(history=history, channels=channels, database=database, build=build,
                       backlog=settings.live_stream_backlog,
                       max_streams=settings.live_max_streams)
