"""Payments fixtures: Stripe configured and pointed at the in-process fake, a recording
handler registered for each purpose, helpers to start payments and sign webhooks."""

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.engine import Database
from events.payments import fulfilment
from events.payments.fulfilment import LedgerEvent, PaymentView
from events.payments.gateway import StripeGateway, close_stripe_gateway, use_stripe_gateway
from events.payments.models import (
    Payment,
    PaymentProviderEvent,
    PaymentRefund,
    PaymentStatusChange,
)
from events.payments.services import Checkout, PaymentPurpose, PaymentService
from tests.conftest import make_settings
from tests.payments.fake_stripe import FakeStripe

WHSEC = "whsec_test_secret_for_the_fake"
BASE_URL = "https://fest.example"


@pytest.fixture
def settings(pg_url: str) -> Settings:
    """Stripe configured (at an address that does not exist: the fake answers)."""
    return make_settings(
        pg_url,
        stripe_secret_key="sk_test_fake",
        stripe_webhook_secret=WHSEC,
        stripe_api_base="https://stripe.invalid",
        stripe_max_network_retries=0,
        public_base_url=BASE_URL,
    )


@pytest.fixture(autouse=True)
async def fake_stripe(settings: Settings) -> AsyncIterator[FakeStripe]:
    """The real stripe library over the fake's transport, for this test's settings (always:
    no payments test may reach Stripe)."""
    fake = FakeStripe()
    if settings.stripe_enabled:
        use_stripe_gateway(settings, StripeGateway(settings, transport=fake.transport))
    yield fake
    await close_stripe_gateway(settings)


@dataclass
class RecordingHandler:
    """A purpose's handler that remembers every call (and can be told to refuse)."""

    calls: list[tuple[str, PaymentView, int | None]] = field(default_factory=list)
    refuse: Exception | None = None

    async def on_succeeded(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        self._called("succeeded", payment, None)

    async def on_failed(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        self._called("failed", payment, None)

    async def on_refunded(
        self, session: AsyncSession, payment: PaymentView, amount: int, settings: Settings
    ) -> None:
        self._called("refunded", payment, amount)

    def _called(self, what: str, payment: PaymentView, amount: int | None) -> None:
        self.calls.append((what, payment, amount))
        if self.refuse is not None:
            raise self.refuse

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def handler() -> Iterator[RecordingHandler]:
    """Registered for both purposes for the test, the previous handlers restored after."""
    recorder = RecordingHandler()
    with (
        fulfilment.registered(PaymentPurpose.ENTRY_FEE, recorder),
        fulfilment.registered(PaymentPurpose.TICKET_ORDER, recorder),
    ):
        yield recorder


@dataclass
class LedgerRecorder:
    calls: list[tuple[LedgerEvent, uuid.UUID, int]] = field(default_factory=list)

    async def __call__(
        self, session: AsyncSession, payment: PaymentView, event: LedgerEvent, amount: int
    ) -> None:
        self.calls.append((event, payment.id, amount))


@pytest.fixture
def ledger() -> Iterator[LedgerRecorder]:
    recorder = LedgerRecorder()
    fulfilment.register_ledger(recorder)
    yield recorder
    fulfilment.unregister_ledger(recorder)


async def start_payment(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    *,
    amount: int = 60000,
    purpose: PaymentPurpose = PaymentPurpose.ENTRY_FEE,
    reference_id: uuid.UUID | None = None,
    provider: str | None = None,
    idempotency_key: str | None = None,
    currency: str = "CNY",
    description: str = "Entry fee: 10 km open, horse 追风",
    customer_email: str | None = "owner@example.com",
) -> Checkout:
    """What registration or ticketing does: start a payment in its own transaction."""
    async with db.transaction() as session:
        return await PaymentService(session, settings).start(
            festival_id=uuid.UUID(festival["id"]),
            purpose=purpose,
            reference_id=reference_id or uuid.uuid4(),
            amount=amount,
            currency=currency,
            description=description,
            customer_email=customer_email,
            provider=provider,
            idempotency_key=idempotency_key,
        )


async def load_payment(db: Database, payment_id: uuid.UUID) -> Payment:
    async with db.transaction() as session:
        payment = await session.get(Payment, payment_id)
        assert payment is not None
        return payment


async def history(db: Database, payment_id: uuid.UUID) -> list[tuple[str | None, str, str]]:
    async with db.transaction() as session:
        rows = await PaymentService(session, make_settings(db.url)).history(payment_id)
        return [(r.from_status, r.to_status, r.source) for r in rows]


async def table_snapshot(db: Database) -> dict[str, Any]:
    """Everything the payments domain stores, to prove that nothing changed."""
    async with db.transaction() as session:
        snapshot: dict[str, Any] = {}
        for model in (Payment, PaymentStatusChange, PaymentRefund, PaymentProviderEvent):
            rows = (await session.exec(select(model))).all()
            snapshot[str(model.__tablename__)] = sorted(row.model_dump_json() for row in rows)
        return snapshot


async def count(db: Database, model: Any, *conditions: Any) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(model)
        if conditions:
            query = query.where(*conditions)
        return int((await session.exec(query)).one())


def signed(payload: str, *, secret: str = WHSEC, timestamp: int | None = None) -> dict[str, str]:
    """Headers Stripe would send, signed with the library's own helper."""
    return {
        "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp=timestamp if timestamp is not None else int(time.time())
        ),
        "Content-Type": "application/json",
    }
