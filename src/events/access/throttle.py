"""Login throttling: wrong passwords slow the guesser down, never the gates, never for good.

Failures are counted in a Litestar store (Redis when ``EVENTS_REDIS_URL`` is set, so every
worker shares the counts; memory otherwise) under three keys, each with a number of free
failures and then a doubling wait, capped:

- the account from this address: 5 free, then 1 s, 2 s, 4 s, ... up to 15 minutes;
- the account from anywhere: 20 free, then up to 60 s, so a guesser with many addresses
  gets about one try a minute, and the real owner never waits longer than that;
- the address for any account: 50 free, then up to 15 minutes (spraying one password
  over many accounts).

A refused attempt costs no password hash and does not count; a success clears the
account's counts. Every count expires an hour after its last failure.
"""

import hashlib
import math
import time
from dataclasses import dataclass

import msgspec
from litestar.stores.base import Store

from events.errors import DomainError


class TooManyAttempts(DomainError):
    status_code = 429
    code = "login_throttled"
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins; try again in {retry_after} s.", retry_after=retry_after
        )
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class Rule:
    name: str
    free: int
    cap_seconds: int


PAIR = Rule("pair", free=5, cap_seconds=15 * 60)
ACCOUNT = Rule("account", free=20, cap_seconds=60)
ADDRESS = Rule("address", free=50, cap_seconds=15 * 60)
EXPIRES_SECONDS = 3600


class _Count(msgspec.Struct):
    failures: int = 0
    until: float = 0.0


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _keys(username: str, address: str | None) -> list[tuple[Rule, str]]:
        account = _digest(username.strip().casefold())
        keys = [(ACCOUNT, f"account:{account}")]
        if address:
            keys += [
                (PAIR, f"pair:{account}:{_digest(address)}"),
                (ADDRESS, f"address:{_digest(address)}"),
            ]
        return keys

    async def _read(self, key: str) -> _Count:
        raw = await self.store.get(key)
        if raw is None:
            return _Count()
        try:
            return msgspec.json.decode(raw, type=_Count)
        except msgspec.DecodeError:
            return _Count()

    async def check(self, username: str, address: str | None) -> None:
        """Raise ``TooManyAttempts`` while any key is waiting out its backoff."""
        now = time.time()
        wait = 0.0
        for _, key in self._keys(username, address):
            count = await self._read(key)
            wait = max(wait, count.until - now)
        if wait > 0:
            raise TooManyAttempts(max(1, math.ceil(wait)))

    async def failed(self, username: str, address: str | None) -> None:
        now = time.time()
        for rule, key in self._keys(username, address):
            count = await self._read(key)
            count.failures += 1
            over = count.failures - rule.free
            if over > 0:
                count.until = now + min(2.0 ** (over - 1), rule.cap_seconds)
            await self.store.set(key, msgspec.json.encode(count), expires_in=EXPIRES_SECONDS)

    async def succeeded(self, username: str, address: str | None) -> None:
        for rule, key in self._keys(username, address):
            if rule is not ADDRESS:
                await self.store.delete(key)


def login_store(redis_url: str | None, prefix: str = "events") -> Store:
    """Where failures are counted: Redis when configured (shared by every worker), under
    ``<prefix>:login_throttle``."""
    if redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=redis_url, namespace=f"{prefix}:login_throttle")
    from litestar.stores.memory import MemoryStore

    return MemoryStore()
