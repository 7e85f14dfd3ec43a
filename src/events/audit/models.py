"""The audit trail: one row per successful change a staff member made. Append-only."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, utc_field, utcnow


class AuditEntry(IdMixin, table=True):
    """A staff change: who (kind, id, role), what (the route's operation id, method, path,
    the ids in the path, the names of the body fields sent) and when (UTC).

    No foreign keys: an entry outlives what it names (a deleted device, a festival).
    Values of the body are never kept, only the field names.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_festival_at", "festival_id", "at"),)

    at: datetime = utc_field(default_factory=utcnow, index=True)
    actor_kind: str = Field(sa_type=sa.String(16))
    actor_id: uuid.UUID = Field(index=True)
    actor_role: str = Field(sa_type=sa.String(16))
    action: str = Field(max_length=100, index=True)
    """The route's OpenAPI operation id (``CreateDevice``, ``RefundPayment``)."""
    method: str = Field(sa_type=sa.String(8))
    path: str = Field(max_length=500)
    festival_id: uuid.UUID | None = Field(default=None)
    target: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    """The path parameters (ids of what was acted on), as strings."""
    status: int = Field(sa_type=sa.SmallInteger)
    request_id: str = Field(default="", max_length=64)
    fields: str = Field(default="", max_length=500)
    """The names of the body fields sent (``amount, reason``), never their values."""
