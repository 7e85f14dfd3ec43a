"""The Stripe adapter: Checkout Sessions, expiry and refunds through the official library.

One ``stripe.StripeClient`` per app (per ``Settings`` object), created on first use and
closed when the app shuts down (``stripe_lifespan``). Its HTTP client is stripe's own
``HTTPXClient`` (async only); tests and load runs give it another httpx transport, so the
real library builds every request and nothing leaves the machine.

Every POST carries an idempotency key derived from our own ids, so a retry (by the
library, or by us after a crash) never makes a second session or a second refund.
"""

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import stripe
from litestar import Litestar

from events.config import Settings
from events.errors import DomainError, ServiceUnavailable

log = logging.getLogger(__name__)


class PaymentProviderError(DomainError):
    """The provider refused or failed; nothing was recorded here."""

    status_code = 502
    code = "payment_provider_error"
    title = "Payment provider error"


class StripeHTTPClient(stripe.HTTPXClient):
    """stripe's httpx client, optionally over another transport (a fake Stripe)."""

    def __init__(
        self, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(timeout=timeout)
        if transport is not None:
            # The library builds the client itself; only its transport is swapped.
            self._client_async = httpx.AsyncClient(transport=transport)

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        # The form body is already encoded: httpx wants it as ``content`` (``data=`` with a
        # string is deprecated there). Stripe's Content-Type header stays as it is.
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        if isinstance(kwargs.get("data"), str | bytes):
            kwargs["content"] = kwargs.pop("data")
        elif not kwargs.get("data"):
            kwargs.pop("data", None)
        return [args, kwargs]


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    payment_id: uuid.UUID
    festival_id: uuid.UUID
    purpose: str
    reference_id: uuid.UUID
    amount: int
    currency: str
    description: str
    customer_email: str | None
    expires_at: datetime
    success_url: str
    cancel_url: str


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str | None


@dataclass(frozen=True, slots=True)
class SessionState:
    """A Checkout Session as Stripe holds it now (not as an event once described it)."""

    id: str
    status: str
    payment_status: str
    amount_total: int | None
    currency: str
    payment_intent: str | None


REFUNDED_STATES = ("succeeded", "pending")
"""A refund in these states counts as money given back (``failed``/``canceled`` do not)."""


@dataclass(frozen=True, slots=True)
class StripeRefund:
    id: str
    status: str
    amount: int


WALLET_CURRENCIES = {
    "alipay": frozenset(
        {"cny", "aud", "cad", "eur", "gbp", "hkd", "jpy", "myr", "nzd", "sgd", "usd"}
    ),
    "wechat_pay": frozenset(
        {"cny", "aud", "cad", "eur", "gbp", "hkd", "jpy", "sgd", "usd", "dkk", "nok", "sek", "chf"}
    ),
}
"""The currencies Stripe takes Alipay and WeChat Pay in (its payment method pages); a
checkout in another currency offers the other configured methods."""


def payment_method_params(methods: list[str], currency: str) -> dict[str, Any]:
    """``payment_method_types`` (and the options they need) for a checkout in ``currency``.

    WeChat Pay in Checkout needs ``payment_method_options[wechat_pay][client]=web`` (the
    payer scans a QR code, or is handed to the WeChat app on a phone); Alipay and cards
    need nothing more. Both wallets pay asynchronously: the session completes with
    ``payment_status=unpaid`` and ``checkout.session.async_payment_succeeded`` (or
    ``_failed``) follows (``events.payments.webhooks``).
    """
    currency = currency.lower()
    chosen = [
        m
        for m in dict.fromkeys(methods)
        if m not in WALLET_CURRENCIES or currency in WALLET_CURRENCIES[m]
    ]
    if not chosen:
        return {}
    params: dict[str, Any] = {"payment_method_types": chosen}
    if "wechat_pay" in chosen:
        params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    return params


def checkout_idempotency_key(payment_id: uuid.UUID) -> str:
    return f"checkout-{payment_id}"


def payment_metadata(
    payment_id: uuid.UUID, festival_id: uuid.UUID, purpose: str, reference_id: uuid.UUID
) -> dict[str, str]:
    """What links a Stripe object back to us (Stripe metadata values are strings)."""
    return {
        "payment_id": str(payment_id),
        "festival_id": str(festival_id),
        "purpose": purpose,
        "reference_id": str(reference_id),
    }


class StripeGateway:
    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if settings.stripe_secret_key is None:
            raise ServiceUnavailable("Stripe is not configured.", code="stripe_not_configured")
        self.settings = settings
        self.http_client = StripeHTTPClient(
            timeout=settings.stripe_timeout_seconds, transport=transport
        )
        base_addresses: dict[str, str] | None = (
            {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        )
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses=base_addresses,  # type: ignore[arg-type]
            max_network_retries=settings.stripe_max_network_retries,
            http_client=self.http_client,
        )

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A hosted Checkout Session for one payment (the amount is ours, not the client's)."""
        metadata = payment_metadata(
            request.payment_id, request.festival_id, request.purpose, request.reference_id
        )
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": str(request.payment_id),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": request.description},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
            "locale": self.settings.stripe_checkout_locale,
            **payment_method_params(self.settings.stripe_payment_method_types, request.currency),
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": checkout_idempotency_key(request.payment_id)},
            )
        except stripe.StripeError as exc:
            raise _provider_error("create a checkout session", exc) from exc
        return CheckoutSession(id=session.id, url=session.url)

    async def expire_checkout(self, session_id: str) -> str:
        """Close an open session so it can no longer be paid; returns the session's status
        (``expired``, or ``complete`` when the customer paid first)."""
        try:
            session = await self.client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError as exc:
            # Only an open session can be expired: look at what it became instead.
            try:
                session = await self.client.v1.checkout.sessions.retrieve_async(session_id)
            except stripe.StripeError:
                raise _provider_error("expire the checkout session", exc) from exc
        except stripe.StripeError as exc:
            raise _provider_error("expire the checkout session", exc) from exc
        return str(session.status or "")

    async def checkout_state(self, session_id: str) -> SessionState:
        """What the session is now: webhooks may come in any order, Stripe's state does not."""
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as exc:
            raise _provider_error("read the checkout session", exc) from exc
        intent = session.payment_intent
        return SessionState(
            id=session.id,
            status=str(session.status or ""),
            payment_status=str(session.payment_status or ""),
            amount_total=session.amount_total,
            currency=str(session.currency or "").upper(),
            payment_intent=intent if isinstance(intent, str) else getattr(intent, "id", None),
        )

    async def intent_metadata(self, payment_intent: str) -> dict[str, str]:
        """The metadata we put on a PaymentIntent (it names our payment)."""
        try:
            intent = await self.client.v1.payment_intents.retrieve_async(payment_intent)
        except stripe.InvalidRequestError:
            return {}
        except stripe.StripeError as exc:
            raise _provider_error("read the payment", exc) from exc
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        return {str(k): str(v) for k, v in metadata.items()}

    async def refunded_total(self, payment_intent: str) -> int:
        """All that went back on a PaymentIntent, as Stripe counts it now."""
        total = 0
        try:
            refunds = await self.client.v1.refunds.list_async(
                {"payment_intent": payment_intent, "limit": 100}
            )
            async for refund in refunds.auto_paging_iter():
                if str(refund.status or "") in REFUNDED_STATES:
                    total += int(refund.amount)
        except stripe.StripeError as exc:
            raise _provider_error("read the refunds", exc) from exc
        return total

    async def refund(
        self, *, payment_intent: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> StripeRefund:
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": amount,
            "reason": "requested_by_customer",
            "metadata": metadata,
        }
        try:
            refund = await self.client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _provider_error("refund", exc) from exc
        return StripeRefund(
            id=refund.id, status=str(refund.status or "pending"), amount=int(refund.amount)
        )

    async def aclose(self) -> None:
        await self.http_client.close_async()  # type: ignore[no-untyped-call]


def _provider_error(action: str, exc: stripe.StripeError) -> DomainError:
    log.warning("Stripe refused to %s: %r", action, exc)
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        exc.http_status is not None and exc.http_status >= 500
    ):
        return ServiceUnavailable(
            f"Stripe could not be reached to {action}; try again.",
            code="payment_provider_unavailable",
        )
    return PaymentProviderError(f"Stripe refused to {action}.", provider_code=exc.code)


# --- one gateway per app ----------------------------------------------------------------

_gateways: dict[int, tuple[Settings, StripeGateway]] = {}


def stripe_gateway(settings: Settings) -> StripeGateway:
    """The app's gateway, created on first use."""
    entry = _gateways.get(id(settings))
    if entry is None or entry[0] is not settings:
        gateway = StripeGateway(settings)
        _gateways[id(settings)] = (settings, gateway)
        return gateway
    return entry[1]


def use_stripe_gateway(settings: Settings, gateway: StripeGateway) -> None:
    """Make ``gateway`` the one for ``settings`` (a gateway over a fake transport)."""
    _gateways[id(settings)] = (settings, gateway)


async def close_stripe_gateway(settings: Settings) -> None:
    entry = _gateways.pop(id(settings), None)
    if entry is not None and entry[0] is settings:
        await entry[1].aclose()


@asynccontextmanager
async def stripe_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Close the app's Stripe client when the app stops."""
    try:
        yield
    finally:
        await close_stripe_gateway(app.state.settings)
