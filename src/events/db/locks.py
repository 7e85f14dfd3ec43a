"""Lock time-outs: a lock waited for longer than this is a retryable ``503``, never a hang.

PostgreSQL answers a lock not granted within ``lock_timeout`` with SQLSTATE ``55P03``
(lock_not_available); SQLite has no row locks (its ``busy_timeout`` is set on connect).
Services set the time-out, take their locks in sorted order, and turn ``is_lock_timeout``
into their own ``ServiceUnavailable`` code (``race_busy``, ``capacity_busy``).
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

LOCK_NOT_AVAILABLE = "55P03"


async def set_lock_timeout(conn: AsyncConnection, milliseconds: int) -> None:
    """For the rest of this transaction (PostgreSQL; nothing on SQLite)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(sa.func.set_config("lock_timeout", f"{int(milliseconds)}ms", True))
        )


async def set_session_lock_timeout(raw: Any, milliseconds: int) -> None:
    """For every later statement on this raw asyncpg connection (a pooled connection that
    runs single autocommit statements)."""
    await raw.execute(f"SET lock_timeout = {int(milliseconds)}")


def is_lock_timeout(exc: BaseException) -> bool:
    """Raised because a lock was not granted in time (from SQLAlchemy or asyncpg)."""
    orig = getattr(exc, "orig", None) or exc
    return (
        getattr(orig, "sqlstate", None) == LOCK_NOT_AVAILABLE or "lock timeout" in str(orig).lower()
    )
