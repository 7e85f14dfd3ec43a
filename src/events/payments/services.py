"""Payments: start one, move it along its states, refund it. Shared by entries and tickets.

Rules:
- The amount comes from the calling domain's own rules, never from a client; it is in the
  festival's currency, in minor units.
- A payment moves only along ``TRANSITIONS``; every move is an appended
  ``PaymentStatusChange`` and, where money moved, a call to the purpose's handler
  (``events.payments.fulfilment``) in the same transaction.
- A purchase (purpose + reference) has at most one open payment (a partial unique index),
  and is never paid twice.
- Anything a client may retry is idempotent: ``start`` and ``refund`` honour an
  idempotency key (same request: same answer; another request: 409
  ``idempotency_key_reused``), and every Stripe POST carries a key derived from our ids.
- Changes to one payment are serialised by a row lock (``SELECT ... FOR UPDATE``).

Nothing here commits: the request (or ``Database.transaction()``) does.
"""

import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.base import utcnow
from events.db.upsert import insert_once
from events.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from events.festivals import services as festival_services
from events.idempotency import fingerprint, same_request
from events.ids import parse_id
from events.links import Links
from events.payments import fulfilment
from events.payments.fulfilment import PaymentView
from events.payments.gateway import CheckoutRequest, payment_metadata, stripe_gateway
from events.payments.models import (
    OPEN_STATUSES,
    Payment,
    PaymentRefund,
    PaymentStatusChange,
)
from events.schemas import is_email

log = logging.getLogger(__name__)


class PaymentPurpose(StrEnum):
    ENTRY_FEE = "entry_fee"
    TICKET_ORDER = "ticket_order"


class PaymentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Provider(StrEnum):
    STRIPE = "stripe"
    TEST = "test"
    CASH = "cash"


S = PaymentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.PENDING, S.SUCCEEDED, S.FAILED, S.EXPIRED, S.CANCELED}),
    S.PENDING: frozenset({S.SUCCEEDED, S.FAILED, S.EXPIRED, S.CANCELED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
}
"""Where each status may go. Failed, expired, cancelled and refunded are final."""

PAID_STATUSES = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED})
"""Money arrived (whatever went back since)."""
REFUNDABLE_STATUSES = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED})


@dataclass(frozen=True, slots=True)
class Checkout:
    """What ``start`` returns: where to send the payer, if anywhere."""

    payment_id: uuid.UUID
    status: str
    provider: str
    checkout_url: str | None
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class RefundView:
    """A recorded refund, and the payment as it stands after it."""

    id: uuid.UUID
    payment_id: uuid.UUID
    amount: int
    currency: str
    status: str
    reason: str
    source: str
    provider_refund_id: str | None
    created_at: datetime
    payment: PaymentView


def view_of(payment: Payment) -> PaymentView:
    return PaymentView(
        id=payment.id,
        festival_id=payment.festival_id,
        purpose=payment.purpose,
        reference_id=payment.reference_id,
        amount=payment.amount,
        amount_refunded=payment.amount_refunded,
        currency=payment.currency,
        status=payment.status,
        provider=payment.provider,
    )


def checkout_of(payment: Payment) -> Checkout:
    return Checkout(
        payment_id=payment.id,
        status=payment.status,
        provider=payment.provider,
        checkout_url=payment.checkout_url,
        amount=payment.amount,
        currency=payment.currency,
    )


def refund_view(refund: PaymentRefund, payment: Payment) -> RefundView:
    return RefundView(
        id=refund.id,
        payment_id=refund.payment_id,
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        reason=refund.reason,
        source=refund.source,
        provider_refund_id=refund.provider_refund_id,
        created_at=refund.created_at,
        payment=view_of(payment),
    )


def parse_payment_id(value: str | uuid.UUID) -> uuid.UUID:
    """A payment id from a URL or a webhook; a malformed one is simply not found."""
    return parse_id(value, "payment", code="payment_not_found")


def pay_token(settings: Settings, payment_id: uuid.UUID) -> str:
    """The test provider's credential for one payment: only who holds its pay link (the
    buyer) may pay or cancel it there."""
    mac = hmac.new(
        settings.signing_key().encode(), f"test-pay:{payment_id}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def check_pay_token(settings: Settings, payment_id: uuid.UUID, token: str | None) -> None:
    """401 without the pay link's token, 403 with another one."""
    if not token:
        raise Unauthorized(
            "Open the payment's own pay link (it carries its pay_token).", code="pay_token_required"
        )
    if not hmac.compare_digest(token.encode(), pay_token(settings, payment_id).encode()):
        raise Forbidden("This pay_token is not this payment's.", code="pay_token_invalid")


class PaymentService:
    def __init__(
        self, session: AsyncSession, settings: Settings, links: Links | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.links = links or Links.for_settings(settings)
        """Where the checkout pages and the return address point (``events.links``)."""

    # --- reading ------------------------------------------------------------------------

    async def get(self, payment_id: str | uuid.UUID) -> Payment:
        key = parse_payment_id(payment_id)
        payment = await self.session.get(Payment, key)
        if payment is None:
            raise NotFound(f"No payment with id {str(payment_id)!r}.", code="payment_not_found")
        return payment

    async def get_view(self, payment_id: uuid.UUID) -> PaymentView:
        return view_of(await self.get(payment_id))

    async def history(self, payment_id: uuid.UUID) -> list[PaymentStatusChange]:
        rows = await self.session.exec(
            select(PaymentStatusChange)
            .where(PaymentStatusChange.payment_id == payment_id)
            .order_by(col(PaymentStatusChange.at), col(PaymentStatusChange.id))
        )
        return list(rows.all())

    async def refunds_of(self, payment_id: uuid.UUID) -> list[PaymentRefund]:
        rows = await self.session.exec(
            select(PaymentRefund)
            .where(PaymentRefund.payment_id == payment_id)
            .order_by(col(PaymentRefund.created_at), col(PaymentRefund.id))
        )
        return list(rows.all())

    async def list(
        self,
        festival_id: str | uuid.UUID,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        provider: str | None = None,
        purpose: str | None = None,
    ) -> tuple[Sequence[Payment], int]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        conditions = [Payment.festival_id == festival.id]
        if status is not None:
            conditions.append(Payment.status == status)
        if provider is not None:
            conditions.append(Payment.provider == provider)
        if purpose is not None:
            conditions.append(Payment.purpose == purpose)
        total = (
            await self.session.exec(select(func.count()).select_from(Payment).where(*conditions))
        ).one()
        rows = await self.session.exec(
            select(Payment)
            .where(*conditions)
            .order_by(col(Payment.created_at).desc(), col(Payment.id))
            .limit(limit)
            .offset(offset)
        )
        return rows.all(), int(total)

    # --- starting -----------------------------------------------------------------------

    def resolve_provider(self, provider: str | None) -> Provider:
        """``None``: Stripe when configured, else the test provider; ``cash`` always."""
        if provider is None:
            if self.settings.stripe_enabled:
                return Provider.STRIPE
            if self.settings.test_payments_enabled:
                return Provider.TEST
            raise ServiceUnavailable(
                "No online payment provider is configured.", code="payment_provider_unavailable"
            )
        try:
            chosen = Provider(provider)
        except ValueError:
            raise ValidationFailed(
                [
                    FieldError(
                        "provider", f"Unknown provider {provider!r}; use stripe, test or cash."
                    )
                ]
            ) from None
        if chosen is Provider.STRIPE and not self.settings.stripe_enabled:
            raise ServiceUnavailable("Stripe is not configured.", code="stripe_not_configured")
        if chosen is Provider.TEST and not self.settings.test_payments_enabled:
            raise Conflict("The test payment provider is off.", code="test_provider_disabled")
        return chosen

    async def start(
        self,
        *,
        festival_id: uuid.UUID,
        purpose: PaymentPurpose,
        reference_id: uuid.UUID,
        amount: int,
        currency: str,
        description: str,
        customer_email: str | None = None,
        provider: str | None = None,
        idempotency_key: str | None = None,
    ) -> Checkout:
        """Ask for ``amount`` for one purchase; the payer goes to ``checkout_url``.

        Cash succeeds at once (the handler's ``on_succeeded`` runs before this returns).
        A retry with the same ``idempotency_key`` returns the same checkout; so does a second
        start for a purchase whose open payment asks the same.
        """
        purpose = self._purpose(purpose)
        description = description.strip()[:200]
        errors: list[FieldError] = []
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors.append(FieldError("amount", "A positive whole number of minor units (fen)."))
        if not description:
            errors.append(FieldError("description", "Say what is being paid for."))
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            errors.append(FieldError("idempotency_key", "1 to 255 characters."))
        if customer_email is not None and not is_email(customer_email):
            errors.append(FieldError("customer_email", "An e-mail address."))
        if errors:
            raise ValidationFailed(errors)
        chosen = self.resolve_provider(provider)
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        currency = currency.upper()
        if currency != festival.currency:
            raise ValidationFailed(
                [
                    FieldError(
                        "currency", f"This festival takes {festival.currency}, not {currency}."
                    )
                ]
            )
        asked = fingerprint(
            {
                "festival_id": festival.id,
                "purpose": purpose,
                "reference_id": reference_id,
                "amount": amount,
                "currency": currency,
                "provider": chosen,
                "customer_email": customer_email,
            }
        )

        if idempotency_key is not None:
            replay = await self._by_idempotency_key(idempotency_key, asked)
            if replay is not None:
                return checkout_of(replay)
        existing = await self._open_or_paid(purpose, reference_id, amount, currency, chosen)
        if existing is not None:
            return checkout_of(existing)

        now = utcnow()
        payment = Payment(
            festival_id=festival.id,
            purpose=purpose,
            reference_id=reference_id,
            amount=amount,
            currency=currency,
            description=description,
            customer_email=customer_email,
            provider=chosen,
            status=S.CREATED,
            idempotency_key=idempotency_key,
            request_fingerprint=asked,
            created_at=now,
            updated_at=now,
            expires_at=(
                None
                if chosen is Provider.CASH
                else now + timedelta(minutes=self.settings.payment_checkout_minutes)
            ),
        )
        if not await insert_once(self.session, payment):
            # A concurrent start took the key or the purchase's open slot first: its answer
            # is ours (it has committed by now: the insert waited for it).
            if idempotency_key is not None:
                replay = await self._by_idempotency_key(idempotency_key, asked)
                if replay is not None:
                    return checkout_of(replay)
            existing = await self._open_or_paid(purpose, reference_id, amount, currency, chosen)
            if existing is not None:
                return checkout_of(existing)
            raise Conflict(
                "Another payment for this purchase was started at the same time.",
                code="payment_in_progress",
            )
        payment = await self._lock(payment.id)
        self._record(payment, None, S.CREATED, source="api", detail=f"provider {chosen}")

        if chosen is Provider.CASH:
            await self._succeed(payment, source="cash", detail="cash taken at the office")
        elif chosen is Provider.TEST:
            payment.checkout_url = self.links.test_checkout(
                payment.id, pay_token(self.settings, payment.id)
            )
            await self._move(payment, S.PENDING, source="test", detail="test checkout page")
        else:
            assert payment.expires_at is not None
            session = await stripe_gateway(self.settings).create_checkout(
                CheckoutRequest(
                    payment_id=payment.id,
                    festival_id=payment.festival_id,
                    purpose=payment.purpose,
                    reference_id=payment.reference_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    description=payment.description,
                    customer_email=customer_email,
                    expires_at=payment.expires_at,
                    success_url=self.links.payment_result(payment.id, stripe_session=True),
                    cancel_url=self.links.payment_result(payment.id, canceled=True),
                )
            )
            payment.provider_session_id = session.id
            payment.checkout_url = session.url
            await self._move(
                payment, S.PENDING, source="stripe", detail=f"checkout session {session.id}"
            )
        await self.session.flush()
        return checkout_of(payment)

    @staticmethod
    def _purpose(purpose: str) -> PaymentPurpose:
        try:
            return PaymentPurpose(purpose)
        except ValueError:
            raise ValidationFailed(
                [FieldError("purpose", f"Unknown purpose {purpose!r}.")]
            ) from None

    async def _by_idempotency_key(self, key: str, asked: str) -> Payment | None:
        payment = (
            await self.session.exec(select(Payment).where(Payment.idempotency_key == key))
        ).first()
        if payment is None:
            return None
        same_request(payment.request_fingerprint, asked, "payment")
        return payment

    async def _open_or_paid(
        self, purpose: str, reference_id: uuid.UUID, amount: int, currency: str, provider: Provider
    ) -> Payment | None:
        """The purchase's open payment when it asks the same (to be reused); refuses a
        purchase already paid or with a different payment open."""
        rows = (
            await self.session.exec(
                select(Payment).where(
                    Payment.purpose == purpose,
                    Payment.reference_id == reference_id,
                    col(Payment.status).in_([*OPEN_STATUSES, S.SUCCEEDED, S.PARTIALLY_REFUNDED]),
                )
            )
        ).all()
        for payment in rows:
            if payment.status in PAID_STATUSES:
                raise Conflict(
                    "This purchase is already paid.",
                    code="already_paid",
                    payment_id=str(payment.id),
                )
        for payment in rows:
            stale = payment.expires_at is not None and payment.expires_at <= utcnow()
            if stale and await self._close_stale(payment):
                continue
            if (payment.amount, payment.currency, payment.provider) == (amount, currency, provider):
                return payment
            raise Conflict(
                "A different payment for this purchase is still open.",
                code="payment_in_progress",
                payment_id=str(payment.id),
            )
        return None

    async def _close_stale(self, payment: Payment) -> bool:
        """An open payment past its expiry: expire it here (for Stripe, once Stripe agrees
        it can no longer be paid). False when it must stay open."""
        payment = await self._lock(payment.id)
        if payment.status not in OPEN_STATUSES:
            return payment.status not in PAID_STATUSES
        try:
            await self._close_checkout(payment)
        except Conflict:
            return False  # paid at the last moment: the webhook is on its way
        await self._fail(payment, S.EXPIRED, source="system", detail="checkout expired")
        await self.session.flush()
        return True

    # --- moving -------------------------------------------------------------------------

    async def lock(self, payment_id: str | uuid.UUID) -> Payment:
        """The payment, locked until the transaction ends (changes are serialised)."""
        return await self._lock(parse_payment_id(payment_id))

    async def _lock(self, payment_id: uuid.UUID) -> Payment:
        payment = (
            await self.session.exec(
                select(Payment)
                .where(Payment.id == payment_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).first()
        if payment is None:
            raise NotFound(f"No payment with id {str(payment_id)!r}.", code="payment_not_found")
        return payment

    def _record(
        self,
        payment: Payment,
        from_status: str | None,
        to_status: str,
        *,
        source: str,
        detail: str = "",
        event_id: str | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> None:
        self.session.add(
            PaymentStatusChange(
                payment_id=payment.id,
                from_status=from_status,
                to_status=to_status,
                source=source,
                detail=detail[:500],
                provider_event_id=event_id,
                actor_id=actor_id,
            )
        )

    async def _move(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        source: str,
        detail: str = "",
        event_id: str | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> None:
        if to not in TRANSITIONS.get(payment.status, frozenset()):
            raise Conflict(
                f"A {payment.status} payment cannot become {to}.", code="invalid_payment_transition"
            )
        self._record(
            payment,
            payment.status,
            to,
            source=source,
            detail=detail,
            event_id=event_id,
            actor_id=actor_id,
        )
        payment.status = to
        payment.updated_at = utcnow()
        self.session.add(payment)
        await self.session.flush()

    async def _succeed(
        self,
        payment: Payment,
        *,
        source: str,
        detail: str = "",
        event_id: str | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> None:
        payment.paid_at = utcnow()
        await self._move(
            payment, S.SUCCEEDED, source=source, detail=detail, event_id=event_id, actor_id=actor_id
        )
        await fulfilment.succeeded(self.session, view_of(payment), self.settings)

    async def _fail(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        source: str,
        detail: str = "",
        event_id: str | None = None,
    ) -> None:
        await self._move(payment, to, source=source, detail=detail, event_id=event_id)
        await fulfilment.failed(self.session, view_of(payment), self.settings)

    async def mark_succeeded(
        self, payment: Payment, *, source: str, detail: str = "", event_id: str | None = None
    ) -> bool:
        """An open (locked) payment was paid: True when this call moved it."""
        if payment.status not in OPEN_STATUSES:
            return False
        await self._succeed(payment, source=source, detail=detail, event_id=event_id)
        return True

    async def mark_failed(
        self,
        payment: Payment,
        to: PaymentStatus,
        *,
        source: str,
        detail: str = "",
        event_id: str | None = None,
    ) -> bool:
        """An open (locked) payment failed, expired or was cancelled: True when moved.

        Cancelling a Stripe payment closes its checkout in Stripe first, so that it can no
        longer be paid; when the payer has just paid, 409 ``paid_online`` (the webhook will
        confirm the payment).
        """
        if payment.status not in OPEN_STATUSES:
            return False
        if to == S.CANCELED and source != "stripe":
            await self._close_checkout(payment)
        await self._fail(payment, to, source=source, detail=detail, event_id=event_id)
        return True

    async def cancel(
        self, payment_id: str | uuid.UUID, *, reason: str, source: str = "api"
    ) -> PaymentView:
        """The purchase is abandoned before it was paid: close the payment (the handler's
        ``on_failed`` runs). Cancelling a closed payment again changes nothing."""
        payment = await self.lock(payment_id)
        if payment.status in PAID_STATUSES:
            raise Conflict("This payment is already paid; refund it instead.", code="already_paid")
        await self.mark_failed(payment, S.CANCELED, source=source, detail=reason)
        return view_of(payment)

    async def _close_checkout(self, payment: Payment) -> None:
        if payment.provider == Provider.STRIPE and payment.provider_session_id:
            state = await stripe_gateway(self.settings).expire_checkout(payment.provider_session_id)
            if state != "expired":
                raise Conflict(
                    "The payer has just paid online; the payment will show as succeeded shortly.",
                    code="paid_online",
                )

    # --- cash and the test provider -----------------------------------------------------

    async def record_cash(
        self,
        payment_id: str | uuid.UUID,
        *,
        amount: int,
        note: str = "",
        actor_id: uuid.UUID | None = None,
    ) -> PaymentView:
        """An organiser took the money on site for an open payment (any provider).

        An open Stripe checkout is closed first, so it cannot be paid a second time online.
        """
        payment = await self.lock(payment_id)
        if payment.status in PAID_STATUSES:
            if payment.provider == Provider.CASH:
                return view_of(payment)  # a retry: already recorded
            raise Conflict("This payment was already paid online.", code="already_paid")
        if payment.status not in OPEN_STATUSES:
            raise Conflict(
                f"This payment is {payment.status}; start a new one.", code="payment_not_open"
            )
        if amount != payment.amount:
            raise Conflict(
                f"This payment is for {payment.amount} (minor units), not {amount}.",
                code="amount_mismatch",
            )
        await self._close_checkout(payment)
        detail = f"cash taken (was {payment.provider})" + (f": {note}" if note else "")
        payment.provider = Provider.CASH
        await self._succeed(payment, source="cash", detail=detail, actor_id=actor_id)
        return view_of(payment)

    async def _test_payment(self, payment_id: str | uuid.UUID, token: str | None) -> Payment:
        if not self.settings.test_payments_enabled:
            raise NotFound("The test payment provider is off.", code="test_provider_disabled")
        check_pay_token(self.settings, parse_payment_id(payment_id), token)
        payment = await self.lock(payment_id)
        if payment.provider != Provider.TEST:
            raise NotFound(
                f"No test payment with id {str(payment_id)!r}.", code="payment_not_found"
            )
        return payment

    async def test_complete(self, payment_id: str | uuid.UUID, token: str | None) -> PaymentView:
        """The test provider's 'Pay': what Stripe's ``checkout.session.completed`` does.

        Idempotent: a paid payment is returned as it is. Past its expiry it expires instead.
        """
        payment = await self._test_payment(payment_id, token)
        if payment.status in PAID_STATUSES:
            return view_of(payment)
        if payment.status not in OPEN_STATUSES:
            raise Conflict(f"This payment is {payment.status}.", code="payment_not_open")
        if payment.expires_at is not None and payment.expires_at <= utcnow():
            await self._fail(payment, S.EXPIRED, source="test", detail="checkout expired")
        else:
            await self._succeed(payment, source="test", detail="paid on the test page")
        return view_of(payment)

    async def test_cancel(self, payment_id: str | uuid.UUID, token: str | None) -> PaymentView:
        """The test provider's 'Cancel': the payer gave up; what was held is released."""
        payment = await self._test_payment(payment_id, token)
        if payment.status in (S.CANCELED, S.EXPIRED, S.FAILED):
            return view_of(payment)
        if payment.status not in OPEN_STATUSES:
            raise Conflict(f"This payment is {payment.status}.", code="payment_not_open")
        await self._fail(payment, S.CANCELED, source="test", detail="cancelled on the test page")
        return view_of(payment)

    # --- refunds ------------------------------------------------------------------------

    async def refund(
        self,
        payment_id: uuid.UUID,
        *,
        amount: int | None = None,
        reason: str,
        idempotency_key: str | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> RefundView:
        """Give back ``amount`` (default: all that remains) and record it.

        The same ``idempotency_key`` returns the same refund; Stripe gets a key derived from
        it (or from what was refunded so far), so a retry never refunds twice.
        """
        reason = reason.strip()
        errors: list[FieldError] = []
        if amount is not None and (isinstance(amount, bool) or amount <= 0):
            errors.append(FieldError("amount", "A positive whole number of minor units."))
        if not reason:
            errors.append(FieldError("reason", "Say why the money goes back."))
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            errors.append(FieldError("idempotency_key", "1 to 255 characters."))
        if errors:
            raise ValidationFailed(errors)
        payment = await self.lock(payment_id)  # refunds of one payment queue up here
        asked = fingerprint({"payment_id": payment.id, "amount": amount, "reason": reason})
        if idempotency_key is not None:
            earlier = (
                await self.session.exec(
                    select(PaymentRefund).where(PaymentRefund.idempotency_key == idempotency_key)
                )
            ).first()
            if earlier is not None:
                same_request(earlier.request_fingerprint, asked, "refund")
                return refund_view(earlier, payment)
        if payment.status not in REFUNDABLE_STATUSES:
            raise Conflict(
                f"A {payment.status} payment cannot be refunded.", code="payment_not_refundable"
            )
        remaining = payment.amount - payment.amount_refunded
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise Conflict(
                f"Only {remaining} (minor units) remain to be refunded.",
                code="refund_exceeds_payment",
                remaining=remaining,
            )

        refund = PaymentRefund(
            payment_id=payment.id,
            festival_id=payment.festival_id,
            amount=amount,
            currency=payment.currency,
            reason=reason[:500],
            status="succeeded",
            source="api",
            idempotency_key=idempotency_key,
            request_fingerprint=asked,
            requested_by=actor_id,
        )
        if payment.provider == Provider.STRIPE:
            if not payment.provider_payment_id:
                raise Conflict(
                    "Stripe's payment reference is missing; refund it in Stripe.",
                    code="provider_reference_missing",
                )
            key = (
                f"refund-{payment.id}-{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
                if idempotency_key is not None
                else f"refund-{payment.id}-{payment.amount_refunded}-{amount}"
            )
            metadata = payment_metadata(
                payment.id, payment.festival_id, payment.purpose, payment.reference_id
            )
            metadata["refund_id"] = str(refund.id)
            stripe_refund = await stripe_gateway(self.settings).refund(
                payment_intent=payment.provider_payment_id,
                amount=amount,
                metadata=metadata,
                idempotency_key=key,
            )
            if stripe_refund.status in ("failed", "canceled"):
                raise Conflict("Stripe did not make the refund.", code="refund_failed")
            refund.provider_refund_id = stripe_refund.id
            refund.status = stripe_refund.status
        self.session.add(refund)
        await self._apply_refund(
            payment, amount, source="api", detail=f"refund {amount}: {reason}", actor_id=actor_id
        )
        return refund_view(refund, payment)

    async def record_provider_refund(
        self, payment: Payment, total_refunded: int, *, event_id: str
    ) -> int:
        """Stripe says ``total_refunded`` went back on this (locked) payment; record what we
        did not know of (a refund made in Stripe's dashboard). Returns the amount recorded."""
        if payment.status not in REFUNDABLE_STATUSES:
            return 0
        missing = min(total_refunded, payment.amount) - payment.amount_refunded
        if missing <= 0:
            return 0
        self.session.add(
            PaymentRefund(
                payment_id=payment.id,
                festival_id=payment.festival_id,
                amount=missing,
                currency=payment.currency,
                reason="refunded in Stripe",
                status="succeeded",
                source="stripe",
            )
        )
        await self._apply_refund(
            payment,
            missing,
            source="stripe",
            detail=f"refund {missing} seen in Stripe",
            event_id=event_id,
        )
        return missing

    async def _apply_refund(
        self,
        payment: Payment,
        amount: int,
        *,
        source: str,
        detail: str,
        event_id: str | None = None,
        actor_id: uuid.UUID | None = None,
    ) -> None:
        payment.amount_refunded += amount
        to = S.REFUNDED if payment.amount_refunded >= payment.amount else S.PARTIALLY_REFUNDED
        await self._move(
            payment, to, source=source, detail=detail, event_id=event_id, actor_id=actor_id
        )
        await fulfilment.refunded(self.session, view_of(payment), amount, self.settings)
