"""Reconciliation: per festival, payments by status and provider, and the money movements an
accountant checks against Stripe's payout report (CSV and XLSX).

One row per movement: a payment that took money (at the time it succeeded, positive) and
each refund (negative). ``provider_payment_id`` is Stripe's PaymentIntent id, the column
Stripe's reports carry too; amounts are given both in minor units and in major units.
"""

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals import services as festival_services
from events.money import major_units
from events.payments import schemas
from events.payments.models import Payment, PaymentProviderEvent, PaymentRefund
from events.payments.services import PAID_STATUSES
from events.spreadsheets import Sheet, csv_bytes, xlsx_bytes


@dataclass(frozen=True, slots=True)
class Movement:
    occurred_at: datetime
    kind: str  # "payment" or "refund"
    payment_id: str
    refund_id: str
    purpose: str
    reference_id: str
    provider: str
    payment_status: str
    currency: str
    amount_minor: int
    amount: Decimal
    provider_payment_id: str
    provider_session_id: str
    provider_refund_id: str
    description: str
    customer_email: str
    reason: str


COLUMNS = [f.name for f in fields(Movement)]


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    movements: list[Movement]
    summary: schemas.PaymentSummary


class ReconciliationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def summary(self, festival_id: str) -> schemas.PaymentSummary:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        rows = (
            await self.session.exec(  # type: ignore[call-overload]
                sa.select(
                    col(Payment.status),
                    col(Payment.provider),
                    col(Payment.purpose),
                    func.count(),
                    func.coalesce(func.sum(Payment.amount), 0),
                    func.coalesce(func.sum(Payment.amount_refunded), 0),
                )
                .where(col(Payment.festival_id) == festival.id)
                .group_by(col(Payment.status), col(Payment.provider), col(Payment.purpose))
            )
        ).all()
        by_status: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_provider: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        by_purpose: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        count = received = refunded = 0
        for status, provider, purpose, n, amount, amount_refunded in rows:
            count += int(n)
            by_status[status][0] += int(n)
            by_status[status][1] += int(amount)
            if status not in PAID_STATUSES:
                continue
            received += int(amount)
            refunded += int(amount_refunded)
            for bucket in (by_provider[provider], by_purpose[purpose]):
                bucket[0] += int(n)
                bucket[1] += int(amount)
                bucket[2] += int(amount_refunded)
        unmatched = (
            await self.session.exec(
                select(func.count())
                .select_from(PaymentProviderEvent)
                .where(
                    col(PaymentProviderEvent.outcome).startswith("ignored"),
                    col(PaymentProviderEvent.payment_id).in_(
                        select(Payment.id).where(Payment.festival_id == festival.id)
                    ),
                )
            )
        ).one()

        def money(bucket: list[int]) -> schemas.MoneyTotal:
            return schemas.MoneyTotal(
                payments=bucket[0],
                received=bucket[1],
                refunded=bucket[2],
                net=bucket[1] - bucket[2],
            )

        return schemas.PaymentSummary(
            festival_id=str(festival.id),
            currency=festival.currency,
            payments=count,
            received=received,
            refunded=refunded,
            net=received - refunded,
            by_status={
                k: schemas.StatusTotal(count=v[0], amount=v[1])
                for k, v in sorted(by_status.items())
            },
            by_provider={k: money(v) for k, v in sorted(by_provider.items())},
            by_purpose={k: money(v) for k, v in sorted(by_purpose.items())},
            unmatched_events=int(unmatched),
        )

    async def export(self, festival_id: str) -> Export:
        """Every movement of money of the festival, oldest first."""
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        payments = {
            p.id: p
            for p in (
                await self.session.exec(
                    select(Payment).where(
                        Payment.festival_id == festival.id, col(Payment.status).in_(PAID_STATUSES)
                    )
                )
            ).all()
        }
        refunds = (
            await self.session.exec(
                select(PaymentRefund).where(PaymentRefund.festival_id == festival.id)
            )
        ).all()
        movements = [_movement(p, None) for p in payments.values()]
        for refund in refunds:
            payment = payments.get(refund.payment_id)
            if payment is not None:
                movements.append(_movement(payment, refund))
        movements.sort(key=lambda m: (m.occurred_at, m.kind, m.payment_id, m.refund_id))
        return Export(
            filename=f"payments-{festival.slug}",
            movements=movements,
            summary=await self.summary(str(festival.id)),
        )


def _movement(payment: Payment, refund: PaymentRefund | None) -> Movement:
    amount = payment.amount if refund is None else -refund.amount
    occurred = (payment.paid_at or payment.updated_at) if refund is None else refund.created_at
    return Movement(
        occurred_at=occurred,
        kind="payment" if refund is None else "refund",
        payment_id=str(payment.id),
        refund_id="" if refund is None else str(refund.id),
        purpose=payment.purpose,
        reference_id=str(payment.reference_id),
        provider=payment.provider,
        payment_status=payment.status,
        currency=payment.currency,
        amount_minor=amount,
        amount=major_units(amount, payment.currency),
        provider_payment_id=payment.provider_payment_id or "",
        provider_session_id=payment.provider_session_id or "",
        provider_refund_id=(refund.provider_refund_id or "") if refund else "",
        description=payment.description,
        customer_email=payment.customer_email or "",
        reason=refund.reason if refund else "",
    )


def _cells(movement: Movement) -> list[object]:
    return [getattr(movement, name) for name in COLUMNS]


def to_csv(export: Export) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese right."""
    return csv_bytes(
        COLUMNS, ([m.occurred_at.isoformat(), *_cells(m)[1:]] for m in export.movements)
    )


def to_xlsx(export: Export) -> bytes:
    """Two sheets: the movements (times in UTC: Excel has no zones), and totals per provider
    and purpose."""
    summary = export.summary
    movements = ([m.occurred_at.replace(tzinfo=None), *_cells(m)[1:]] for m in export.movements)
    totals: list[list[object]] = [
        [group, key, bucket.payments, bucket.received, bucket.refunded, bucket.net]
        for group, buckets in (("provider", summary.by_provider), ("purpose", summary.by_purpose))
        for key, bucket in buckets.items()
    ]
    totals += [
        [
            "all",
            "",
            sum(b.payments for b in summary.by_provider.values()),
            summary.received,
            summary.refunded,
            summary.net,
        ],
        [],
        ["festival_id", summary.festival_id],
        ["currency", summary.currency],
        ["times", "UTC"],
    ]
    return xlsx_bytes(
        Sheet("Movements", COLUMNS, movements, date_columns=[0]),
        Sheet(
            "Summary",
            ["group", "key", "payments", "received_minor", "refunded_minor", "net_minor"],
            totals,
        ),
    )
