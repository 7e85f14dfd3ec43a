"""Usernames: unique whatever their case, and never another person's mobile number."""

from typing import Any

from events.access.models import Role
from tests.conftest import Client, UserFactory
from tests.registration.conftest import mobile, sign_up_body


async def test_usernames_are_unique_whatever_their_case(
    client: Client, organiser: dict[str, str], make_user: UserFactory
) -> None:
    await make_user(Role.OFFICIAL, username="steward")
    response = await client.post(
        "/api/v1/users",
        headers=organiser,
        json={"username": "Steward", "password": "a long password", "role": "official"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"


async def test_a_sign_up_cannot_take_another_persons_mobile_as_username(client: Client) -> None:
    someone_else = mobile()
    response = await client.post("/api/v1/owners", json=sign_up_body(username=someone_else))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "username_is_a_mobile"
    assert [e["field"] for e in response.json()["errors"]] == ["username"]
    own = mobile()
    mine = await client.post("/api/v1/owners", json=sign_up_body(username=own, mobile=own))
    assert mine.status_code == 201, mine.text


async def test_staff_accounts_cannot_be_named_by_a_mobile_number(
    client: Client, organiser: dict[str, str]
) -> None:
    body: dict[str, Any] = {
        "username": "13912345678",
        "password": "a long password",
        "role": "official",
    }
    response = await client.post("/api/v1/users", headers=organiser, json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "username_is_a_mobile"
