"""The test provider (no Stripe key, as in ``make run``): its page, complete and cancel."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from events.config import Settings
from events.db.base import utcnow
from events.db.engine import Database
from events.payments.models import Payment
from events.payments.services import PaymentPurpose
from tests.conftest import Client, make_settings, pay_path, serve
from tests.payments.conftest import (
    BASE_URL,
    RecordingHandler,
    history,
    load_payment,
    start_payment,
    table_snapshot,
)
from tests.payments.fake_stripe import FakeStripe


@pytest.fixture
def settings(pg_url: str) -> Settings:
    """No Stripe key: the test provider is on."""
    return make_settings(pg_url, public_base_url=BASE_URL)


def complete_url(payment_id: uuid.UUID | str, action: str = "test-complete") -> str:
    """With the payment's own pay_token (none for an id that is not a UUID)."""
    try:
        return pay_path(payment_id, action)
    except ValueError:
        return f"/api/v1/payments/{payment_id}/{action}"


def cancel_url(payment_id: uuid.UUID | str) -> str:
    return complete_url(payment_id, "test-cancel")


def page_url(payment_id: uuid.UUID | str) -> str:
    """The pay link: the test page with the payment's pay_token."""
    _, _, query = complete_url(payment_id).partition("?")
    return f"/pay/test/{payment_id}" + (f"?{query}" if query else "")


async def test_start_complete_calls_the_handler(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(
        db, settings, festival, amount=60000, purpose=PaymentPurpose.TICKET_ORDER
    )
    assert checkout.provider == "test"
    assert checkout.status == "pending"
    assert checkout.checkout_url == f"{BASE_URL}{page_url(checkout.payment_id)}"

    page = await client.get(page_url(checkout.payment_id))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for text in (
        "支付 / Pay",
        "取消 / Cancel",
        "¥600.00",
        "Entry fee: 10 km open, horse 追风",
        complete_url(checkout.payment_id).rsplit("/", 1)[0],
    ):
        assert text in page.text

    response = await client.post(complete_url(checkout.payment_id))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "payment_id": str(checkout.payment_id),
        "status": "succeeded",
        "provider": "test",
        "amount": 60000,
        "amount_refunded": 0,
        "currency": "CNY",
    }
    [(kind, view, _)] = handler.calls
    assert (kind, view.id, view.purpose, view.status) == (
        "succeeded",
        checkout.payment_id,
        "ticket_order",
        "succeeded",
    )
    assert (await history(db, checkout.payment_id)) == [
        (None, "created", "api"),
        ("created", "pending", "test"),
        ("pending", "succeeded", "test"),
    ]
    assert fake_stripe.requests == []


async def test_completing_three_times_at_once_has_one_effect(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)

    responses = await asyncio.gather(
        *(client.post(complete_url(checkout.payment_id)) for _ in range(3))
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.json()["status"] for r in responses} == {"succeeded"}
    assert handler.kinds() == ["succeeded"]


async def test_cancel_releases_the_purchase(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)

    response = await client.post(cancel_url(checkout.payment_id))
    paid_after = await client.post(complete_url(checkout.payment_id))

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert handler.kinds() == ["failed"]
    assert paid_after.status_code == 409
    assert paid_after.json()["code"] == "payment_not_open"
    assert (await load_payment(db, checkout.payment_id)).status == "canceled"


async def test_a_cancelled_purchase_can_be_paid_with_a_new_payment(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    reference = uuid.uuid4()
    first = await start_payment(db, settings, festival, reference_id=reference)
    await client.post(cancel_url(first.payment_id))

    second = await start_payment(db, settings, festival, reference_id=reference)

    assert second.payment_id != first.payment_id
    assert second.status == "pending"


async def test_a_test_payment_past_its_expiry_expires_instead(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    async with db.transaction() as session:
        await session.exec(
            update(Payment)
            .where(Payment.id == checkout.payment_id)  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )

    response = await client.post(complete_url(checkout.payment_id))

    assert response.status_code == 200
    assert response.json()["status"] == "expired"
    assert handler.kinds() == ["failed"]


async def test_unknown_or_malformed_ids_are_not_found(client: Client, db: Database) -> None:
    before = await table_snapshot(db)
    for payment_id in (uuid.uuid4(), "nope"):
        for response in (
            await client.post(complete_url(payment_id)),
            await client.post(cancel_url(payment_id)),
            await client.get(page_url(payment_id)),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "payment_not_found"
    assert await table_snapshot(db) == before


async def test_a_cash_payment_cannot_be_test_completed(
    client: Client, db: Database, settings: Settings, festival: dict[str, Any]
) -> None:
    checkout = await start_payment(db, settings, festival, provider="cash")

    response = await client.post(complete_url(checkout.payment_id))

    assert response.status_code == 404
    assert response.json()["code"] == "payment_not_found"


async def test_with_stripe_configured_the_test_provider_is_off(
    db: Database,
    settings: Settings,
    pg_url: str,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    with_stripe = make_settings(
        pg_url, stripe_secret_key="sk_test_fake", stripe_webhook_secret="whsec_x"
    )
    from events.app import create_app

    async with serve(create_app(with_stripe)) as stripe_app:
        responses = [
            await stripe_app.post(complete_url(checkout.payment_id)),
            await stripe_app.post(cancel_url(checkout.payment_id)),
            await stripe_app.get(page_url(checkout.payment_id)),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["code"] for r in responses} == {"test_provider_disabled"}
    assert (await load_payment(db, checkout.payment_id)).status == "pending"
    assert handler.calls == []


async def test_the_result_page_shows_the_status(
    client: Client, db: Database, settings: Settings, festival: dict[str, Any]
) -> None:
    checkout = await start_payment(db, settings, festival)
    await client.post(complete_url(checkout.payment_id))

    page = await client.get(f"/pay/{checkout.payment_id}/result")

    # Paid: on to what was paid for (an entry fee: the owner's entry), no secret in it.
    assert page.status_code == 303
    reference = (await load_payment(db, checkout.payment_id)).reference_id
    assert page.headers["location"] == f"/my?paid={reference}#entry-{reference}"
    canceled = await start_payment(db, settings, festival)
    await client.post(cancel_url(canceled.payment_id))
    shown = await client.get(f"/pay/{canceled.payment_id}/result")
    assert shown.status_code == 200
    assert "已取消 / Cancelled" in shown.text
    assert 'data-testid="back"' in shown.text
    assert "owner@example.com" not in shown.text


async def test_pay_and_cancel_need_the_payments_own_pay_token(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
) -> None:
    """Issue 17 item 12: the test provider's routes took no credential at all."""
    checkout = await start_payment(db, settings, festival)
    other = await start_payment(db, settings, festival)
    stolen = complete_url(other.payment_id).split("pay_token=")[1]
    bare = f"/api/v1/payments/{checkout.payment_id}"
    before = await table_snapshot(db)

    refused = [
        await client.post(f"{bare}/test-complete"),
        await client.post(f"{bare}/test-cancel"),
        await client.post(f"{bare}/test-complete?pay_token={stolen}"),
        await client.post(f"{bare}/test-cancel?pay_token={stolen}"),
        await client.get(f"/pay/test/{checkout.payment_id}"),
        await client.get(f"/pay/test/{checkout.payment_id}?pay_token={stolen}"),
    ]

    assert [r.status_code for r in refused] == [401, 401, 403, 403, 401, 403]
    assert [r.json()["code"] for r in refused[:4]] == [
        "pay_token_required",
        "pay_token_required",
        "pay_token_invalid",
        "pay_token_invalid",
    ]
    assert await table_snapshot(db) == before
    assert handler.calls == []
    assert (await client.post(complete_url(checkout.payment_id))).status_code == 200
