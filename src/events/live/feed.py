"""One worker's live results: bodies built once per change, pushed to every open stream.

**Reads.** A festival's results document is built from the database once, encoded once
(JSON and gzip), given a strong ``ETag`` and then served from memory as bytes: a read in
steady state touches no database. Concurrent misses wait for the one build in flight.

**Changes.** Whoever changes results (a request, the CLI, a job) calls :meth:`publish`
after committing. It appends the change, with the race as it now stands, to the
festival's history (``bus.py``) and rings the doorbell: the festival's id on the channel
``results`` (Litestar channels; Redis pub/sub across processes when ``EVENTS_REDIS_URL`` is
set, in memory otherwise). Every worker that hears it drops its cached bodies for that
festival and reads the history after the last id it handed out, then puts each new event,
encoded once, into the queue of every stream of that festival it holds.

**Streams.** Each connection has a bounded queue. A client too slow to empty it is dropped
(its next read ends the stream; the browser reconnects with ``Last-Event-ID`` and resumes),
so one slow phone never slows the others. ``Last-Event-ID`` (or ``?last_event_id=``)
resumes from the history; an id the history no longer has, or a malformed one, gets a
``refresh`` event: the client reloads the document. A comment line every
``heartbeat_seconds`` keeps proxies from closing an idle stream.
"""

import asyncio
import contextlib
import gzip
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.serialization import encode_json
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.db.engine import Database
from events.errors import ServiceUnavailable
from events.live.bus import Event, History

logger = logging.getLogger(__name__)

CHANNEL = "results"
REFRESH = b"event: refresh\ndata: {}\n\n"
PING = b": ping\n\n"

Document = dict[str, Any]
Builder = Callable[[AsyncSession, uuid.UUID], Awaitable[Document]]
"""Builds a festival's results document; raises ``NotFound`` for an unknown festival."""


@dataclass(frozen=True, slots=True)
class Body:
    """An encoded results document: served as it is, or gzipped, with its strong ETag."""

    etag: str
    raw: bytes
    gzipped: bytes

    @classmethod
    def of(cls, document: Any) -> "Body":
        raw = encode_json(document)
        return cls(
            etag=f'"{hashlib.blake2b(raw, digest_size=16).hexdigest()}"',
            raw=raw,
            gzipped=gzip.compress(raw, compresslevel=6, mtime=0),
        )


def frame(event: Event) -> bytes:
    """The SSE frame of one event: encoded once, sent to every stream as the same bytes."""
    return b"id: %d\ndata: %s\n\n" % (event.id, event.data)


def parse_event_id(value: str | None) -> int | None:
    """A client's ``Last-Event-ID``: a non-negative integer, else ``None`` (refresh)."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


@dataclass(eq=False, slots=True)
class _Stream:
    queue: asyncio.Queue[tuple[int, bytes]]
    enqueued: int = 0  # the last event id put in the queue (producer side)
    sent: int = 0  # the last event id yielded to the client (consumer side)
    dropped: bool = False


@dataclass(eq=False)
class ResultsFeed:
    history: History
    channels: ChannelsPlugin
    database: Database
    build: Builder
    backlog: int = 64
    max_streams: int = 20_000
    heartbeat_seconds: float = 15.0
    _cache: dict[tuple[uuid.UUID, str], Body] = field(default_factory=dict)
    _building: dict[tuple[uuid.UUID, str], asyncio.Future[Body]] = field(default_factory=dict)
    _generation: dict[uuid.UUID, int] = field(default_factory=dict)
    _streams: dict[uuid.UUID, set[_Stream]] = field(default_factory=dict)
    _seen: dict[uuid.UUID, int] = field(default_factory=dict)
    _locks: dict[uuid.UUID, asyncio.Lock] = field(default_factory=dict)
    _count: int = 0
    _listener: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["ResultsFeed"]:
        """Connect the channel, listen for doorbells, and close both at the end."""
        async with self.channels:
            subscriber = await self.channels.subscribe([CHANNEL])
            self._listener = asyncio.create_task(self._listen(subscriber.iter_events()))
            try:
                yield self
            finally:
                self._listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._listener
                await self.channels.unsubscribe(subscriber)
                for streams in self._streams.values():
                    for stream in streams:
                        stream.dropped = True
                        with contextlib.suppress(asyncio.QueueFull):
                            stream.queue.put_nowait((0, b""))
                await self.history.close()

    async def _listen(self, doorbells: AsyncIterator[bytes]) -> None:
        async for message in doorbells:
            try:
                await self._on_change(uuid.UUID(message.decode()))
            except Exception:  # one bad doorbell must not stop the feed
                logger.exception("live results: could not hand out a change")

    # --- reads -----------------------------------------------------------------------

    async def body(
        self,
        festival_id: uuid.UUID,
        view: str = "",
        select: Callable[[Document], Any] | None = None,
    ) -> Body:
        """The encoded document (or the ``view`` of it that ``select`` cuts), from memory."""
        key = (festival_id, view)
        if (cached := self._cache.get(key)) is not None:
            return cached
        if (pending := self._building.get(key)) is not None:
            return await asyncio.shield(pending)
        generation = self._generation.get(festival_id, 0)
        future: asyncio.Future[Body] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            document = await self.document(festival_id)
            built = Body.of(select(document) if select else document)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must log it
            raise
        finally:
            del self._building[key]
        if self._generation.get(festival_id, 0) == generation:  # no change during the build
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = built
        future.set_result(built)
        return built

    async def document(self, festival_id: uuid.UUID) -> Document:
        """The festival's results as they stand in the database, with the history's last id."""
        event_id = await self.history.last_id(festival_id)
        async with self.database.session_factory() as session:
            document = await self.build(session, festival_id)
        return {**document, "event_id": event_id}

    # --- changes ---------------------------------------------------------------------

    async def publish(self, festival_id: uuid.UUID, race_id: uuid.UUID | None, kind: str) -> Event:
        """Record a committed change and ring every worker's doorbell. Call after commit."""
        document = await self.document(festival_id)
        race = (
            next(
                (r for r in document.get("items", ()) if str(r.get("race_id")) == str(race_id)),
                None,
            )
            if race_id
            else None
        )
        payload = encode_json(
            {
                "kind": kind,
                "festival_id": festival_id,
                "race_id": race_id,
                "at": utcnow(),
                "race": race,
            }
        )
        event = await self.history.append(festival_id, payload)
        await self.channels.wait_published(str(festival_id).encode(), CHANNEL)
        return event

    async def _on_change(self, festival_id: uuid.UUID) -> None:
        self._generation[festival_id] = self._generation.get(festival_id, 0) + 1
        for key in [k for k in self._cache if k[0] == festival_id]:
            del self._cache[key]
        async with self._lock(festival_id):
            streams = self._streams.get(festival_id)
            if not streams:
                self._seen.pop(festival_id, None)
                return
            after = self._seen.get(festival_id, 0)
            events = await self.history.since(festival_id, after)
            if events is None:  # the history lost what we had not handed out: reload all
                last = await self.history.last_id(festival_id)
                self._fan_out(streams, [(last, REFRESH)])
                self._seen[festival_id] = last
                return
            if events:
                self._fan_out(streams, [(event.id, frame(event)) for event in events])
                self._seen[festival_id] = events[-1].id

    def _fan_out(self, streams: set[_Stream], frames: list[tuple[int, bytes]]) -> None:
        for stream in list(streams):
            for event_id, data in frames:
                if event_id <= stream.enqueued and data is not REFRESH:
                    continue
                try:
                    stream.queue.put_nowait((event_id, data))
                except asyncio.QueueFull:
                    stream.dropped = True  # too slow: it reconnects and resumes
                    streams.discard(stream)
                    break
                stream.enqueued = event_id

    def _lock(self, festival_id: uuid.UUID) -> asyncio.Lock:
        return self._locks.setdefault(festival_id, asyncio.Lock())

    # --- streams ---------------------------------------------------------------------

    def admit(self) -> None:
        """Refuse a new stream when this worker holds its configured maximum."""
        if self._count >= self.max_streams:
            raise ServiceUnavailable(
                "This server holds as many live results streams as it may; retry shortly "
                "or poll the results with If-None-Match.",
                code="too_many_streams",
                retry_after=5,
            )

    async def stream(
        self, festival_id: uuid.UUID, last_event_id: str | None
    ) -> AsyncIterator[bytes]:
        """The festival's events as SSE bytes, from ``last_event_id`` on (or from now).

        Refused here (before any byte is sent) when this worker is full; the stream joins
        the fan-out when it starts and leaves it when it ends, however it ends."""
        self.admit()
        return self._events(festival_id, last_event_id)

    async def _events(
        self, festival_id: uuid.UUID, last_event_id: str | None
    ) -> AsyncIterator[bytes]:
        resume = parse_event_id(last_event_id)
        stream = _Stream(asyncio.Queue(self.backlog))
        async with self._lock(festival_id):
            if festival_id not in self._seen:
                self._seen[festival_id] = await self.history.last_id(festival_id)
            stream.enqueued = stream.sent = (
                resume if resume is not None else self._seen[festival_id]
            )
            self._streams.setdefault(festival_id, set()).add(stream)
        self._count += 1
        try:
            yield b"retry: 3000\n\n"
            if last_event_id is not None:
                events = None if resume is None else await self.history.since(festival_id, resume)
                if events is None:
                    yield REFRESH
                else:
                    for event in events:
                        if event.id > stream.sent:
                            stream.sent = event.id
                            yield frame(event)
            while True:
                try:
                    event_id, data = await asyncio.wait_for(
                        stream.queue.get(), self.heartbeat_seconds
                    )
                except TimeoutError:
                    yield PING
                    continue
                if data is REFRESH:
                    stream.sent = max(stream.sent, event_id)
                    yield REFRESH
                elif event_id > stream.sent:
                    stream.sent = event_id
                    yield data
                if stream.dropped and stream.queue.empty():
                    return  # what was queued is sent; the client resumes from there
        finally:
            self._count -= 1
            streams = self._streams.get(festival_id)
            if streams is not None:
                streams.discard(stream)

    def stats(self) -> dict[str, int]:
        return {"streams": self._count, "cached_bodies": len(self._cache)}
