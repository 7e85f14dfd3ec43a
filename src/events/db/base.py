"""What every table shares: the metadata naming convention, ids and UTC time stamps.

Table models are persistence only (``table=True``); the API speaks the schemas in each
domain's ``schemas.py``. Do not add ``from __future__ import annotations`` to model
modules: SQLModel relationships break under it.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def utcnow() -> datetime:
    """The current instant, time-zone aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A new opaque, unguessable id."""
    return uuid.uuid4()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A ``timestamptz`` on PostgreSQL; on SQLite an ISO string read back as aware UTC.

    Naive datetimes are refused on the way in: a time without a zone is a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_field(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    """A UTC time-stamp column."""
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kwargs)


class IdMixin(SQLModel):
    """A UUID primary key."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)


class TimestampMixin(SQLModel):
    """When the row was created and last changed (UTC). ``updated_at`` moves on every ORM
    update, so a form can carry it as the version it was drawn from (the console refuses
    a stale form with it)."""

    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})


def table_of(model: type[SQLModel]) -> sa.Table:
    """The typed Core handle of a table model, for statements without ORM objects.

    Each domain declares one per table, next to its models (``ORDER = table_of(TicketOrder)``),
    and its Core statements use that handle (``ORDER.c.status``)."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table), f"{model.__name__} is not a table model"
    return table
