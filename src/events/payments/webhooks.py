"""Stripe webhooks: verified, stored once, turned into payment state changes.

The event id is inserted first (``INSERT ... ON CONFLICT DO NOTHING`` on a unique key, in
the request's transaction): a redelivery, even one arriving at the same instant, finds the
id taken and changes nothing. When handling fails the whole transaction, event row
included, is rolled back, so Stripe's retry is handled afresh.

Stripe does not promise any order. An event that needs the payment in a state it is not in
yet (a refund of a payment whose completion has not arrived, an expiry of a session the
payer has in fact paid) is not dropped: the payment's state is read from Stripe first
(the session, its PaymentIntent's refunds) and brought up to date, then the event applied.
Every delivery order of one payment's events ends in the same stored state.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.upsert import insert_once
from events.errors import Conflict, DomainError, ServiceUnavailable
from events.payments.gateway import stripe_gateway
from events.payments.models import OPEN_STATUSES, Payment, PaymentProviderEvent
from events.payments.services import (
    PAID_STATUSES,
    PaymentService,
    PaymentStatus,
    Provider,
    parse_payment_id,
)

log = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "charge.refund.updated",
    }
)
"""Everything else is answered 200 and ignored (not stored)."""

PAID_SESSION_STATES = ("paid", "no_payment_required")


class BadWebhook(DomainError):
    """The webhook was not signed with our secret, is too old, or cannot be read."""

    status_code = 400
    code = "invalid_signature"
    title = "Webhook refused"


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    event_id: str
    type: str
    duplicate: bool
    outcome: str
    payment_id: uuid.UUID | None = None


def verify_stripe_event(
    payload: bytes, signature: str | None, secret: str, tolerance: int
) -> dict[str, Any]:
    """The event, once its ``Stripe-Signature`` proves Stripe sent it recently."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise BadWebhook(f"The Stripe-Signature does not verify: {exc.user_message}") from None
    except (UnicodeDecodeError, ValueError):
        raise BadWebhook("The webhook body is not UTF-8 text.") from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise BadWebhook("The webhook body is not JSON.", code="malformed_event") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise BadWebhook("The webhook body is not a Stripe event.", code="malformed_event")
    return event


class StripeWebhookService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.payments = PaymentService(session, settings)

    async def receive(self, payload: bytes, signature: str | None) -> WebhookOutcome:
        secret = self.settings.stripe_webhook_secret
        if secret is None or not secret.get_secret_value():
            raise ServiceUnavailable(
                "The Stripe webhook secret is not configured.", code="stripe_webhook_not_configured"
            )
        event = verify_stripe_event(
            payload,
            signature,
            secret.get_secret_value(),
            self.settings.stripe_webhook_tolerance_seconds,
        )
        event_id, event_type = event["id"], event["type"]
        if event_type not in HANDLED_EVENTS:
            return WebhookOutcome(event_id, event_type, duplicate=False, outcome="ignored")
        row = PaymentProviderEvent(
            provider=Provider.STRIPE, event_id=event_id, type=event_type, outcome="received"
        )
        if not await insert_once(self.session, row):
            return WebhookOutcome(event_id, event_type, duplicate=True, outcome="duplicate")
        obj: dict[str, Any] = event["data"]["object"]
        if event_type in ("charge.refunded", "charge.refund.updated"):
            payment_id, outcome = await self._refund_event(event_id, obj)
        else:
            payment_id, outcome = await self._checkout_session(event_id, event_type, obj)
        await self.session.exec(
            update(PaymentProviderEvent)
            .where(PaymentProviderEvent.id == row.id)  # type: ignore[arg-type]
            .values(payment_id=payment_id, outcome=outcome[:64])
        )
        return WebhookOutcome(
            event_id, event_type, duplicate=False, outcome=outcome, payment_id=payment_id
        )

    async def _locked_payment(
        self, obj: dict[str, Any], *, provider_payment_id: str | None = None
    ) -> Payment | None:
        """The payment a Stripe object names in its metadata (or by its PaymentIntent);
        None when it is not one of ours; 404 when it names a payment we do not have."""
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        named = (metadata or {}).get("payment_id") or obj.get("client_reference_id")
        if named:
            return await self.payments.lock(parse_payment_id(str(named)))
        if provider_payment_id:
            found = (
                await self.session.exec(
                    select(Payment.id).where(Payment.provider_payment_id == provider_payment_id)
                )
            ).first()
            if found is not None:
                return await self.payments.lock(found)
            # A refund made in Stripe's dashboard carries no metadata; its PaymentIntent
            # does (ours), even before the session's completion has reached us.
            named = (await stripe_gateway(self.settings).intent_metadata(provider_payment_id)).get(
                "payment_id"
            )
            if named:
                return await self.payments.lock(parse_payment_id(named))
        return None

    async def _checkout_session(
        self, event_id: str, event_type: str, obj: dict[str, Any]
    ) -> tuple[uuid.UUID | None, str]:
        payment = await self._locked_payment(obj)
        if payment is None:
            return None, "ignored: not ours"
        if payment.provider_session_id not in (None, obj.get("id")):
            raise Conflict(
                "This checkout session belongs to another payment.", code="session_mismatch"
            )
        if event_type in ("checkout.session.expired", "checkout.session.async_payment_failed"):
            if payment.status in OPEN_STATUSES and await self._paid_in_stripe(payment, event_id):
                return payment.id, f"ignored: paid in Stripe ({payment.status})"
            failed = event_type == "checkout.session.async_payment_failed"
            moved = await self.payments.mark_failed(
                payment,
                PaymentStatus.FAILED if failed else PaymentStatus.EXPIRED,
                source="stripe",
                event_id=event_id,
                detail="delayed payment failed" if failed else "checkout session expired",
            )
            word = "failed" if failed else "expired"
            return payment.id, word if moved else f"ignored: payment {payment.status}"

        # completed / async_payment_succeeded
        paid = obj.get("payment_status") in PAID_SESSION_STATES
        moved = await self._apply_session(
            payment,
            amount=obj.get("amount_total"),
            currency=str(obj.get("currency") or ""),
            intent=obj.get("payment_intent"),
            paid=paid,
            event_id=event_id,
            detail=f"checkout session {obj.get('id')}",
        )
        if not paid:
            return payment.id, "awaiting delayed payment"
        if moved:
            return payment.id, "succeeded"
        if payment.status not in PAID_STATUSES:
            log.error(
                "Stripe took money for payment %s, which is %s here: refund or reconcile by hand",
                payment.id,
                payment.status,
            )
        return payment.id, f"ignored: payment {payment.status}"

    async def _apply_session(
        self,
        payment: Payment,
        *,
        amount: Any,
        currency: str,
        intent: Any,
        paid: bool,
        event_id: str,
        detail: str,
    ) -> bool:
        """A session Stripe reports as completed (paid or awaiting a delayed payment):
        True when this moved the (locked) payment to succeeded."""
        currency = currency.upper()
        if amount != payment.amount or currency != payment.currency:
            log.error(
                "Stripe session for payment %s: %s %s, expected %s %s",
                payment.id,
                amount,
                currency,
                payment.amount,
                payment.currency,
            )
            raise Conflict(
                f"Stripe reports {amount} {currency}; the payment is for "
                f"{payment.amount} {payment.currency}.",
                code="amount_mismatch",
            )
        if isinstance(intent, str) and payment.provider_payment_id is None:
            payment.provider_payment_id = intent
        if not paid:
            return False
        return await self.payments.mark_succeeded(
            payment, source="stripe", event_id=event_id, detail=detail
        )

    async def _paid_in_stripe(self, payment: Payment, event_id: str) -> bool:
        """Read the open (locked) payment's session from Stripe and, if the payer has paid,
        record it now (the completion event is late or lost): True when it is paid."""
        if not payment.provider_session_id:
            return False
        state = await stripe_gateway(self.settings).checkout_state(payment.provider_session_id)
        if state.status != "complete":
            return False
        await self._apply_session(
            payment,
            amount=state.amount_total,
            currency=state.currency,
            intent=state.payment_intent,
            paid=state.payment_status in PAID_SESSION_STATES,
            event_id=event_id,
            detail=f"checkout session {state.id} (read from Stripe)",
        )
        return payment.status in PAID_STATUSES

    async def _refund_event(
        self, event_id: str, obj: dict[str, Any]
    ) -> tuple[uuid.UUID | None, str]:
        """``charge.refunded`` (a charge) or ``charge.refund.updated`` (one refund, whose
        status changed): record what went back that we did not know of."""
        intent = obj.get("payment_intent")
        intent = intent if isinstance(intent, str) else None
        payment = await self._locked_payment(obj, provider_payment_id=intent)
        if payment is None:
            return None, "ignored: not ours"
        currency = str(obj.get("currency") or "").upper()
        if currency != payment.currency:
            raise Conflict(
                f"Stripe reports a refund in {currency} on a {payment.currency} payment.",
                code="amount_mismatch",
            )
        if payment.status in OPEN_STATUSES:
            await self._paid_in_stripe(payment, event_id)
        # The event's own figure is a snapshot of its moment; Stripe's count now is what
        # went back, whichever of the events about it comes first.
        intent = intent or payment.provider_payment_id
        if intent is None:
            return payment.id, f"ignored: payment {payment.status}"
        refunded = await stripe_gateway(self.settings).refunded_total(intent)
        if payment.status not in PAID_STATUSES:
            log.error(
                "Stripe refunded %s on payment %s, which is %s here: reconcile by hand",
                refunded,
                payment.id,
                payment.status,
            )
            return payment.id, f"ignored: payment {payment.status}"
        recorded = await self.payments.record_provider_refund(payment, refunded, event_id=event_id)
        return payment.id, f"refunded {recorded}" if recorded else "already recorded"
