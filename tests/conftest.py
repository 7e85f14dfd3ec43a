"""Test fixtures: the real app on real PostgreSQL, and a SQLite twin for the smoke run.

PostgreSQL comes from ``EVENTS_TEST_DATABASE_URL`` (default: the local ``test`` database).
Its schema is built once per run by the migrations themselves; every test starts from
empty tables. With ``CI=true`` an unreachable PostgreSQL fails the run; elsewhere the
PostgreSQL tests are skipped with a loud notice.
"""

import asyncio
import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.engine import make_url

os.environ["EVENTS_ENV"] = "test"
logging.getLogger("httpx").setLevel(logging.WARNING)

from events.access.models import Role  # noqa: E402 - after EVENTS_ENV is set
from events.access.services import UserService  # noqa: E402 - after EVENTS_ENV is set
from events.app import create_app  # noqa: E402 - after EVENTS_ENV is set
from events.config import Settings  # noqa: E402 - after EVENTS_ENV is set
from events.db import migrate  # noqa: E402 - after EVENTS_ENV is set
from events.db.engine import Database  # noqa: E402 - after EVENTS_ENV is set
from events.payments.services import pay_token  # noqa: E402 - after EVENTS_ENV is set
from events.tables import metadata  # noqa: E402 - after EVENTS_ENV is set
from tests.factories import PASSWORD, create_festival  # noqa: E402 - after EVENTS_ENV is set

pytest_plugins = ["tests.browser"]

PG_URL = os.environ.get(
    "EVENTS_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
if worker := os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n: a database per worker
    PG_URL = (
        make_url(PG_URL)
        .set(database=f"{make_url(PG_URL).database}_{worker}")
        .render_as_string(hide_password=False)
    )
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

Client = AsyncClient


def _pg_reachable() -> str | None:
    url = make_url(PG_URL)

    async def probe() -> None:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=5,
        )
        await conn.close()

    try:
        asyncio.run(probe())
    except asyncpg.InvalidCatalogNameError:
        return None  # the server answers; the database is created below
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable; reported below
        return f"{type(exc).__name__}: {exc}"
    return None


async def _reset_schema() -> None:
    """Create the test database if needed, and empty its public schema."""
    url = make_url(PG_URL)
    connect = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
    }
    try:
        conn = await asyncpg.connect(database=url.database, **connect)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(database="postgres", **connect)
        try:
            await admin.execute(f'CREATE DATABASE "{url.database}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(database=url.database, **connect)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        # A test database is thrown away: its commits need not wait for the disk.
        await conn.execute(f'ALTER DATABASE "{url.database}" SET synchronous_commit = off')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A PostgreSQL database migrated to the latest revision, once per run."""
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL at {PG_URL} is unreachable ({problem})"
        if IN_CI:
            pytest.fail(f"{message}; CI requires it.", pytrace=False)
        warnings.warn(f"\n\n*** {message}: SKIPPING PostgreSQL tests ***\n", stacklevel=1)
        pytest.skip(message)
    asyncio.run(_reset_schema())
    migrate.upgrade(PG_URL)
    return PG_URL


# On a loaded machine (the suite on every core, beside other work) a request can wait
# seconds for a pooled connection or a row lock; production's 5 s / 3 s would turn that
# wait into a 503 and the test into a coin toss. Tests of those time-outs set their own.
PATIENT = {"database_pool_timeout_seconds": 60.0, "ticket_lock_timeout_ms": 30_000}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(env="test", database_url=database_url, **{**PATIENT, **overrides})


# One round trip: truncate (in one statement) only the tables that hold a row, and restart
# the sequences that were used. Truncating all 50 tables after every test cost more than
# most tests.
_EMPTY_WRITTEN_TABLES = """
DO $$
DECLARE
    name text;
    found boolean;
    dirty text[] := '{}';
BEGIN
    FOREACH name IN ARRAY string_to_array(:tables, ',') LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %I)', name) INTO found;
        IF found THEN
            dirty := dirty || name;
        END IF;
    END LOOP;
    IF cardinality(dirty) > 0 THEN
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I', d), ', ') FROM unnest(dirty) d)
            || ' CASCADE';
    END IF;
    FOR name IN SELECT sequencename FROM pg_sequences
                WHERE schemaname = 'public' AND last_value IS NOT NULL LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', name);
    END LOOP;
END $$"""


async def truncate_all(database: Database) -> None:
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(text(f'DELETE FROM "{table.name}"'))
        else:
            tables = ",".join(t.name for t in metadata.sorted_tables)
            await conn.execute(text(_EMPTY_WRITTEN_TABLES.replace(":tables", f"'{tables}'")))


@pytest.fixture
def settings(pg_url: str) -> Settings:
    return make_settings(pg_url)


@asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[Client]:
    """An HTTP client talking to ``app`` in this event loop, with its lifespan running.

    Requests sent concurrently (``asyncio.gather``) really run concurrently in the app.
    """
    # The app itself, not ``manager.app``: that wrapper shares one ``scope["state"]`` dict
    # between requests, and Litestar keeps per-request state there.
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Database]:
    """The test's own connection to the app's database: arrange data, assert on what was
    stored, and empty every table after the test."""
    database = Database(pg_url, pool_size=5)
    yield database
    await truncate_all(database)
    await database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    async with serve(app) as test_client:
        yield test_client


UserFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_user(db: Database, client: Client) -> UserFactory:
    """Create a user through the service and log in; returns its auth headers and id.
    (``tests.factories.create_user`` makes one with a token and no sign-in.)"""

    async def make(
        role: Role | str = Role.ORGANISER, username: str | None = None, password: str = PASSWORD
    ) -> dict[str, str]:
        role = Role(role)
        username = username or f"{role.value}-{os.urandom(3).hex()}"
        async with db.transaction() as session:
            user = await UserService(session).create(
                username=username, password=password, role=role
            )
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return {"Authorization": f"Bearer {token}", "user_id": str(user.id), "username": username}

    return make


@contextmanager
def captured_logs(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records logged to ``name`` in the block, whatever the app's logging config did
    to the root logger (pytest's caplog handler sits there)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def headers_of(user: dict[str, str]) -> dict[str, str]:
    return {"Authorization": user["Authorization"]}


@pytest.fixture
async def organiser(make_user: UserFactory) -> dict[str, str]:
    return headers_of(await make_user(Role.ORGANISER))


FESTIVAL_BODY: dict[str, Any] = {
    "slug": "test-festival",
    "name_zh": "测试赛马节",
    "name_en": "Test horse-racing festival",
    "venue_zh": "卡巴草原",
    "venue_en": "Kaba grassland",
    "meetings": [
        {
            "name_zh": "四月赛会",
            "name_en": "April meeting",
            "days": [{"date": "2027-04-28"}, {"date": "2027-04-29"}],
        },
        {"name_zh": "七月赛会", "name_en": "July meeting", "days": [{"date": "2027-07-20"}]},
    ],
    "gates": [
        {"code": "north", "name_zh": "北门", "name_en": "North gate"},
        {"code": "east", "name_zh": "东门", "name_en": "East gate"},
    ],
}


@pytest.fixture
async def festival(client: Client, organiser: dict[str, str], db: Database) -> dict[str, Any]:
    """A festival with two meetings, three days and two gates, as ``POST /api/v1/festivals``
    creates it (made through the service; tests/festivals test the route)."""
    return await create_festival(db, FESTIVAL_BODY)


# --- SQLite twin -------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file migrated by the same migrations."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
async def sqlite_client(sqlite_url: str) -> AsyncIterator[Client]:
    async with serve(create_app(make_settings(sqlite_url))) as test_client:
        yield test_client


@pytest.fixture
async def sqlite_organiser(sqlite_client: Client, sqlite_url: str) -> dict[str, str]:
    """Auth headers of an organiser of the SQLite twin (user ``org``, password ``PASSWORD``)."""
    database = Database(sqlite_url)
    try:
        async with database.transaction() as session:
            await UserService(session).create(
                username="org", password=PASSWORD, role=Role.ORGANISER
            )
    finally:
        await database.dispose()
    login = await sqlite_client.post(
        "/api/v1/auth/login", json={"username": "org", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def pay_path(payment_id: str | uuid.UUID, action: str = "test-complete") -> str:
    """The test provider's pay (or ``test-cancel``) call with the payment's own pay_token,
    as its pay link carries it (signed with this test process's key)."""
    token = pay_token(make_settings("sqlite+aiosqlite://"), uuid.UUID(str(payment_id)))
    return f"/api/v1/payments/{payment_id}/{action}?pay_token={token}"
