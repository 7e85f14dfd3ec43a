"""Test data made through the services, not through HTTP: what a fixture needs as given.

Each factory returns what the matching API call returns (the same dict, as JSON would
carry it), so a fixture can switch between the two. Tests of the API itself still go
through the API.
"""

import os
from typing import Any

import msgspec

from events.access.models import Role
from events.access.security import issue_access_token
from events.access.services import UserService
from events.config import Settings
from events.db.engine import Database
from events.festivals import schemas as festival_schemas
from events.festivals.services import FestivalService

PASSWORD = "correct horse battery"


def as_json(value: Any) -> Any:
    """What the API would have sent for ``value``: its JSON, decoded."""
    return msgspec.json.decode(msgspec.json.encode(value))


async def create_user(
    db: Database,
    settings: Settings,
    role: Role | str = Role.ORGANISER,
    username: str | None = None,
    password: str = PASSWORD,
) -> dict[str, str]:
    """A user and a login token for it (as ``POST /api/v1/auth/login`` would issue):
    ``Authorization`` headers plus ``user_id`` and ``username``."""
    role = Role(role)
    username = username or f"{role.value}-{os.urandom(3).hex()}"
    async with db.transaction() as session:
        user = await UserService(session).create(username=username, password=password, role=role)
    token, _ = issue_access_token(
        user_id=user.id,
        role=user.role,
        key=settings.signing_key(),
        ttl_seconds=settings.token_ttl_seconds,
    )
    return {"Authorization": f"Bearer {token}", "user_id": str(user.id), "username": username}


async def create_festival(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    """A festival as ``POST /api/v1/festivals`` creates it; its response body."""
    data = festival_schemas.FestivalCreate.model_validate(body)
    async with db.transaction() as session:
        festivals = FestivalService(session)
        festival = await festivals.create(data)
        read = await festivals.read(festival.id)
    created: dict[str, Any] = as_json(read)
    return created
