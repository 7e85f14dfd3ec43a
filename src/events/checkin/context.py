"""What a gate needs to know about its festival, cached in each worker.

Public keys, the time zone and the gates change rarely, and a scan must not pay a query
for them. Entries live ``ttl`` seconds; a token signed by a key the cache does not know
(a rotation) refreshes the entry at once. Revocations are never cached: the scan
statement reads them.
"""

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from events.config import Settings
from events.db.engine import Database
from events.festivals import services as festival_services
from events.ticketing.keys import KeyService
from events.ticketing.tokens import TokenKey

MIN_RELOAD_SECONDS = 5.0
"""Unknown key ids reload the keys at most this often (forged tokens cannot hammer the
database)."""


@dataclass(frozen=True, slots=True)
class GateInfo:
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class FestivalContext:
    festival_id: uuid.UUID
    zone: ZoneInfo
    keys: Mapping[int, TokenKey]
    gates: Mapping[uuid.UUID, GateInfo]
    loaded_at: float


class ContextCache:
    def __init__(self, db: Database, settings: Settings, ttl: float = 60.0) -> None:
        self.db = db
        self.settings = settings
        self.ttl = ttl
        self._entries: dict[uuid.UUID, FestivalContext] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def get(self, festival_id: uuid.UUID, *, kid: int | None = None) -> FestivalContext:
        entry = self._entries.get(festival_id)
        if entry is not None:
            age = time.monotonic() - entry.loaded_at
            if age < self.ttl and (kid is None or kid in entry.keys or age < MIN_RELOAD_SECONDS):
                return entry
        lock = self._locks.setdefault(festival_id, asyncio.Lock())
        async with lock:  # one reload per worker, however many scans wait for it
            current = self._entries.get(festival_id)
            if current is not None and current is not entry:
                return current
            fresh = await self._load(festival_id)
            self._entries[festival_id] = fresh
            return fresh

    def invalidate(self, festival_id: uuid.UUID | None = None) -> None:
        if festival_id is None:
            self._entries.clear()
        else:
            self._entries.pop(festival_id, None)

    async def _load(self, festival_id: uuid.UUID) -> FestivalContext:
        async with self.db.session_factory() as session:
            festivals = festival_services.FestivalService(session)
            festival = await festivals.get(festival_id)
            gates = await festivals.gates(festival.id)
            keys = await KeyService(session, self.settings).public_keys(festival.id)
        return FestivalContext(
            festival_id=festival.id,
            zone=ZoneInfo(festival.timezone),
            keys=keys,
            gates={
                g.id: GateInfo(id=g.id, code=g.code, name_zh=g.name_zh, name_en=g.name_en)
                for g in gates
            },
            loaded_at=time.monotonic(),
        )
