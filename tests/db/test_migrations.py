"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from events.db.engine import Database
from events.tables import metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_postgresql_schema_matches_the_models(pg_url: str) -> None:
    database = Database(pg_url)
    try:
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await database.dispose()
    assert diff == [], f"models and migrations differ; generate a revision: {diff}"


async def test_migrated_sqlite_schema_matches_the_models(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await database.dispose()
    assert diff == [], f"models and migrations differ on SQLite: {diff}"
