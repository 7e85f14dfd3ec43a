"""Stripe's webhook: signature, exactly-once handling, state changes, refusals."""

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from events.config import Settings
from events.db.engine import Database
from events.errors import Conflict
from events.payments.models import PaymentProviderEvent, PaymentRefund
from tests.conftest import Client, make_settings, serve
from tests.payments.conftest import (
    RecordingHandler,
    count,
    history,
    load_payment,
    signed,
    start_payment,
    table_snapshot,
)
from tests.payments.fake_stripe import FakeStripe, event

WEBHOOK = "/api/v1/payments/stripe/webhook"


async def paid_event(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    **start: Any,
) -> tuple[uuid.UUID, str]:
    """A Stripe payment started, paid on Stripe's side, and the signed event about it."""
    checkout = await start_payment(db, settings, festival, **start)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    session = fake_stripe.pay(session_id)
    return checkout.payment_id, event(
        f"evt_{uuid.uuid4().hex}", "checkout.session.completed", session
    )


async def test_a_completed_checkout_confirms_the_payment_and_calls_the_handler_once(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe)

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded"
    assert response.json()["duplicate"] is False
    [(kind, view, _)] = handler.calls
    assert (kind, view.id, view.purpose, view.status, view.amount) == (
        "succeeded",
        payment_id,
        "entry_fee",
        "succeeded",
        60000,
    )
    payment = await load_payment(db, payment_id)
    assert payment.status == "succeeded"
    assert payment.paid_at is not None
    assert payment.provider_payment_id is not None
    assert payment.provider_payment_id.startswith("pi_test_")
    assert (await history(db, payment_id))[-1] == ("pending", "succeeded", "stripe")
    assert (
        await count(
            db,
            PaymentProviderEvent,
            PaymentProviderEvent.payment_id == payment_id,
            PaymentProviderEvent.outcome == "succeeded",
        )
        == 1
    )


async def test_three_concurrent_deliveries_of_one_event_have_one_effect(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe)

    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=signed(body)) for _ in range(3))
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True]
    assert handler.kinds() == ["succeeded"]
    assert await count(db, PaymentProviderEvent) == 1
    assert [h for h in await history(db, payment_id) if h[1] == "succeeded"] == [
        ("pending", "succeeded", "stripe")
    ]


async def test_a_redelivery_later_is_a_no_op(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    _, body = await paid_event(db, settings, festival, fake_stripe)
    first = await client.post(WEBHOOK, content=body, headers=signed(body))
    before = await table_snapshot(db)

    again = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True
    assert handler.kinds() == ["succeeded"]
    assert await table_snapshot(db) == before


@pytest.mark.parametrize("forge", ["wrong_secret", "tampered_body", "stale", "missing", "garbage"])
async def test_a_bad_signature_is_refused_and_changes_nothing(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    forge: str,
) -> None:
    _, body = await paid_event(db, settings, festival, fake_stripe)
    headers = {
        "wrong_secret": signed(body, secret="whsec_someone_else"),
        "tampered_body": signed(body.replace('"amount_total": 60000', '"amount_total": 1')),
        "stale": signed(body, timestamp=int(time.time()) - 600),
        "missing": {"Content-Type": "application/json"},
        "garbage": {"Stripe-Signature": "t=abc,v1=zz"},
    }[forge]
    before = await table_snapshot(db)

    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await table_snapshot(db) == before
    assert handler.calls == []


async def test_a_signed_body_that_is_not_an_event_is_refused(
    client: Client, db: Database, handler: RecordingHandler
) -> None:
    body = '{"hello": "world"}'

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_event"
    assert await count(db, PaymentProviderEvent) == 0


async def test_an_amount_that_does_not_match_is_refused_and_changes_nothing(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe)
    forged = json.loads(body)
    forged["data"]["object"]["amount_total"] = 100
    body = json.dumps(forged)
    before = await table_snapshot(db)

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 409
    assert response.json()["code"] == "amount_mismatch"
    assert await table_snapshot(db) == before
    assert (await load_payment(db, payment_id)).status == "pending"
    assert handler.calls == []


async def test_an_event_naming_an_unknown_payment_is_refused(
    client: Client, db: Database, handler: RecordingHandler
) -> None:
    unknown = str(uuid.uuid4())
    body = event(
        "evt_unknown",
        "checkout.session.completed",
        {
            "id": "cs_test_x",
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": 60000,
            "currency": "cny",
            "client_reference_id": unknown,
            "metadata": {"payment_id": unknown},
            "payment_intent": "pi_x",
        },
    )

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 404
    assert response.json()["code"] == "payment_not_found"
    assert await count(db, PaymentProviderEvent) == 0


async def test_a_session_of_another_system_is_acknowledged_and_ignored(
    client: Client, db: Database, handler: RecordingHandler
) -> None:
    body = event(
        "evt_other",
        "checkout.session.completed",
        {
            "id": "cs_other",
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": 100,
            "currency": "usd",
            "metadata": {},
        },
    )

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: not ours"
    assert handler.calls == []


async def test_other_event_types_are_acknowledged_and_not_stored(
    client: Client, db: Database, handler: RecordingHandler
) -> None:
    body = event("evt_customer", "customer.created", {"id": "cus_1", "object": "customer"})

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert await count(db, PaymentProviderEvent) == 0


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("checkout.session.expired", "expired"),
        ("checkout.session.async_payment_failed", "failed"),
    ],
)
async def test_an_expired_or_failed_checkout_releases_the_purchase(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    event_type: str,
    status: str,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    body = event("evt_closing", event_type, fake_stripe.sessions[session_id])

    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=signed(body)) for _ in range(3))
    )

    assert {r.status_code for r in responses} == {200}
    assert (await load_payment(db, checkout.payment_id)).status == status
    assert handler.kinds() == ["failed"]
    assert handler.calls[0][1].status == status


async def test_an_expiry_of_a_session_stripe_says_is_paid_confirms_the_payment(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    """Issue 17 item 4: events cross; Stripe's own state decides, not the first event."""
    payment_id, completed = await paid_event(db, settings, festival, fake_stripe)
    expired_obj = dict(
        json.loads(completed)["data"]["object"], status="expired", payment_status="unpaid"
    )
    expired = event("evt_expired_first", "checkout.session.expired", expired_obj)
    first = await client.post(WEBHOOK, content=expired, headers=signed(expired))

    late = await client.post(WEBHOOK, content=completed, headers=signed(completed))

    assert first.json()["outcome"] == "ignored: paid in Stripe (succeeded)"
    assert late.status_code == 200
    assert late.json()["outcome"] == "ignored: payment succeeded"
    assert (await load_payment(db, payment_id)).status == "succeeded"
    assert handler.kinds() == ["succeeded"]


async def test_a_completion_arriving_after_a_real_expiry_changes_nothing(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    fake_stripe.sessions[session_id]["status"] = "expired"
    expired = event("evt_expired", "checkout.session.expired", fake_stripe.sessions[session_id])
    assert (await client.post(WEBHOOK, content=expired, headers=signed(expired))).json()[
        "outcome"
    ] == "expired"
    forged = dict(fake_stripe.sessions[session_id], status="complete", payment_status="paid")
    completed = event("evt_completed_late", "checkout.session.completed", forged)

    late = await client.post(WEBHOOK, content=completed, headers=signed(completed))

    assert late.status_code == 200
    assert late.json()["outcome"] == "ignored: payment expired"
    assert (await load_payment(db, checkout.payment_id)).status == "expired"
    assert handler.kinds() == ["failed"]


async def test_a_handler_refusing_rolls_everything_back_so_stripe_retries(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe)
    handler.refuse = Conflict("The entry was withdrawn meanwhile.", code="entry_closed")
    before = await table_snapshot(db)

    refused = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert refused.status_code == 409
    assert refused.json()["code"] == "entry_closed"
    assert await table_snapshot(db) == before

    handler.refuse = None
    retried = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert retried.status_code == 200
    assert retried.json()["duplicate"] is False
    assert (await load_payment(db, payment_id)).status == "succeeded"


async def test_a_refund_made_in_stripes_dashboard_is_recorded_once(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe)
    await client.post(WEBHOOK, content=body, headers=signed(body))
    session_id = next(iter(fake_stripe.sessions))
    fake_stripe.refund_in_dashboard(session_id, 20000)
    refunded = event("evt_refund_1", "charge.refunded", fake_stripe.charge(session_id))

    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=refunded, headers=signed(refunded)) for _ in range(3))
    )

    assert {r.status_code for r in responses} == {200}
    payment = await load_payment(db, payment_id)
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", 20000)
    assert [(c[0], c[2]) for c in handler.calls] == [("succeeded", None), ("refunded", 20000)]
    assert await count(db, PaymentRefund, PaymentRefund.source == "stripe") == 1


async def test_without_a_webhook_secret_the_webhook_is_unavailable(
    db: Database, pg_url: str
) -> None:
    body = event("evt_1", "checkout.session.completed", {"id": "cs_1"})
    async with serve_app(make_settings(pg_url)) as unconfigured:
        response = await unconfigured.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 503
    assert response.json()["code"] == "stripe_webhook_not_configured"
    assert await count(db, PaymentProviderEvent) == 0


def serve_app(settings: Settings) -> Any:
    from events.app import create_app

    return serve(create_app(settings))


@pytest.mark.parametrize(
    ("paid", "event_type", "status", "calls"),
    [
        (True, "checkout.session.async_payment_succeeded", "succeeded", ["succeeded"]),
        (False, "checkout.session.async_payment_failed", "failed", ["failed"]),
    ],
)
async def test_a_wallet_payment_is_settled_by_the_asynchronous_event_once(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    paid: bool,
    event_type: str,
    status: str,
    calls: list[str],
) -> None:
    """Alipay / WeChat Pay: the session completes unpaid, then the delayed outcome comes
    (each event possibly several times, concurrently)."""
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    completed = event(
        "evt_wallet_completed",
        "checkout.session.completed",
        fake_stripe.complete_awaiting(session_id),
    )

    first = await client.post(WEBHOOK, content=completed, headers=signed(completed))

    assert first.status_code == 200
    assert first.json()["outcome"] == "awaiting delayed payment"
    stored = await load_payment(db, checkout.payment_id)
    assert stored.status == "pending"
    assert stored.provider_payment_id == fake_stripe.sessions[session_id]["payment_intent"]
    assert handler.calls == []

    settled = event("evt_wallet_settled", event_type, fake_stripe.settle(session_id, paid=paid))
    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=settled, headers=signed(settled)) for _ in range(3))
    )

    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True]
    assert (await load_payment(db, checkout.payment_id)).status == status
    assert handler.kinds() == calls
    assert await history(db, checkout.payment_id) == [
        (None, "created", "api"),
        ("created", "pending", "stripe"),
        ("pending", status, "stripe"),
    ]
