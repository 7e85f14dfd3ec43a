from typing import Any

from sqlmodel import select

from events.access.models import Device
from events.access.security import hash_device_token
from events.db.engine import Database
from tests.conftest import Client, UserFactory, headers_of


async def _create_device(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> dict[str, Any]:
    gate = festival["gates"][0]
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/devices",
        headers=organiser,
        json={"gate_id": gate["id"], "name": "North phone 1"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_device_token_is_shown_once_and_stored_hashed(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> None:
    created = await _create_device(client, organiser, festival)
    assert created["authorization"] == f"Device {created['token']}"
    async with db.session_factory() as session:
        device = (await session.exec(select(Device))).one()
    assert device.token_hash == hash_device_token(created["token"])
    assert created["token"] not in device.token_hash
    listed = await client.get(f"/api/v1/festivals/{festival['id']}/devices", headers=organiser)
    assert listed.status_code == 200
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 100, 0)
    assert page["items"][0]["device_id"] == created["device_id"]
    assert "token" not in page["items"][0]


async def test_device_authenticates_with_its_token(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    created = await _create_device(client, organiser, festival)
    response = await client.get(
        "/api/v1/devices/me", headers={"Authorization": created["authorization"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["gate_id"] == festival["gates"][0]["id"]
    assert body["festival_id"] == festival["id"]


async def test_revoked_device_is_refused(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> None:
    created = await _create_device(client, organiser, festival)
    revoked = await client.post(f"/api/v1/devices/{created['device_id']}/revoke", headers=organiser)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = await client.get(
        "/api/v1/devices/me", headers={"Authorization": created["authorization"]}
    )
    assert response.status_code == 401
    async with db.session_factory() as session:
        device = (await session.exec(select(Device))).one()
    assert device.revoked_at is not None


async def test_unknown_device_token_is_401(client: Client) -> None:
    response = await client.get(
        "/api/v1/devices/me", headers={"Authorization": "Device dev_not-a-real-token"}
    )
    assert response.status_code == 401


async def test_a_user_token_is_not_a_device(client: Client, make_user: UserFactory) -> None:
    gate_user = await make_user("gate")
    response = await client.get("/api/v1/devices/me", headers=headers_of(gate_user))
    assert response.status_code == 403


async def test_device_for_a_gate_of_another_festival_is_404(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    other = await client.post(
        "/api/v1/festivals",
        headers=organiser,
        json={
            "slug": "other",
            "name_zh": "别的",
            "name_en": "Other",
            "gates": [{"code": "x", "name_zh": "门", "name_en": "Gate"}],
        },
    )
    foreign_gate = other.json()["gates"][0]["id"]
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/devices",
        headers=organiser,
        json={"gate_id": foreign_gate, "name": "x"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
