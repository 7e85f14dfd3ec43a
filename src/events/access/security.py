"""Password hashing (argon2), signed login tokens (JWT, HS256) and device tokens."""

import contextlib
import hashlib
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from events.config import get_settings
from events.db.base import utcnow

_ALGORITHM = "HS256"
DEVICE_TOKEN_PREFIX = "dev_"  # noqa: S105 - a visible prefix, not a secret


@cache
def _hasher() -> PasswordHasher:
    """argon2id with its RFC 9106 parameters (64 MiB, 3 passes); under ``EVENTS_ENV=test``
    only, the cheapest parameters argon2 allows: the suite signs in thousands of times, and
    the code path is the same. A hash records its parameters, so either verifies anywhere."""
    if get_settings().env == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_limiter: anyio.CapacityLimiter | None = None
_niced = threading.local()
HASH_THREAD_NICENESS = 15


def _hash_limiter() -> anyio.CapacityLimiter:
    """One argon2 computation at a time per worker (each takes 64 MiB and its cores); more
    sign-ins wait their turn, never on the event loop."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(1)
    return _limiter


def _lower_priority() -> None:
    """Run this worker thread at a low CPU priority (Linux: a thread is a task), so that a
    flood of sign-ins yields the cores to the event loop's scans."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


def _hash_in_thread(password: str) -> str:
    _lower_priority()
    return hash_password(password)


def _verify_in_thread(password_hash: str, password: str) -> bool:
    _lower_priority()
    return verify_password(password_hash, password)


async def hash_password_off_loop(password: str) -> str:
    return await anyio.to_thread.run_sync(_hash_in_thread, password, limiter=_hash_limiter())


async def verify_password_off_loop(password_hash: str, password: str) -> bool:
    return await anyio.to_thread.run_sync(
        _verify_in_thread, password_hash, password, limiter=_hash_limiter()
    )


@cache
def dummy_password_hash() -> str:
    """Compared against when the username is unknown, so both paths cost one argon2 verify."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    role: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_access_token(
    *, user_id: uuid.UUID, role: str, key: str, ttl_seconds: int, audience: str | None = None
) -> tuple[str, datetime]:
    """A signed token. With an ``audience`` (the console's cookie) it is refused where no
    audience is expected (a bearer token), and a plain token is refused where one is."""
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    payload: dict[str, object] = {"sub": str(user_id), "role": role, "iat": now, "exp": expires_at}
    if audience is not None:
        payload["aud"] = audience
    token = jwt.encode(payload, key, algorithm=_ALGORITHM)
    return token, expires_at


def decode_access_token(token: str, *, key: str, audience: str | None = None) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=audience,
            options={"require": ["sub", "exp", "role"]},
        )
        return TokenClaims(
            user_id=uuid.UUID(claims["sub"]),
            role=str(claims["role"]),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token_expired") from exc
    except (jwt.InvalidTokenError, ValueError, OverflowError, OSError) as exc:
        # OverflowError/OSError: an ``exp`` no clock can hold (1e308)
        raise InvalidToken("token_invalid") from exc


def new_device_token() -> str:
    """A fresh device token: 256 random bits, URL-safe."""
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """SHA-256 is enough for a 256-bit random secret, and fast on the scan path."""
    return hashlib.sha256(token.encode()).hexdigest()
