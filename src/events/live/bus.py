"""The results history: every change to a festival's results, numbered, in order, kept.

A change is *appended* to its festival's history and gets the next event id (1, 2, 3, ...
per festival). Readers ask for what came *after* an id they have. The history keeps the
last ``keep`` events; a reader whose id is older than that (or newer than anything the
history has, after a restart of an in-memory history) gets ``None`` and must refresh
completely instead of resuming.

Two stores, one contract:

* :class:`RedisHistory` (``EVENTS_REDIS_URL`` set): shared by every worker and process on
  every host. Appending is one Lua script (INCR the id, RPUSH the event, LTRIM to
  ``keep``), atomic, so ids are gap-free and in append order whichever process appends.
* :class:`MemoryHistory`: one process only (``make run`` with one worker and no Redis).

The history carries the data; the doorbell that tells workers to look (``feed.py``) carries
none, so a doorbell lost or heard twice loses or repeats nothing.
"""

import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

__all__ = ["Event", "History", "MemoryHistory", "RedisHistory"]


@dataclass(frozen=True, slots=True)
class Event:
    """One change: its id in the festival's history and its JSON body (which names the id)."""

    id: int
    data: bytes


def _stamp(event_id: int, payload: bytes) -> bytes:
    """``{"kind": ...}`` → ``{"id": 7, "kind": ...}`` without decoding the payload."""
    return b'{"id":%d,%s' % (event_id, payload[1:]) if payload != b"{}" else b'{"id":%d}' % event_id


class History(Protocol):
    async def append(self, festival_id: uuid.UUID, payload: bytes) -> Event: ...

    async def since(self, festival_id: uuid.UUID, after: int) -> list[Event] | None: ...

    async def last_id(self, festival_id: uuid.UUID) -> int: ...

    async def close(self) -> None: ...


class MemoryHistory:
    """The history of one process."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._events: dict[uuid.UUID, deque[Event]] = {}
        self._last: dict[uuid.UUID, int] = {}

    async def append(self, festival_id: uuid.UUID, payload: bytes) -> Event:
        event_id = self._last.get(festival_id, 0) + 1
        self._last[festival_id] = event_id
        event = Event(event_id, _stamp(event_id, payload))
        self._events.setdefault(festival_id, deque(maxlen=self.keep)).append(event)
        return event

    async def since(self, festival_id: uuid.UUID, after: int) -> list[Event] | None:
        last = self._last.get(festival_id, 0)
        if after == last:
            return []
        events = self._events.get(festival_id, deque())
        if after > last or not events or events[0].id > after + 1:
            return None
        return [event for event in events if event.id > after]

    async def last_id(self, festival_id: uuid.UUID) -> int:
        return self._last.get(festival_id, 0)

    async def close(self) -> None:
        return None


_APPEND = """
local id = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], id .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return id
"""

# The events after ARGV[1], or {'gap'} when the history no longer (or not yet) has them.
_SINCE = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = tonumber(ARGV[1])
if after == last then return {} end
if after > last then return {'gap'} end
local entries = redis.call('LRANGE', KEYS[2], after - last, -1)
if #entries < last - after then return {'gap'} end
return entries
"""


class RedisHistory:
    """The history shared through Redis by every worker of every host."""

    def __init__(self, redis: Redis, keep: int, prefix: str) -> None:
        self.redis = redis
        self.keep = keep
        self.prefix = prefix
        self._append = redis.register_script(_APPEND)
        self._since = redis.register_script(_SINCE)

    def _keys(self, festival_id: uuid.UUID) -> list[str]:
        base = f"{self.prefix}:results:{festival_id}"
        return [f"{base}:seq", f"{base}:history"]

    async def append(self, festival_id: uuid.UUID, payload: bytes) -> Event:
        event_id = int(await self._append(keys=self._keys(festival_id), args=[payload, self.keep]))
        return Event(event_id, _stamp(event_id, payload))

    async def since(self, festival_id: uuid.UUID, after: int) -> list[Event] | None:
        entries = await self._since(keys=self._keys(festival_id), args=[after])
        if entries == [b"gap"]:
            return None
        events = []
        for entry in entries:
            head, _, payload = bytes(entry).partition(b" ")
            events.append(Event(int(head), _stamp(int(head), payload)))
        return events

    async def last_id(self, festival_id: uuid.UUID) -> int:
        return int(await self.redis.get(self._keys(festival_id)[0]) or 0)

    async def close(self) -> None:
        await self.redis.aclose()
