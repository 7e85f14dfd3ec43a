from events.app import create_app
from tests.conftest import Client, make_settings, serve


async def test_health_reports_database_ok(client: Client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_down() -> None:
    # Nothing listens on port 1: the database is "down".
    app = create_app(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    async with serve(app) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}
