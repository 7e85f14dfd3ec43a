"""Wire types of payments. Amounts are integers in minor units (fen) with their currency."""

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from pydantic import Field

from events.payments.models import Payment, PaymentRefund, PaymentStatusChange
from events.payments.services import RefundView
from events.schemas import Input

MinorUnits = Annotated[int, Field(gt=0, le=10**12, description="Integer minor units (fen for CNY)")]


class RefundIn(Input):
    amount: MinorUnits | None = Field(
        default=None, description="Minor units to give back; omitted: all that remains"
    )
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class CashIn(Input):
    amount: Annotated[MinorUnits, Field(description="The payment's amount, as counted")]
    note: Annotated[str, Field(max_length=500, description="Receipt number, who paid")] = ""


class PaymentRead(msgspec.Struct, kw_only=True):
    id: str
    festival_id: str
    purpose: str
    reference_id: str
    amount: int
    amount_refunded: int
    currency: str
    status: str
    provider: str
    description: str
    customer_email: str | None
    checkout_url: str | None
    provider_session_id: str | None
    provider_payment_id: str | None
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StatusChangeRead(msgspec.Struct, kw_only=True):
    from_status: str | None
    to_status: str
    source: str
    detail: str
    provider_event_id: str | None
    actor_id: str | None
    at: datetime


class RefundRead(msgspec.Struct, kw_only=True):
    id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    reason: str
    source: str
    provider_refund_id: str | None
    created_at: datetime


class PaymentDetail(PaymentRead, kw_only=True):
    history: list[StatusChangeRead]
    refunds: list[RefundRead]


class RefundCreated(RefundRead, kw_only=True):
    payment: PaymentRead


class PaymentState(msgspec.Struct, kw_only=True):
    """What a payer may see of a payment (public test-provider routes)."""

    payment_id: str
    status: str
    provider: str
    amount: int
    amount_refunded: int
    currency: str


class WebhookAck(msgspec.Struct, kw_only=True):
    received: bool
    event_id: str
    type: str
    duplicate: bool
    outcome: str


class StatusTotal(msgspec.Struct, kw_only=True):
    count: int
    amount: int


class MoneyTotal(msgspec.Struct, kw_only=True):
    """Payments that took money: what came in, what went back, what stays."""

    payments: int
    received: int
    refunded: int
    net: int


class PaymentSummary(msgspec.Struct, kw_only=True):
    festival_id: str
    currency: str
    payments: int
    received: int
    refunded: int
    net: int
    by_status: dict[str, StatusTotal]
    by_provider: dict[str, MoneyTotal]
    by_purpose: dict[str, MoneyTotal]
    unmatched_events: int
    """Stripe events about this festival's payments that changed nothing although they
    should have (e.g. money taken for a payment already expired here): look at them."""


def payment_read(payment: Payment) -> PaymentRead:
    return PaymentRead(
        id=str(payment.id),
        festival_id=str(payment.festival_id),
        purpose=payment.purpose,
        reference_id=str(payment.reference_id),
        amount=payment.amount,
        amount_refunded=payment.amount_refunded,
        currency=payment.currency,
        status=payment.status,
        provider=payment.provider,
        description=payment.description,
        customer_email=payment.customer_email,
        checkout_url=payment.checkout_url,
        provider_session_id=payment.provider_session_id,
        provider_payment_id=payment.provider_payment_id,
        expires_at=payment.expires_at,
        paid_at=payment.paid_at,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
    )


def status_change_read(change: PaymentStatusChange) -> StatusChangeRead:
    return StatusChangeRead(
        from_status=change.from_status,
        to_status=change.to_status,
        source=change.source,
        detail=change.detail,
        provider_event_id=change.provider_event_id,
        actor_id=str(change.actor_id) if change.actor_id else None,
        at=change.at,
    )


def refund_read(refund: PaymentRefund) -> RefundRead:
    return RefundRead(
        id=str(refund.id),
        payment_id=str(refund.payment_id),
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        reason=refund.reason,
        source=refund.source,
        provider_refund_id=refund.provider_refund_id,
        created_at=refund.created_at,
    )


def payment_detail(
    payment: Payment, history: list[PaymentStatusChange], refunds: list[PaymentRefund]
) -> PaymentDetail:
    base = payment_read(payment)
    return PaymentDetail(
        **msgspec.structs.asdict(base),
        history=[status_change_read(c) for c in history],
        refunds=[refund_read(r) for r in refunds],
    )


def payment_state(
    payment_id: uuid.UUID,
    status: str,
    provider: str,
    amount: int,
    amount_refunded: int,
    currency: str,
) -> PaymentState:
    return PaymentState(
        payment_id=str(payment_id),
        status=status,
        provider=provider,
        amount=amount,
        amount_refunded=amount_refunded,
        currency=currency,
    )


def refund_created(refund: RefundView, payment: Payment) -> RefundCreated:
    """A refund just made (or replayed), with the payment as it now stands."""
    return RefundCreated(
        id=str(refund.id),
        payment_id=str(refund.payment_id),
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        reason=refund.reason,
        source=refund.source,
        provider_refund_id=refund.provider_refund_id,
        created_at=refund.created_at,
        payment=payment_read(payment),
    )
