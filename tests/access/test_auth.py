from datetime import timedelta

from sqlmodel import select

from events.access.models import Role, User
from events.access.security import issue_access_token
from events.config import Settings
from events.db.engine import Database
from tests.conftest import PASSWORD, Client, UserFactory, headers_of


async def test_login_returns_a_bearer_token_with_the_role(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user(Role.OFFICIAL, username="judge")
    response = await client.post(
        "/api/v1/auth/login", json={"username": "judge", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "official"
    assert body["user_id"] == user["user_id"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == "judge"


async def test_login_records_the_time(client: Client, make_user: UserFactory, db: Database) -> None:
    await make_user(Role.OWNER, username="tashi")
    async with db.session_factory() as session:
        user = (await session.exec(select(User).where(User.username == "tashi"))).one()
    assert user.last_login_at is not None


async def test_wrong_password_is_401_invalid_credentials(
    client: Client, make_user: UserFactory
) -> None:
    await make_user(Role.OWNER, username="dorje")
    response = await client.post(
        "/api/v1/auth/login", json={"username": "dorje", "password": "not the password"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "whatever1"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_missing_token_is_401(client: Client) -> None:
    response = await client.post("/api/v1/festivals", json={})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_expired_token_is_401_token_expired(client: Client, make_user: UserFactory) -> None:
    user = await make_user(Role.ORGANISER)
    import uuid

    token, _ = issue_access_token(
        user_id=uuid.UUID(user["user_id"]),
        role="organiser",
        key=Settings(env="test").signing_key(),
        ttl_seconds=-int(timedelta(minutes=1).total_seconds()),
    )
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


async def test_forged_token_is_401(client: Client, make_user: UserFactory) -> None:
    user = await make_user(Role.OWNER)
    import uuid

    token, _ = issue_access_token(
        user_id=uuid.UUID(user["user_id"]),
        role="organiser",
        key="someone else's key",
        ttl_seconds=600,
    )
    response = await client.post(
        "/api/v1/festivals", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_wrong_role_is_403(client: Client, make_user: UserFactory) -> None:
    owner = await make_user(Role.OWNER)
    response = await client.post("/api/v1/festivals", json={}, headers=headers_of(owner))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
