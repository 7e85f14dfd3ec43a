"""Wrong passwords: hashed off the event loop, throttled per account and per address, and
the real owner is never locked out for good."""

import os
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import redis.asyncio as redis
from httpx import ASGITransport, AsyncClient
from litestar import Litestar

from events.access import security, throttle
from events.access.models import Role
from events.app import create_app
from events.config import Settings
from tests.conftest import PASSWORD, Client, UserFactory, serve

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    now = SimpleNamespace(value=1_000_000.0)
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: now.value))
    return now


@asynccontextmanager
async def from_address(app: Litestar, address: str) -> AsyncIterator[Client]:
    async with AsyncClient(
        transport=ASGITransport(app=app, client=(address, 4000)), base_url="http://testserver"
    ) as other:
        yield other


async def login(client: Client, username: str, password: str) -> Any:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def test_five_failures_from_an_address_then_429_with_retry_after(
    client: Client, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    user = await make_user(Role.OWNER)
    for _ in range(throttle.PAIR.free):
        assert (await login(client, user["username"], "wrong")).status_code == 401
    assert (await login(client, user["username"], "wrong")).status_code == 401
    refused = await login(client, user["username"], PASSWORD)  # even the right one waits
    assert refused.status_code == 429
    assert refused.json()["code"] == "login_throttled"
    assert int(refused.headers["retry-after"]) >= 1
    clock.value += 2
    assert (await login(client, user["username"], PASSWORD)).status_code == 200


async def test_the_owner_on_another_address_is_not_held_up(
    app: Litestar, client: Client, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    user = await make_user(Role.OWNER)
    for _ in range(throttle.PAIR.free + 3):
        await login(client, user["username"], "wrong")
    assert (await login(client, user["username"], PASSWORD)).status_code == 429
    async with from_address(app, "10.9.8.7") as phone:
        assert (await login(phone, user["username"], PASSWORD)).status_code == 200


async def test_a_flood_from_many_addresses_never_locks_the_owner_out_for_good(
    app: Litestar, client: Client, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    user = await make_user(Role.OWNER)
    store = app.state.login_throttle
    for i in range(300):  # the failures a botnet would leave, counted as the app does
        await store.failed(user["username"], f"10.0.{i // 250}.{i % 250}")
    async with from_address(app, "192.0.2.1") as owner:
        waiting = await login(owner, user["username"], PASSWORD)
        assert waiting.status_code == 429
        assert int(waiting.headers["retry-after"]) <= throttle.ACCOUNT.cap_seconds
        clock.value += throttle.ACCOUNT.cap_seconds + 1
        assert (await login(owner, user["username"], PASSWORD)).status_code == 200


async def test_a_success_clears_the_account_count(
    client: Client, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    user = await make_user(Role.OWNER)
    for _ in range(throttle.PAIR.free - 1):
        await login(client, user["username"], "wrong")
    assert (await login(client, user["username"], PASSWORD)).status_code == 200
    for _ in range(throttle.PAIR.free):
        assert (await login(client, user["username"], "wrong")).status_code == 401


async def test_the_password_is_checked_off_the_event_loop(
    client: Client, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user(Role.OWNER)
    threads: list[int] = []
    real = security.verify_password

    def recording(password_hash: str, password: str) -> bool:
        threads.append(threading.get_ident())
        return real(password_hash, password)

    monkeypatch.setattr(security, "verify_password", recording)
    await login(client, user["username"], PASSWORD)
    await login(client, "nobody-" + uuid.uuid4().hex, PASSWORD)
    assert len(threads) == 2
    assert threading.get_ident() not in threads


async def test_the_owner_pages_login_is_throttled_too(
    client: Client, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    user = await make_user(Role.OWNER)
    for _ in range(throttle.PAIR.free + 1):
        await client.post("/owners/login", data={"login": user["username"], "password": "x"})
    page = await client.post(
        "/owners/login", data={"login": user["username"], "password": PASSWORD}
    )
    assert page.status_code == 429
    assert "retry-after" in page.headers


async def test_workers_share_the_counts_through_redis(
    settings: Settings, make_user: UserFactory, clock: SimpleNamespace
) -> None:
    connection = redis.from_url(REDIS_URL)
    try:
        await connection.ping()
    except (OSError, redis.RedisError):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    finally:
        await connection.aclose()
    user = await make_user(Role.OWNER)
    # A prefix of its own: another test process's failed logins from 127.0.0.1 must not
    # count against this one's address.
    shared = settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": f"events-test-{os.urandom(4).hex()}"}
    )
    first, second = create_app(shared), create_app(shared)
    async with serve(first) as worker_1, serve(second) as worker_2:
        for _ in range(throttle.PAIR.free + 1):
            await login(worker_1, user["username"], "wrong")
        assert (await login(worker_2, user["username"], PASSWORD)).status_code == 429
        await first.state.login_throttle.succeeded(user["username"], "127.0.0.1")
        assert (await login(worker_2, user["username"], PASSWORD)).status_code == 200
