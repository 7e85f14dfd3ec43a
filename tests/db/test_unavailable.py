"""A database that is down, or a pool with no connection free, is a 503 with Retry-After
within seconds: never a 500, never a request hanging for half a minute."""

import asyncio
from typing import Any

from events.app import create_app
from events.config import Settings
from tests.conftest import Client, serve


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_database_that_is_down_is_503(settings: Settings) -> None:
    down = settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/events_nowhere",
            "database_pool_timeout_seconds": 1.0,
        }
    )
    async with serve(create_app(down)) as client:
        assert_unavailable(await client.get("/api/v1/festivals"))
        assert_unavailable(
            await client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
        )
        # The device lookup runs on the raw asyncpg pool, in the middleware.
        assert_unavailable(
            await client.post(
                "/api/v1/checkin/scan",
                headers={"Authorization": "Device dev_x"},
                json={"secret": "x" * 40, "nonce": "n-1", "type": "entry"},
            )
        )


async def test_an_exhausted_pool_is_503_after_the_pool_timeout(
    settings: Settings, client: Client, organiser: dict[str, str]
) -> None:
    tight = settings.model_copy(
        update={"database_pool_size": 1, "database_pool_timeout_seconds": 0.5}
    )
    app = create_app(tight)
    async with serve(app) as tight_client:
        engine = app.state.db.engine
        held = [await engine.connect() for _ in range(2)]  # pool_size + max_overflow
        try:
            response = await asyncio.wait_for(tight_client.get("/api/v1/festivals"), 10)
        finally:
            for connection in held:
                await connection.close()
        assert_unavailable(response)
        assert (await tight_client.get("/api/v1/festivals")).status_code == 200
