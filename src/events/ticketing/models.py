"""Ticketing tables: enclosures, ticket types, quotas, orders, holds, tickets, keys, mail.

Money is ``int`` fen plus ``currency``. A ticket carries everything a gate needs to decide
in one SQL statement: its festival, its enclosure (the check-in list), its status, its
token serial and its valid days (``ticket_day``, with the date copied in). Tickets only
exist for paid (or free) orders: a ticket row means paid.
"""

import datetime as dt
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from events.db.base import IdMixin, TimestampMixin, table_of, utc_field, utcnow

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An auto-incrementing 64-bit key; SQLite only auto-increments an ``INTEGER`` key."""


class Audience(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class OrderStatus(StrEnum):
    PENDING = "pending"
    """Capacity held until ``expires_at`` while the buyer pays."""
    PAID = "paid"
    """Tickets issued (free orders are paid at once)."""
    EXPIRED = "expired"
    """Not paid in time, or the payment failed: the hold was released."""
    CANCELED = "canceled"
    """Cancelled before payment, or every ticket cancelled."""
    REFUNDED = "refunded"
    """Every ticket refunded."""


class TicketStatus(StrEnum):
    VALID = "valid"
    CANCELED = "canceled"
    REFUNDED = "refunded"


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Gave up after the last attempt."""


class Enclosure(IdMixin, TimestampMixin, table=True):
    """An area of the grounds (general ground, grandstand, VIP): one check-in list.

    A ticket admits to its enclosure and to every enclosure that contains it (``parent``),
    once per day unless the enclosure allows re-entry.
    """

    __table_args__ = (
        sa.UniqueConstraint("festival_id", "code"),
        sa.UniqueConstraint("festival_id", "number"),
        sa.CheckConstraint("number BETWEEN 1 AND 255", name="number_range"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    number: int = Field(sa_type=sa.SmallInteger)
    """Small and stable per festival; it is what the QR token carries."""
    code: str = Field(max_length=32)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent_id: uuid.UUID | None = Field(
        default=None, foreign_key="enclosure.id", ondelete="SET NULL"
    )
    allow_reentry: bool = Field(default=False)


class EnclosureGate(SQLModel, table=True):
    """The gates that lead into an enclosure; none listed means every gate does."""

    __tablename__ = "enclosure_gate"

    enclosure_id: uuid.UUID = Field(
        foreign_key="enclosure.id", primary_key=True, ondelete="CASCADE"
    )
    gate_id: uuid.UUID = Field(foreign_key="gate.id", primary_key=True, ondelete="CASCADE")


class TicketType(IdMixin, TimestampMixin, table=True):
    """What is on sale: a day ticket (one day), a pass (several days), free for children."""

    __tablename__ = "ticket_type"
    __table_args__ = (
        sa.UniqueConstraint("festival_id", "code"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("max_per_order >= 1", name="max_per_order_positive"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    enclosure_id: uuid.UUID = Field(foreign_key="enclosure.id", index=True)
    code: str = Field(max_length=48)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    name_bo: str = Field(default="", max_length=200)
    """Tibetan, shown on the pages and tickets in Tibetan when set."""
    description_zh: str = Field(default="", max_length=2000)
    description_en: str = Field(default="", max_length=2000)
    audience: str = Field(default=Audience.ADULT, sa_type=sa.String(16))
    price: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    sales_start: dt.datetime | None = utc_field(nullable=True, default=None)
    sales_end: dt.datetime | None = utc_field(nullable=True, default=None)
    max_per_order: int = Field(default=10)
    is_active: bool = Field(default=True)
    position: int = Field(default=0)


class TicketTypeDay(SQLModel, table=True):
    """A day a ticket type is valid on. Fixed once the type has sold."""

    __tablename__ = "ticket_type_day"

    ticket_type_id: uuid.UUID = Field(
        foreign_key="ticket_type.id", primary_key=True, ondelete="CASCADE"
    )
    day_id: uuid.UUID = Field(
        foreign_key="festival_day.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class TicketQuota(IdMixin, TimestampMixin, table=True):
    """Capacity: at most ``size`` tickets, held or sold, that match it.

    A ticket type matches when every set scope matches: ``ticket_type_id`` (that type),
    ``enclosure_id`` (types of that enclosure), ``day_id`` (types valid on that day). A
    multi-day pass counts against each day quota it covers. ``sold`` counts the valid
    tickets issued; ``held`` the quantity of the quota's ``ticket_quota_hold`` rows (an
    expired hold still counts here until a writer holding this row's lock deletes it,
    which every capacity decision does first: see ``capacity``). ``version`` goes up when
    the set of quotas covering its types may have changed (a quota was added), so a
    decision made with an older coverage is retried.
    """

    __tablename__ = "ticket_quota"
    __table_args__ = (
        sa.CheckConstraint("size >= 0", name="size_not_negative"),
        sa.CheckConstraint("sold >= 0 AND sold <= size", name="sold_within_size"),
        sa.CheckConstraint("held >= 0 AND sold + held <= size", name="taken_within_size"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    size: int = Field()
    sold: int = Field(default=0)
    held: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    day_id: uuid.UUID | None = Field(
        default=None, foreign_key="festival_day.id", ondelete="CASCADE"
    )
    enclosure_id: uuid.UUID | None = Field(
        default=None, foreign_key="enclosure.id", ondelete="CASCADE"
    )
    ticket_type_id: uuid.UUID | None = Field(
        default=None, foreign_key="ticket_type.id", ondelete="CASCADE"
    )


class CapacityEpoch(SQLModel, table=True):
    """Goes up whenever capacity is given back at a festival (a refund, a cancelled or
    failed payment, a bigger or deleted quota): a cached "sold out" answer made at an older
    epoch is checked again. Read with the ticket types on every order, written only by
    those who give capacity back."""

    __tablename__ = "ticket_capacity_epoch"

    festival_id: uuid.UUID = Field(foreign_key="festival.id", primary_key=True, ondelete="CASCADE")
    epoch: int = Field(default=0, sa_type=sa.BigInteger)


class TicketOrder(IdMixin, TimestampMixin, table=True):
    """A buyer's order. The access token is kept as its SHA-256 (for look-ups) and sealed
    with the app secret (to replay an idempotent answer and to mail the link)."""

    __tablename__ = "ticket_order"

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    locale: str = Field(default="zh", max_length=8)
    status: str = Field(sa_type=sa.String(16), index=True)
    total: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    access_token_hash: str = Field(max_length=64, unique=True)
    access_token_sealed: str = Field(sa_type=sa.Text)
    payment_id: uuid.UUID | None = Field(default=None, index=True)
    """The payments domain's payment (no foreign key: the domains stay apart)."""
    checkout_url: str | None = Field(default=None, sa_type=sa.Text)
    expires_at: dt.datetime | None = utc_field(nullable=True, default=None)
    """Until when the capacity is held for a pending order."""
    idempotency_key: str | None = Field(default=None, max_length=255, unique=True)
    """SHA-256 of the festival, the caller (user id, or anonymous) and the client's
    ``Idempotency-Key``: a key never reaches another caller's order."""
    request_fingerprint: str = Field(max_length=64)
    paid_at: dt.datetime | None = utc_field(nullable=True, default=None)
    canceled_at: dt.datetime | None = utc_field(nullable=True, default=None)
    cancel_reason: str = Field(default="", max_length=200)


class TicketOrderLine(IdMixin, table=True):
    __tablename__ = "ticket_order_line"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "ticket_type_id"),
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    order_id: uuid.UUID = Field(foreign_key="ticket_order.id", index=True, ondelete="CASCADE")
    ticket_type_id: uuid.UUID = Field(foreign_key="ticket_type.id", index=True)
    quantity: int = Field()
    unit_price: int = Field(sa_type=sa.BigInteger)


class QuotaHold(SQLModel, table=True):
    """Capacity held for a pending order; taken while ``expires_at`` is in the future."""

    __tablename__ = "ticket_quota_hold"
    __table_args__ = (
        sa.Index("ix_ticket_quota_hold_quota_expires", "quota_id", "expires_at"),
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    order_id: uuid.UUID = Field(foreign_key="ticket_order.id", primary_key=True, ondelete="CASCADE")
    quota_id: uuid.UUID = Field(foreign_key="ticket_quota.id", primary_key=True, ondelete="CASCADE")
    quantity: int = Field()
    expires_at: dt.datetime = utc_field()


class Ticket(IdMixin, table=True):
    """One admission. ``serial`` goes up whenever the ticket changes; the old token is
    then revoked."""

    __table_args__ = (sa.Index("ix_ticket_festival_status", "festival_id", "status"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", ondelete="CASCADE")
    order_id: uuid.UUID = Field(foreign_key="ticket_order.id", index=True, ondelete="CASCADE")
    ticket_type_id: uuid.UUID = Field(foreign_key="ticket_type.id", index=True)
    enclosure_id: uuid.UUID = Field(foreign_key="enclosure.id", index=True)
    status: str = Field(sa_type=sa.String(16))
    audience: str = Field(default=Audience.ADULT, sa_type=sa.String(16))
    price: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    serial: int = Field(default=1)
    kid: int = Field()
    token: str = Field(sa_type=sa.Text)
    issued_at: dt.datetime = utc_field(default_factory=utcnow)
    canceled_at: dt.datetime | None = utc_field(nullable=True, default=None)


class TicketDay(SQLModel, table=True):
    """A day a ticket admits on (the date copied in, for the one-statement check-in)."""

    __tablename__ = "ticket_day"

    ticket_id: uuid.UUID = Field(foreign_key="ticket.id", primary_key=True, ondelete="CASCADE")
    day_id: uuid.UUID = Field(foreign_key="festival_day.id", primary_key=True, ondelete="CASCADE")
    date: dt.date


class TicketSigningKey(SQLModel, table=True):
    """An Ed25519 key pair signing a festival's tickets; ``kid`` is in every token.

    The private key is sealed (AES-256-GCM) under a key derived from the app secret. One
    key per festival is active (signs new tokens); retired keys still verify.
    """

    __tablename__ = "ticket_signing_key"
    __table_args__ = (
        sa.Index(
            "uq_ticket_signing_key_active",
            "festival_id",
            unique=True,
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active"),
        ),
    )

    kid: int | None = Field(default=None, primary_key=True)
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    public_key: str = Field(max_length=64)
    """Raw 32-byte Ed25519 public key, base64."""
    private_key_sealed: str = Field(sa_type=sa.Text)
    active: bool = Field(default=True)
    created_at: dt.datetime = utc_field(default_factory=utcnow)
    retired_at: dt.datetime | None = utc_field(nullable=True, default=None)


class TicketRevocation(SQLModel, table=True):
    """A token that no longer admits. Append-only; ``id`` is the scanners' sync cursor."""

    __tablename__ = "ticket_revocation"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "serial"),
        sa.Index("ix_ticket_revocation_festival_cursor", "festival_id", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(BIGINT_PK, primary_key=True, autoincrement=True)
    )
    festival_id: uuid.UUID = Field(foreign_key="festival.id", ondelete="CASCADE")
    ticket_id: uuid.UUID = Field(foreign_key="ticket.id", ondelete="CASCADE")
    serial: int = Field()
    kid: int = Field()
    reason: str = Field(sa_type=sa.String(16))
    revoked_at: dt.datetime = utc_field(default_factory=utcnow)


class TicketMail(IdMixin, table=True):
    """The outbox: a message to send, written in the transaction that issued the tickets."""

    __tablename__ = "ticket_mail"
    __table_args__ = (sa.Index("ix_ticket_mail_due", "status", "next_attempt_at"),)

    order_id: uuid.UUID = Field(foreign_key="ticket_order.id", index=True, ondelete="CASCADE")
    to_address: str = Field(max_length=254)
    kind: str = Field(default="order_confirmation", max_length=32)
    status: str = Field(default=MailStatus.PENDING, sa_type=sa.String(16))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=500)
    next_attempt_at: dt.datetime = utc_field(default_factory=utcnow)
    created_at: dt.datetime = utc_field(default_factory=utcnow)
    sent_at: dt.datetime | None = utc_field(nullable=True, default=None)


# Typed Core handles, one per table, for statements without ORM objects (events.db.base).
ENCLOSURE = table_of(Enclosure)
ENCLOSURE_GATE = table_of(EnclosureGate)
TYPE = table_of(TicketType)
TYPE_DAY = table_of(TicketTypeDay)
QUOTA = table_of(TicketQuota)
EPOCH = table_of(CapacityEpoch)
ORDER = table_of(TicketOrder)
LINE = table_of(TicketOrderLine)
HOLD = table_of(QuotaHold)
TICKET = table_of(Ticket)
TICKET_DAY = table_of(TicketDay)
KEYS = table_of(TicketSigningKey)
REVOCATION = table_of(TicketRevocation)
MAIL = table_of(TicketMail)
