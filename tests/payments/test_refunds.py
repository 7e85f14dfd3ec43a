"""Refunds through Stripe: recorded, reflected on the payment, passed to the handler, once."""

import asyncio
import uuid
from typing import Any

import pytest

from events.access.models import Role
from events.config import Settings
from events.db.engine import Database
from events.payments.fulfilment import LedgerEvent
from events.payments.models import PaymentRefund
from tests.conftest import Client, UserFactory, headers_of
from tests.payments.conftest import (
    LedgerRecorder,
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


async def paid_payment(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    amount: int = 60000,
) -> tuple[uuid.UUID, str]:
    """A Stripe payment paid and confirmed by its webhook; returns it and its session."""
    checkout = await start_payment(db, settings, festival, amount=amount)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    body = event(
        f"evt_{uuid.uuid4().hex}", "checkout.session.completed", fake_stripe.pay(session_id)
    )
    response = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    return checkout.payment_id, session_id


def refunds_url(payment_id: uuid.UUID) -> str:
    return f"/api/v1/payments/{payment_id}/refunds"


async def test_a_full_refund_goes_through_stripe_and_is_recorded(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    ledger: LedgerRecorder,
) -> None:
    payment_id, session_id = await paid_payment(client, db, settings, festival, fake_stripe)

    response = await client.post(
        refunds_url(payment_id), headers=organiser, json={"reason": "Horse lame at inspection"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["amount"], body["currency"], body["status"], body["source"]) == (
        60000,
        "CNY",
        "succeeded",
        "api",
    )
    assert body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 60000
    [sent] = fake_stripe.posts("/v1/refunds")
    intent = fake_stripe.sessions[session_id]["payment_intent"]
    assert sent.form == {
        "payment_intent": intent,
        "amount": "60000",
        "reason": "requested_by_customer",
        "metadata[payment_id]": str(payment_id),
        "metadata[festival_id]": festival["id"],
        "metadata[purpose]": "entry_fee",
        "metadata[reference_id]": sent.form["metadata[reference_id]"],
        "metadata[refund_id]": body["id"],
    }
    assert sent.headers["Idempotency-Key"] == f"refund-{payment_id}-0-60000"
    assert body["provider_refund_id"] == next(iter(fake_stripe.refunds))
    payment = await load_payment(db, payment_id)
    assert (payment.status, payment.amount_refunded) == ("refunded", 60000)
    assert (await history(db, payment_id))[-1] == ("succeeded", "refunded", "api")
    [(_, view, amount)] = [c for c in handler.calls if c[0] == "refunded"]
    assert (view.id, view.status, view.amount_refunded, amount) == (
        payment_id,
        "refunded",
        60000,
        60000,
    )
    assert ledger.calls == [
        (LedgerEvent.RECEIVED, payment_id, 60000),
        (LedgerEvent.REFUNDED, payment_id, 60000),
    ]


async def test_partial_refunds_add_up_to_the_payment(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, _ = await paid_payment(client, db, settings, festival, fake_stripe)

    part = await client.post(
        refunds_url(payment_id),
        headers=organiser,
        json={"amount": 15000, "reason": "Withdrawn before the draw"},
    )
    rest = await client.post(
        refunds_url(payment_id), headers=organiser, json={"reason": "Race cancelled"}
    )

    assert (part.status_code, rest.status_code) == (201, 201)
    assert part.json()["payment"]["status"] == "partially_refunded"
    assert rest.json()["amount"] == 45000
    assert rest.json()["payment"]["status"] == "refunded"
    assert [c[2] for c in handler.calls if c[0] == "refunded"] == [15000, 45000]
    assert [s.headers["Idempotency-Key"] for s in fake_stripe.posts("/v1/refunds")] == [
        f"refund-{payment_id}-0-15000",
        f"refund-{payment_id}-15000-45000",
    ]
    assert await count(db, PaymentRefund) == 2


async def test_a_refund_larger_than_what_remains_is_refused(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, _ = await paid_payment(client, db, settings, festival, fake_stripe)
    await client.post(
        refunds_url(payment_id), headers=organiser, json={"amount": 50000, "reason": "Part"}
    )
    before = await table_snapshot(db)

    response = await client.post(
        refunds_url(payment_id), headers=organiser, json={"amount": 10001, "reason": "Too much"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_payment"
    assert response.json()["remaining"] == 10000
    assert await table_snapshot(db) == before
    assert len(fake_stripe.posts("/v1/refunds")) == 1


async def test_retrying_with_the_same_idempotency_key_returns_the_same_refund(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, _ = await paid_payment(client, db, settings, festival, fake_stripe)
    headers = {**organiser, "Idempotency-Key": "refund-entry-42"}
    request = {"amount": 20000, "reason": "Withdrawn"}

    responses = await asyncio.gather(
        *(client.post(refunds_url(payment_id), headers=headers, json=request) for _ in range(3))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count(db, PaymentRefund) == 1
    assert len(fake_stripe.posts("/v1/refunds")) == 1
    assert [c[2] for c in handler.calls if c[0] == "refunded"] == [20000]
    assert (await load_payment(db, payment_id)).amount_refunded == 20000


async def test_an_idempotency_key_reused_for_another_refund_is_refused(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, _ = await paid_payment(client, db, settings, festival, fake_stripe)
    headers = {**organiser, "Idempotency-Key": "k-9"}
    await client.post(refunds_url(payment_id), headers=headers, json={"amount": 100, "reason": "A"})

    response = await client.post(
        refunds_url(payment_id), headers=headers, json={"amount": 200, "reason": "A"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert await count(db, PaymentRefund) == 1


async def test_the_refund_webhook_after_our_own_refund_changes_nothing(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    payment_id, session_id = await paid_payment(client, db, settings, festival, fake_stripe)
    await client.post(
        refunds_url(payment_id), headers=organiser, json={"amount": 30000, "reason": "Half"}
    )
    body = event("evt_refunded", "charge.refunded", fake_stripe.charge(session_id))

    response = await client.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["outcome"] == "already recorded"
    assert await count(db, PaymentRefund) == 1
    assert [c[2] for c in handler.calls if c[0] == "refunded"] == [30000]


async def test_an_unpaid_payment_cannot_be_refunded(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(db, settings, festival)

    response = await client.post(
        refunds_url(checkout.payment_id), headers=organiser, json={"reason": "Nothing to give back"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_refundable"
    assert fake_stripe.posts("/v1/refunds") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": 10, "reason": ""}, "reason"),
        ({"amount": 10}, "reason"),
        ({"amount": 10, "reason": "x", "extra": 1}, "extra"),
    ],
)
async def test_bad_refund_requests_name_the_field(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    checkout = await start_payment(db, settings, festival, provider="cash")

    response = await client.post(refunds_url(checkout.payment_id), headers=organiser, json=body)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_refunds_of_an_unknown_payment_are_not_found(
    client: Client, organiser: dict[str, str]
) -> None:
    for payment_id in (str(uuid.uuid4()), "not-a-uuid"):
        response = await client.post(
            f"/api/v1/payments/{payment_id}/refunds", headers=organiser, json={"reason": "?"}
        )
        assert response.status_code == 404
        assert response.json()["code"] == "payment_not_found"


async def test_only_organisers_refund(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    make_user: UserFactory,
) -> None:
    checkout = await start_payment(db, settings, festival, provider="cash")
    owner = headers_of(await make_user(Role.OWNER))

    anonymous = await client.post(refunds_url(checkout.payment_id), json={"reason": "x"})
    as_owner = await client.post(
        refunds_url(checkout.payment_id), headers=owner, json={"reason": "x"}
    )

    assert (anonymous.status_code, as_owner.status_code) == (401, 403)
    assert await count(db, PaymentRefund) == 0


async def test_a_cash_payment_is_refunded_without_stripe(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival, provider="cash", amount=8000)

    response = await client.post(
        refunds_url(checkout.payment_id),
        headers=organiser,
        json={"amount": 3000, "reason": "Given back at the office"},
    )

    assert response.status_code == 201
    assert response.json()["provider_refund_id"] is None
    assert fake_stripe.requests == []
    assert handler.kinds() == ["succeeded", "refunded"]
