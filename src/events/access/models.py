"""Users and gate devices."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, TimestampMixin, utc_field


class Role(StrEnum):
    ORGANISER = "organiser"
    OFFICIAL = "official"
    GATE = "gate"
    OWNER = "owner"


class User(IdMixin, TimestampMixin, table=True):
    __tablename__ = "app_user"

    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=sa.String(16))
    display_name: str = Field(default="", max_length=120)
    is_active: bool = Field(default=True)
    last_login_at: datetime | None = utc_field(nullable=True, default=None)


class Device(IdMixin, TimestampMixin, table=True):
    """A phone or handheld scanner at one gate of one festival.

    Only the SHA-256 of its token is stored; the token itself is shown once.
    """

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    gate_id: uuid.UUID = Field(foreign_key="gate.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )
    revoked_at: datetime | None = utc_field(nullable=True, default=None)
