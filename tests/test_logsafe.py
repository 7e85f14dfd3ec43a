"""A database error never writes its bound values to a log; a request id finds the line."""

import logging
import sys

import pytest
from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from events.app import create_app
from events.config import Settings
from events.db.fast import Statement, fetchrow
from events.logsafe import LOG_FORMAT, SafeFormatter, redact, safe_traceback
from tests.conftest import Client, captured_logs, serve

SECRET = "argon2id$v=19$m=65536$SECRETHASH"
MOBILE = "13912345678"


@get("/orm-boom", operation_id="OrmBoom", include_in_schema=False)
async def orm_boom(db_session: NamedDependency[AsyncSession]) -> None:
    await db_session.exec(text("SELECT CAST(:secret AS integer)").bindparams(secret=SECRET))


@get("/unique-boom", operation_id="UniqueBoom", include_in_schema=False)
async def unique_boom(db_session: NamedDependency[AsyncSession]) -> None:
    await db_session.exec(text("CREATE TEMP TABLE mobiles (m text UNIQUE)"))
    for _ in range(2):
        await db_session.exec(text("INSERT INTO mobiles VALUES (:m)").bindparams(m=MOBILE))


@get("/fast-boom", operation_id="FastBoom", include_in_schema=False)
async def fast_boom(state: State) -> None:
    await fetchrow(state.db, Statement("SELECT CAST(:secret AS integer) AS x"), secret=SECRET)


@pytest.mark.parametrize("path", ["/orm-boom", "/unique-boom", "/fast-boom"])
async def test_a_database_error_logs_no_bound_value(settings: Settings, path: str) -> None:
    app = create_app(settings, extra_route_handlers=[orm_boom, unique_boom, fast_boom])
    async with serve(app) as client:
        with captured_logs("events") as records:
            response = await client.get(path, headers={"X-Request-ID": "req-abcdef123"})
    assert response.status_code == 500
    assert response.json()["request_id"] == "req-abcdef123"
    assert response.headers["x-request-id"] == "req-abcdef123"
    logged = "\n".join(r.getMessage() for r in records)
    assert "req-abcdef123" in logged
    assert "Traceback" in logged  # the frames are still there to debug with
    assert SECRET not in logged
    assert "SECRETHASH" not in logged
    assert MOBILE not in logged
    # Rendered through the app's own formatter too, exc_info and all.
    formatter = SafeFormatter(LOG_FORMAT)
    for record in records:
        assert "SECRETHASH" not in formatter.format(record)
        assert MOBILE not in formatter.format(record)


async def test_the_engine_hides_parameters_from_the_exception_text(settings: Settings) -> None:
    app = create_app(settings)
    async with serve(app):
        with pytest.raises(Exception, match="hide_parameters") as caught:
            async with app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT CAST(:secret AS integer)"), {"secret": SECRET})
    # The parameters line is gone; asyncpg's own message still quotes the value, which is
    # why every traceback is rendered by safe_traceback.
    assert "[parameters:" not in str(caught.value)
    assert "SECRETHASH" not in safe_traceback(caught.value)
    assert "SELECT CAST" in safe_traceback(caught.value)


def test_the_formatter_reduces_an_exception_logged_as_an_argument() -> None:
    from sqlalchemy.exc import IntegrityError

    error = IntegrityError(
        "INSERT INTO owner (mobile) VALUES ($1)",
        {"mobile": MOBILE},
        Exception(f"duplicate key\nDETAIL:  Key (mobile)=({MOBILE})"),
    )
    try:
        raise error
    except IntegrityError:
        record = logging.LogRecord(
            "events.x", logging.ERROR, __file__, 1, "failed: %s", (error,), sys.exc_info()
        )
    line = SafeFormatter(LOG_FORMAT).format(record)
    assert MOBILE not in line
    assert "INSERT INTO owner" in line
    assert " - [-] - " in line  # no request: the id is a dash


def test_redact_replaces_quoted_values() -> None:
    assert redact('invalid input syntax for type uuid: "abc"') == (
        "invalid input syntax for type uuid: '…'"
    )
    assert redact("Key (mobile)=(139) already exists") == "Key '…' already exists"
    assert redact(
        "invalid input for query argument $11: datetime.datetime(1, 1, 1, 0, 0) "
        "(date value out of range)"
    ) == ("invalid input for query argument $11: '…' (date value out of range)")


async def test_every_response_carries_a_request_id(client: Client) -> None:
    first = await client.get("/health")
    second = await client.get("/health", headers={"X-Request-ID": "bad id <script>"})
    assert len(first.headers["x-request-id"]) == 16
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert " " not in second.headers["x-request-id"]
