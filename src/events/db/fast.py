"""Hot paths: one SQL statement, no ORM objects.

A ``Statement`` is written once with ``:name`` parameters (SQLAlchemy's ``text()``
syntax: cast with ``CAST(:x AS uuid)``, or declare the parameter's type). On PostgreSQL it
runs through a raw asyncpg pool (perf.md: 2.4× faster than SQLAlchemy Core, 3.6× faster
than the ORM), compiled once, at import, by SQLAlchemy's own asyncpg dialect
(``$1, $2, ...`` in the order asyncpg wants, a typed parameter cast as that dialect casts
it); on SQLite the same ``text()`` clause runs through SQLAlchemy Core, so ``make run``
works the same. Parameter and result types are declared so that both backends give the
same Python values (UUIDs, aware UTC datetimes).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from events.db.engine import Database

_ASYNCPG = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Statement:
    """SQL with ``:name`` parameters, compiled once for asyncpg (``$n``) and SQLAlchemy."""

    sql: str
    param_types: Mapping[str, TypeEngine[Any]] = field(default_factory=dict)
    result_types: Mapping[str, TypeEngine[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clause = sa.text(self.sql)
        if self.param_types:
            clause = clause.bindparams(
                *(sa.bindparam(n, type_=t) for n, t in self.param_types.items())
            )
        compiled = clause.compile(dialect=_ASYNCPG)
        object.__setattr__(self, "pg_sql", compiled.string)
        object.__setattr__(self, "names", tuple(compiled.positiontup or ()))
        object.__setattr__(
            self, "clause", clause.columns(**self.result_types) if self.result_types else clause
        )

    pg_sql: str = field(init=False)
    """The SQL as SQLAlchemy's asyncpg dialect writes it."""
    names: tuple[str, ...] = field(init=False)
    """The parameters in ``$n`` order."""
    clause: TextClause | sa.TextualSelect = field(init=False)
    """For SQLAlchemy Core (SQLite, and PostgreSQL inside a session's transaction)."""

    def pg_args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


async def fetch(db: "Database", statement: Statement, **params: Any) -> Sequence[Mapping[str, Any]]:
    """All rows of ``statement``, committed at once (autocommit)."""
    if not db.is_sqlite:
        pool = await db.raw_pool()
        async with pool.acquire(timeout=db.pool_timeout) as connection:
            records: Sequence[Mapping[str, Any]] = await connection.fetch(
                statement.pg_sql, *statement.pg_args(params)
            )
        return records
    async with db.engine.begin() as conn:
        result = await conn.execute(statement.clause, params)
        return [dict(row._mapping) for row in result] if result.returns_rows else []


async def fetchrow(db: "Database", statement: Statement, **params: Any) -> Mapping[str, Any] | None:
    """The first row of ``statement`` or None, committed at once (autocommit)."""
    if not db.is_sqlite:
        pool = await db.raw_pool()
        async with pool.acquire(timeout=db.pool_timeout) as connection:  # a full pool: 503
            row: Mapping[str, Any] | None = await connection.fetchrow(
                statement.pg_sql, *statement.pg_args(params)
            )
        return row
    rows = await fetch(db, statement, **params)
    return rows[0] if rows else None
