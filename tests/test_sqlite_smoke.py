"""The main flows on SQLite (aiosqlite), the zero-setup default of `make run`."""

from tests.conftest import FESTIVAL_BODY, Client


async def test_health_login_and_festival_flow_on_sqlite(sqlite_client: Client) -> None:
    from events.access.models import Role
    from events.access.services import UserService
    from events.db.engine import Database

    health = await sqlite_client.get("/health")
    assert health.json() == {"status": "ok", "database": "ok"}

    url = str(sqlite_client._transport.app.state.settings.database_url)  # type: ignore[attr-defined]
    database = Database(url)
    async with database.transaction() as session:
        await UserService(session).create(username="org", password="long-password",
                                          role=Role.ORGANISER)
    await database.dispose()

    login = await sqlite_client.post("/api/v1/auth/login",
                                     json={"username": "org", "password": "long-password"})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers)
    assert created.status_code == 201, created.text
    festival = created.json()
    assert festival["created_at"].endswith("Z") or "+00:00" in festival["created_at"]
    again = await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers)
    assert again.status_code == 409
    device = await sqlite_client.post(f"/api/v1/festivals/{festival['id']}/devices",
                                      headers=headers,
                                      json={"gate_id": festival["gates"][0]["id"], "name": "p"})
    assert device.status_code == 201
    me = await sqlite_client.get("/api/v1/devices/me",
                                 headers={"Authorization": device.json()["authorization"]})
    assert me.status_code == 200
