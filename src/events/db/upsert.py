"""``INSERT ... ON CONFLICT`` on PostgreSQL and SQLite: the one place that picks the insert.

Both dialects' ``insert`` take ``on_conflict_do_nothing`` and ``on_conflict_do_update``
with the same arguments (``index_elements``, ``index_where``, ``set_``, ``where``) and
``.excluded``; the statement is typed as PostgreSQL's.
"""

from typing import Protocol, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import table_of


class _HasDialect(Protocol):
    @property
    def dialect(self) -> Dialect: ...


def insert(bind: _HasDialect, table: sa.Table) -> postgresql.Insert:
    """``insert(table)`` for the connection's database."""
    if bind.dialect.name == "sqlite":
        return cast(postgresql.Insert, sqlite.insert(table))
    return postgresql.insert(table)


async def insert_once(session: AsyncSession, row: SQLModel) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``: False when a unique key was already taken
    (by a committed row, or by a concurrent one that then committed)."""
    table = table_of(type(row))
    values = {column.name: getattr(row, column.name) for column in table.columns}
    statement = insert(await session.connection(), table).values(**values)
    result = await session.exec(statement.on_conflict_do_nothing().returning(table.c.id))
    return result.first() is not None
