"""Payments, their append-only status history, refunds and the provider events received.

Amounts are integers in the currency's minor unit (fen for CNY).
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, TimestampMixin, utc_field, utcnow

OPEN_STATUSES = ("created", "pending")
"""A purchase has at most one payment in these states (a partial unique index)."""


class Payment(IdMixin, TimestampMixin, table=True):
    """Money asked for one purchase: an entry fee or a ticket order."""

    __table_args__ = (
        sa.Index(
            "uq_payment_open_purchase",
            "purpose",
            "reference_id",
            unique=True,
            postgresql_where=sa.text("status IN ('created', 'pending')"),
            sqlite_where=sa.text("status IN ('created', 'pending')"),
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="refund_within_amount"
        ),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True)
    purpose: str = Field(sa_type=sa.String(32))
    reference_id: uuid.UUID = Field(index=True)
    amount: int = Field(sa_type=sa.BigInteger)
    amount_refunded: int = Field(default=0, sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    description: str = Field(max_length=200)
    customer_email: str | None = Field(default=None, max_length=254)
    provider: str = Field(sa_type=sa.String(16), index=True)
    status: str = Field(sa_type=sa.String(24), index=True)
    provider_session_id: str | None = Field(default=None, max_length=255, unique=True)
    """Stripe: the Checkout Session (``cs_...``)."""
    provider_payment_id: str | None = Field(default=None, max_length=255, index=True)
    """Stripe: the PaymentIntent (``pi_...``), known once the session completes."""
    checkout_url: str | None = Field(default=None, sa_type=sa.Text)
    expires_at: datetime | None = utc_field(nullable=True, default=None)
    paid_at: datetime | None = utc_field(nullable=True, default=None)
    idempotency_key: str | None = Field(default=None, max_length=255, unique=True)
    request_fingerprint: str = Field(max_length=64)
    """SHA-256 of what ``start`` was asked, to tell a retry from a reused key."""


class PaymentStatusChange(IdMixin, table=True):
    """One move of a payment from one status to another. Append-only."""

    __tablename__ = "payment_status_change"

    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, sa_type=sa.String(24))
    to_status: str = Field(sa_type=sa.String(24))
    source: str = Field(sa_type=sa.String(16))
    """Who moved it: ``api``, ``stripe`` (a webhook), ``test``, ``cash``, ``system``."""
    detail: str = Field(default="", max_length=500)
    provider_event_id: str | None = Field(default=None, max_length=255)
    actor_id: uuid.UUID | None = Field(default=None)
    at: datetime = utc_field(default_factory=utcnow)


class PaymentRefund(IdMixin, table=True):
    """Money given back on a payment; several partial refunds may follow one another."""

    __tablename__ = "payment_refund"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True, ondelete="CASCADE")
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True)
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=500)
    status: str = Field(sa_type=sa.String(16))
    """As the provider says: ``succeeded`` or ``pending`` (both count as refunded)."""
    source: str = Field(sa_type=sa.String(16))
    """``api`` (asked here) or ``stripe`` (seen in a ``charge.refunded`` webhook only)."""
    provider_refund_id: str | None = Field(default=None, max_length=255, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=255, unique=True)
    request_fingerprint: str = Field(default="", max_length=64)
    requested_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)


class PaymentProviderEvent(IdMixin, table=True):
    """A provider's webhook event, stored once: a redelivery finds its id taken."""

    __tablename__ = "payment_provider_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    provider: str = Field(sa_type=sa.String(16))
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=100)
    payment_id: uuid.UUID | None = Field(
        default=None, foreign_key="payment.id", index=True, ondelete="SET NULL"
    )
    outcome: str = Field(default="", max_length=64)
    """What it did: ``succeeded``, ``expired``, ``refunded``, ``ignored: ...``."""
    received_at: datetime = utc_field(default_factory=utcnow)
