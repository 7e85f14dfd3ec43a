"""Hot paths: one SQL statement, no ORM objects.

A ``Statement`` is written once with ``:name`` parameters. On PostgreSQL it runs through a
raw asyncpg pool (perf.md: 2.4× faster than SQLAlchemy Core, 3.6× faster than the ORM);
on SQLite it runs through SQLAlchemy Core with the same text, so ``make run`` works the
same. Parameter and result types are declared so that both backends give the same Python
values (UUIDs, aware UTC datetimes).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from events.db.engine import Database

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class Statement:
    """SQL with ``:name`` parameters, compiled once for asyncpg (``$n``) and SQLAlchemy."""

    sql: str
    param_types: Mapping[str, TypeEngine[Any]] = field(default_factory=dict)
    result_types: Mapping[str, TypeEngine[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        object.__setattr__(self, "pg_sql", _PARAM.sub(number, self.sql))
        object.__setattr__(self, "names", tuple(names))
        clause = sa.text(self.sql)
        if self.param_types:
            clause = clause.bindparams(*(sa.bindparam(n, type_=t)
                                         for n, t in self.param_types.items()))
        if self.result_types:
            clause = clause.columns(**self.result_types)  # type: ignore[assignment]
        object.__setattr__(self, "clause", clause)

    pg_sql: str = field(init=False)
    names: tuple[str, ...] = field(init=False)
    clause: Any = field(init=False)

    def pg_args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


async def fetch(db: "Database", statement: Statement, **params: Any) -> Sequence[Mapping[str, Any]]:
    """All rows of ``statement``, committed at once (autocommit)."""
    if not db.is_sqlite:
        pool = await db.raw_pool()
        async with pool.acquire(timeout=db.pool_timeout) as connection:
            records: Sequence[Mapping[str, Any]] = await connection.fetch(
                statement.pg_sql, *statement.pg_args(params))
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
                statement.pg_sql, *statement.pg_args(params))
        return row
    rows = await fetch(db, statement, **params)
    return rows[0] if rows else None
