"""The scan log (every attempt, append-only) and presence (who entered which list, which day).

``checkin_presence`` is what makes a ticket single-use: its primary key (ticket, check-in
list, day) lets exactly one entry scan insert the row, whatever the number of gates that
scan at once. ``checkin_scan`` keeps every attempt, unknown codes included; its unique
(device, nonce) makes a retried scan a replay, never a second attempt.
"""

import datetime as dt
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from events.db.base import table_of, utc_field

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A 64-bit auto-incrementing key; SQLite only auto-increments an ``INTEGER`` key."""


class ScanKind(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ScanResult(StrEnum):
    OK = "ok"
    ERROR = "error"


class Reason(StrEnum):
    """Why a scan was refused (API.md): a fixed list that scanners translate."""

    INVALID = "invalid"
    REVOKED = "revoked"
    CANCELED = "canceled"
    WRONG_DAY = "wrong_day"
    WRONG_GATE = "wrong_gate"
    ALREADY_REDEEMED = "already_redeemed"
    AMBIGUOUS = "ambiguous"
    """Only an offline scanner's own answer (no offline data yet, an enclosure it does not
    know, no usable clock), uploaded as its ``local_reason``."""


class Scan(SQLModel, table=True):
    """One scan attempt, as it happened. Never updated, never deleted."""

    __tablename__ = "checkin_scan"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "nonce"),
        sa.Index("ix_checkin_scan_festival_time", "festival_id", "server_time"),
        sa.Index("ix_checkin_scan_ticket", "ticket_id"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(BIG_ID, primary_key=True, autoincrement=True)
    )
    # No foreign keys: every scan would fire three referential-integrity triggers and
    # take a KEY SHARE lock on its device, gate and festival rows (the same hot rows for
    # every scan). The scan statement itself only logs scans of a live device of the
    # festival, at one of its gates; a deleted festival's log is deleted with it
    # (``events.festivals`` has no delete yet).
    festival_id: uuid.UUID
    device_id: uuid.UUID
    gate_id: uuid.UUID
    nonce: str = Field(max_length=64)
    kind: str = Field(sa_type=sa.String(8))
    raw: str | None = Field(default=None, max_length=512)
    """What was read, kept only when it was not a genuine ticket."""
    ticket_id: uuid.UUID | None = Field(default=None)
    serial: int | None = Field(default=None)
    enclosure_id: uuid.UUID | None = Field(default=None)
    """The check-in list the scan was decided on."""
    result: str = Field(sa_type=sa.String(8))
    reason: str | None = Field(default=None, sa_type=sa.String(24))
    offline: bool = Field(default=False)
    """Made by a scanner without a connection and uploaded later (a fact, not a request)."""
    conflict: bool = Field(default=False)
    """An offline admission of a ticket that had already entered: recorded, never undone."""
    client_time: dt.datetime | None = utc_field(nullable=True, default=None)
    server_time: dt.datetime = utc_field()
    first_entry_at: dt.datetime | None = utc_field(nullable=True, default=None)
    first_entry_gate_id: uuid.UUID | None = Field(default=None)


class Presence(SQLModel, table=True):
    """A ticket's use of one check-in list on one day: created by its first entry."""

    __tablename__ = "checkin_presence"

    ticket_id: uuid.UUID = Field(primary_key=True)
    enclosure_id: uuid.UUID = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)
    first_entry_at: dt.datetime = utc_field()
    first_gate_id: uuid.UUID
    first_device_id: uuid.UUID
    inside: bool = Field(default=True)
    entries: int = Field(default=1)
    last_change_at: dt.datetime = utc_field()


# Typed Core handles, one per table (events.db.base).
SCAN = table_of(Scan)
PRESENCE = table_of(Presence)
