"""One statement, the same values on PostgreSQL (asyncpg) and SQLite (SQLAlchemy Core)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from events.db.base import UTCDateTime
from events.db.engine import Database
from events.db.fast import Statement, fetch, fetchrow

RENAME = Statement(
    "UPDATE gate SET name_en = :name WHERE id = :id AND name_en <> :name RETURNING id, name_en",
    param_types={"id": sa.Uuid()},
    result_types={"id": sa.Uuid()},
)
FESTIVAL_TIMES = Statement(
    "SELECT created_at FROM festival WHERE id = :id AND created_at <= :now",
    param_types={"id": sa.Uuid(), "now": UTCDateTime()},
    result_types={"created_at": UTCDateTime()},
)


def test_parameters_compile_to_numbered_asyncpg_placeholders() -> None:
    """SQLAlchemy's asyncpg dialect numbers the parameters (a repeated one keeps its
    number) and casts a typed one as it would in a session."""
    assert RENAME.names == ("name", "id")
    assert RENAME.pg_sql == (
        "UPDATE gate SET name_en = $1 WHERE id = $2::UUID AND name_en <> $1 RETURNING id, name_en"
    )
    casts = Statement(r"SELECT CAST(:a AS text), x::int, :b, :a, '\:c' FROM t")
    assert (casts.names, casts.pg_sql) == (
        ("a", "b"),
        "SELECT CAST($1 AS text), x::int, $2, $1, ':c' FROM t",
    )


@pytest.fixture(params=["postgresql", "sqlite"])
async def database(
    request: pytest.FixtureRequest, pg_url: str, sqlite_url: str, db: Database
) -> Database:
    if request.param == "postgresql":
        return db
    return Database(sqlite_url)


async def test_fetchrow_updates_once_and_types_match(
    database: Database, festival: dict[str, Any]
) -> None:
    gate_id = uuid.UUID(festival["gates"][0]["id"])
    now = datetime(2026, 4, 28, 1, 2, 3, tzinfo=UTC)
    if database.is_sqlite:
        # copy the festival's gate into the SQLite database
        async with database.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO festival (id, slug, name_zh, name_en, timezone, currency, "
                    "venue_zh,"
                    " venue_en, description_zh, description_en, created_at, updated_at) VALUES "
                    "(:f, 's', 'z', 'e', 'UTC', 'CNY', '', '', '', '', :now, :now)"
                ).bindparams(
                    sa.bindparam("f", type_=sa.Uuid()), sa.bindparam("now", type_=UTCDateTime())
                ),
                {"f": uuid.UUID(festival["id"]), "now": now},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO gate (id, festival_id, code, name_zh, name_en) VALUES "
                    "(:g, :f, 'n', '北门', 'North gate')"
                ).bindparams(
                    sa.bindparam("g", type_=sa.Uuid()), sa.bindparam("f", type_=sa.Uuid())
                ),
                {"g": gate_id, "f": uuid.UUID(festival["id"])},
            )
    row = await fetchrow(database, RENAME, id=gate_id, name="Main gate", now=now)
    assert row is not None
    assert row["id"] == gate_id
    assert row["name_en"] == "Main gate"
    assert await fetchrow(database, RENAME, id=gate_id, name="Main gate", now=now) is None
    rows = await fetch(
        database,
        Statement("SELECT name_en FROM gate WHERE id = :id", param_types={"id": sa.Uuid()}),
        id=gate_id,
    )
    assert [r["name_en"] for r in rows] == ["Main gate"]
    created = await fetchrow(
        database, FESTIVAL_TIMES, id=uuid.UUID(festival["id"]), now=datetime.now(UTC)
    )
    assert created is not None
    assert created["created_at"].tzinfo is not None
    if database.is_sqlite:
        await database.dispose()
