"""The main flows on SQLite (aiosqlite), the zero-setup default of `make run`."""

from tests.conftest import FESTIVAL_BODY, Client


async def test_health_login_and_festival_flow_on_sqlite(
    sqlite_client: Client, sqlite_organiser: dict[str, str]
) -> None:
    health = await sqlite_client.get("/health")
    assert health.json() == {"status": "ok", "database": "ok"}
    headers = sqlite_organiser
    created = await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers)
    assert created.status_code == 201, created.text
    festival = created.json()
    assert festival["created_at"].endswith("Z") or "+00:00" in festival["created_at"]
    again = await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers)
    assert again.status_code == 409
    device = await sqlite_client.post(
        f"/api/v1/festivals/{festival['id']}/devices",
        headers=headers,
        json={"gate_id": festival["gates"][0]["id"], "name": "p"},
    )
    assert device.status_code == 201
    me = await sqlite_client.get(
        "/api/v1/devices/me", headers={"Authorization": device.json()["authorization"]}
    )
    assert me.status_code == 200
