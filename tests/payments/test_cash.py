"""Cash: taken at the office, at once or for a payment already open online."""

import uuid
from typing import Any

from events.config import Settings
from events.db.engine import Database
from events.payments.services import PaymentPurpose
from tests.conftest import Client
from tests.payments.conftest import (
    RecordingHandler,
    history,
    load_payment,
    start_payment,
    table_snapshot,
)
from tests.payments.fake_stripe import FakeStripe


def cash_url(payment_id: uuid.UUID) -> str:
    return f"/api/v1/payments/{payment_id}/cash"


async def test_a_cash_payment_succeeds_at_once(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(
        db, settings, festival, provider="cash", amount=5000, purpose=PaymentPurpose.TICKET_ORDER
    )

    assert (checkout.status, checkout.provider, checkout.checkout_url) == (
        "succeeded",
        "cash",
        None,
    )
    assert handler.kinds() == ["succeeded"]
    assert await history(db, checkout.payment_id) == [
        (None, "created", "api"),
        ("created", "succeeded", "cash"),
    ]
    assert fake_stripe.requests == []


async def test_cash_for_an_open_stripe_payment_closes_the_checkout_first(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    handler: RecordingHandler,
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(db, settings, festival, amount=60000)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id

    response = await client.post(
        cash_url(checkout.payment_id),
        headers=organiser,
        json={"amount": 60000, "note": "receipt 0042"},
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["provider"]) == ("succeeded", "cash")
    assert [r.path for r in fake_stripe.posts(f"/v1/checkout/sessions/{session_id}/expire")] == [
        f"/v1/checkout/sessions/{session_id}/expire"
    ]
    assert fake_stripe.sessions[str(session_id)]["status"] == "expired"
    assert handler.kinds() == ["succeeded"]
    [last] = [h for h in await history(db, checkout.payment_id) if h[1] == "succeeded"]
    assert last == ("pending", "succeeded", "cash")

    again = await client.post(
        cash_url(checkout.payment_id),
        headers=organiser,
        json={"amount": 60000, "note": "receipt 0042"},
    )
    assert again.status_code == 200
    assert handler.kinds() == ["succeeded"]


async def test_cash_is_refused_when_the_payer_just_paid_online(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    handler: RecordingHandler,
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    fake_stripe.pay(session_id)
    before = await table_snapshot(db)

    response = await client.post(
        cash_url(checkout.payment_id), headers=organiser, json={"amount": 60000}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "paid_online"
    assert await table_snapshot(db) == before
    assert handler.calls == []


async def test_cash_of_another_amount_is_refused(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
) -> None:
    checkout = await start_payment(db, settings, festival, amount=60000)
    before = await table_snapshot(db)

    response = await client.post(
        cash_url(checkout.payment_id), headers=organiser, json={"amount": 50000}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "amount_mismatch"
    assert await table_snapshot(db) == before
    assert (
        fake_stripe.posts(f"/v1/checkout/sessions/{next(iter(fake_stripe.sessions))}/expire") == []
    )


async def test_only_organisers_record_cash(
    client: Client, db: Database, settings: Settings, festival: dict[str, Any]
) -> None:
    checkout = await start_payment(db, settings, festival)

    response = await client.post(cash_url(checkout.payment_id), json={"amount": 60000})

    assert response.status_code == 401
    assert (await load_payment(db, checkout.payment_id)).status == "pending"
