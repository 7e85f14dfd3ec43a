"""Wire types of people and devices (inputs pydantic, outputs msgspec)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from pydantic import Field

from events.access.models import Role
from events.schemas import Input

Username = Annotated[
    str,
    Field(
        min_length=3,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="Letters, digits and _ . @ - ; 3 to 64 long",
    ),
]
Password = Annotated[str, Field(min_length=8, max_length=256)]


class LoginRequest(Input):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    role: Role
    expires_at: datetime
    user_id: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105


class UserCreate(Input):
    username: Username
    password: Password
    role: Role
    display_name: Annotated[str, Field(max_length=120)] = ""


class UserRead(msgspec.Struct):
    id: str
    username: str
    role: Role
    display_name: str
    is_active: bool
    created_at: datetime


class DeviceCreate(Input):
    gate_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=120)]


class DeviceRead(msgspec.Struct):
    device_id: str
    festival_id: str
    gate_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class DeviceCreated(msgspec.Struct):
    """The only time the device token is ever shown."""

    device_id: str
    festival_id: str
    gate_id: str
    name: str
    token: str
    authorization: str
