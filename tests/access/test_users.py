from sqlalchemy import func
from sqlmodel import select

from events.access.models import User
from events.access.security import verify_password
from events.db.engine import Database
from tests.conftest import Client


async def test_organiser_creates_a_staff_account(
    client: Client, organiser: dict[str, str], db: Database
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=organiser,
        json={
            "username": "gate-north-1",
            "password": "s3cret-password",
            "role": "gate",
            "display_name": "北门 1",
        },
    )
    assert response.status_code == 201
    assert response.json()["role"] == "gate"
    async with db.session_factory() as session:
        user = (await session.exec(select(User).where(User.username == "gate-north-1"))).one()
    assert user.role == "gate"
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "s3cret-password")


async def test_duplicate_username_is_409_username_taken(
    client: Client, organiser: dict[str, str], db: Database
) -> None:
    body = {"username": "yangjin", "password": "s3cret-password", "role": "owner"}
    assert (await client.post("/api/v1/users", headers=organiser, json=body)).status_code == 201
    response = await client.post("/api/v1/users", headers=organiser, json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    async with db.session_factory() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(User).where(User.username == "yangjin")
            )
        ).one()
    assert count == 1


async def test_invalid_fields_are_422_naming_each_field(
    client: Client, organiser: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=organiser,
        json={"username": "x", "password": "short", "role": "king"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == {"username", "password", "role"}


async def test_list_users_pages_and_filters_by_role(
    client: Client, organiser: dict[str, str]
) -> None:
    for i in range(3):
        await client.post(
            "/api/v1/users",
            headers=organiser,
            json={"username": f"judge{i}", "password": "s3cret-password", "role": "official"},
        )
    response = await client.get("/api/v1/users?role=official&limit=2", headers=organiser)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [u["username"] for u in body["items"]] == ["judge0", "judge1"]
