"""Starting a payment through Stripe: what Stripe receives, what is stored, idempotency."""

import time
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from events.config import Settings
from events.db.base import utcnow
from events.db.engine import Database
from events.errors import Conflict, DomainError, ValidationFailed
from events.payments.gateway import StripeGateway, close_stripe_gateway, use_stripe_gateway
from events.payments.models import Payment, PaymentStatusChange
from events.payments.services import PaymentPurpose
from tests.payments.conftest import BASE_URL, count, history, load_payment, start_payment
from tests.payments.fake_stripe import FakeStripe


async def test_stripe_receives_the_exact_checkout_parameters(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    reference = uuid.uuid4()
    before = int(time.time())
    checkout = await start_payment(
        db,
        settings,
        festival,
        amount=60000,
        reference_id=reference,
        description="Entry fee: 10 km open",
    )

    [sent] = fake_stripe.posts("/v1/checkout/sessions")
    payment_id = str(checkout.payment_id)
    metadata = {
        "metadata[payment_id]": payment_id,
        "metadata[festival_id]": festival["id"],
        "metadata[purpose]": "entry_fee",
        "metadata[reference_id]": str(reference),
    }
    expires_at = int(sent.form.pop("expires_at"))
    assert sent.form == {
        "mode": "payment",
        "client_reference_id": payment_id,
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "cny",
        "line_items[0][price_data][unit_amount]": "60000",
        "line_items[0][price_data][product_data][name]": "Entry fee: 10 km open",
        **metadata,
        **{
            k.replace("metadata[", "payment_intent_data[metadata]["): v for k, v in metadata.items()
        },
        "payment_intent_data[description]": "Entry fee: 10 km open",
        "success_url": f"{BASE_URL}/pay/{payment_id}/result?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{BASE_URL}/pay/{payment_id}/result?canceled=1",
        "locale": "auto",
        "customer_email": "owner@example.com",
        # Cards, Alipay and WeChat Pay for CNY; WeChat Pay in Checkout needs client=web.
        "payment_method_types[0]": "card",
        "payment_method_types[1]": "alipay",
        "payment_method_types[2]": "wechat_pay",
        "payment_method_options[wechat_pay][client]": "web",
    }
    assert before + 30 * 60 <= expires_at <= int(time.time()) + 30 * 60
    assert sent.headers["Idempotency-Key"] == f"checkout-{payment_id}"
    assert sent.headers["Authorization"] == "Bearer sk_test_fake"
    assert sent.headers["Stripe-Version"]

    assert checkout.status == "pending"
    assert checkout.provider == "stripe"
    assert (checkout.amount, checkout.currency) == (60000, "CNY")
    session_id = next(iter(fake_stripe.sessions))
    assert checkout.checkout_url == f"https://checkout.stripe.test/c/pay/{session_id}"
    stored = await load_payment(db, checkout.payment_id)
    assert stored.provider_session_id == session_id
    assert stored.expires_at is not None
    assert int(stored.expires_at.timestamp()) == expires_at
    assert (stored.purpose, stored.reference_id, stored.amount_refunded) == (
        "entry_fee",
        reference,
        0,
    )
    assert await history(db, checkout.payment_id) == [
        (None, "created", "api"),
        ("created", "pending", "stripe"),
    ]


async def test_the_payment_methods_come_from_the_setting(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    cards_only = settings.model_copy(update={"stripe_payment_method_types": ["card", "alipay"]})
    use_stripe_gateway(cards_only, StripeGateway(cards_only, transport=fake_stripe.transport))
    try:
        await start_payment(db, cards_only, festival, amount=8000, reference_id=uuid.uuid4())
    finally:
        await close_stripe_gateway(cards_only)
    [sent] = fake_stripe.posts("/v1/checkout/sessions")
    methods = {k: v for k, v in sent.form.items() if k.startswith("payment_method")}
    assert methods == {"payment_method_types[0]": "card", "payment_method_types[1]": "alipay"}


def test_wallets_are_offered_only_in_currencies_they_take() -> None:
    from events.payments.gateway import payment_method_params

    methods = ["card", "alipay", "wechat_pay"]
    assert payment_method_params(methods, "CNY") == {
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "payment_method_options": {"wechat_pay": {"client": "web"}},
    }
    assert payment_method_params(methods, "INR") == {"payment_method_types": ["card"]}
    assert payment_method_params([], "CNY") == {}


async def test_the_same_idempotency_key_returns_the_same_checkout(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    reference = uuid.uuid4()
    first = await start_payment(
        db, settings, festival, reference_id=reference, idempotency_key="order-1-attempt-1"
    )
    again = await start_payment(
        db, settings, festival, reference_id=reference, idempotency_key="order-1-attempt-1"
    )

    assert again == first
    assert len(fake_stripe.posts("/v1/checkout/sessions")) == 1
    assert await count(db, Payment) == 1


async def test_an_idempotency_key_reused_for_another_payment_is_refused(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    reference = uuid.uuid4()
    await start_payment(db, settings, festival, reference_id=reference, idempotency_key="k-1")

    with pytest.raises(Conflict) as refused:
        await start_payment(
            db, settings, festival, reference_id=reference, amount=70000, idempotency_key="k-1"
        )

    assert refused.value.instance_code == "idempotency_key_reused"
    assert await count(db, Payment) == 1
    assert len(fake_stripe.posts("/v1/checkout/sessions")) == 1


async def test_a_second_start_for_an_open_purchase_reuses_its_payment(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    reference = uuid.uuid4()
    first = await start_payment(db, settings, festival, reference_id=reference)
    second = await start_payment(db, settings, festival, reference_id=reference)

    assert second.payment_id == first.payment_id
    with pytest.raises(Conflict) as refused:
        await start_payment(db, settings, festival, reference_id=reference, amount=1000)
    assert refused.value.instance_code == "payment_in_progress"
    assert await count(db, Payment) == 1


async def test_concurrent_starts_of_one_purchase_make_one_payment(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    import asyncio

    reference = uuid.uuid4()
    results = await asyncio.gather(
        *(start_payment(db, settings, festival, reference_id=reference) for _ in range(3))
    )

    assert len({r.payment_id for r in results}) == 1
    assert await count(db, Payment) == 1


async def test_stripe_failing_stores_nothing(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_with = 500

    with pytest.raises(DomainError) as refused:
        await start_payment(db, settings, festival)

    assert refused.value.status_code == 503
    assert refused.value.instance_code == "payment_provider_unavailable"
    assert await count(db, Payment) == 0
    assert await count(db, PaymentStatusChange) == 0


async def test_stripe_refusing_is_a_provider_error(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_with = 400

    with pytest.raises(DomainError) as refused:
        await start_payment(db, settings, festival)

    assert (refused.value.status_code, refused.value.instance_code) == (
        502,
        "payment_provider_error",
    )
    assert await count(db, Payment) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -100}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"description": "  "}, "description"),
        ({"provider": "paypal"}, "provider"),
        ({"customer_email": "not an address"}, "customer_email"),
    ],
)
async def test_bad_starts_are_refused_naming_the_field(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    changes: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await start_payment(db, settings, festival, **changes)

    assert [e["field"] for e in refused.value.errors] == [field]
    assert await count(db, Payment) == 0
    assert fake_stripe.requests == []


async def test_a_paid_purchase_cannot_be_paid_again(
    db: Database, settings: Settings, festival: dict[str, Any]
) -> None:
    reference = uuid.uuid4()
    await start_payment(
        db,
        settings,
        festival,
        reference_id=reference,
        provider="cash",
        purpose=PaymentPurpose.TICKET_ORDER,
    )

    with pytest.raises(Conflict) as refused:
        await start_payment(
            db, settings, festival, reference_id=reference, purpose=PaymentPurpose.TICKET_ORDER
        )

    assert refused.value.instance_code == "already_paid"
    assert await count(db, Payment) == 1


async def test_a_start_after_the_open_checkout_expired_closes_it_in_stripe_first(
    db: Database, settings: Settings, festival: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    from datetime import timedelta

    reference = uuid.uuid4()
    first = await start_payment(db, settings, festival, reference_id=reference)
    async with db.transaction() as session:
        await session.exec(
            update(Payment)
            .where(Payment.id == first.payment_id)  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    old_session = (await load_payment(db, first.payment_id)).provider_session_id

    second = await start_payment(db, settings, festival, reference_id=reference)

    assert second.payment_id != first.payment_id
    assert [r.path for r in fake_stripe.requests if r.path.endswith("/expire")] == [
        f"/v1/checkout/sessions/{old_session}/expire"
    ]
    assert (await load_payment(db, first.payment_id)).status == "expired"
    assert (await history(db, first.payment_id))[-1] == ("pending", "expired", "system")
    assert len(fake_stripe.posts("/v1/checkout/sessions")) == 2
