"""Engine and session factory, the same for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings


class Database:
    """One engine and its session factory for the life of a process."""

    def __init__(
        self, url: str, *, pool_size: int = 10, echo: bool = False, pool_timeout: float = 5.0
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.pool_timeout = pool_timeout
        self.engine: AsyncEngine = _create_engine(
            url, pool_size=pool_size, echo=echo, pool_timeout=pool_timeout
        )
        self.session_factory = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        self.pool_size = pool_size
        self._raw_pool: asyncpg.Pool | None = None
        self._raw_pool_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            echo=settings.database_echo,
            pool_timeout=settings.database_pool_timeout_seconds,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends normally, else rolled back.

        The request path uses the same rule through ``provide_db_session``; the CLI and the
        demo loader use this.
        """
        async with self.session_factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def raw_pool(self) -> asyncpg.Pool:
        """A raw asyncpg pool beside the engine, for hot paths (``events.db.fast``)."""
        if self.is_sqlite:
            raise RuntimeError("raw asyncpg pool requested on SQLite")
        if self._raw_pool is None:
            async with self._raw_pool_lock:
                if self._raw_pool is None:
                    url = make_url(self.url).set(drivername="postgresql")
                    self._raw_pool = await asyncpg.create_pool(
                        url.render_as_string(hide_password=False),
                        min_size=1,
                        max_size=self.pool_size,
                        reset=_keep_session,
                        timeout=self.pool_timeout,
                    )
        return self._raw_pool

    async def dispose(self) -> None:
        if self._raw_pool is not None:
            await self._raw_pool.close()
            self._raw_pool = None
        await self.engine.dispose()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """No reset on release. The raw pool runs single autocommit statements only (no
    transactions, cursors, LISTEN, advisory locks or SET), so asyncpg's default reset
    query would be one more round trip per statement for nothing."""


def _create_engine(url: str, *, pool_size: int, echo: bool, pool_timeout: float) -> AsyncEngine:
    # Bound parameters (password hashes, mobile numbers, token hashes) never reach a log
    # or an exception's text.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # A full pool or a database that does not answer is a 503 within pool_timeout
        # seconds (events.problems), not a request hanging for half a minute.
        kwargs.update(
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            pool_recycle=1800,
            pool_timeout=pool_timeout,
            connect_args={"timeout": pool_timeout},
        )
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, enforced foreign keys, and patience on a busy writer lock."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
