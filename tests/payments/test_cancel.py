"""Cancelling an unpaid payment (an order or entry abandoned): the checkout is closed."""

from typing import Any

import pytest

from events.config import Settings
from events.db.engine import Database
from events.errors import Conflict
from events.payments.services import PaymentService, PaymentStatus
from tests.payments.conftest import RecordingHandler, history, load_payment, start_payment
from tests.payments.fake_stripe import FakeStripe


async def test_cancelling_closes_the_stripe_checkout_and_releases_the_purchase(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id

    async with db.transaction() as session:
        view = await PaymentService(session, settings).cancel(
            checkout.payment_id, reason="order cancelled"
        )

    assert view.status == "canceled"
    assert fake_stripe.sessions[str(session_id)]["status"] == "expired"
    assert handler.kinds() == ["failed"]
    assert (await history(db, checkout.payment_id))[-1] == ("pending", "canceled", "api")

    async with db.transaction() as session:
        again = await PaymentService(session, settings).cancel(checkout.payment_id, reason="twice")
    assert again.status == "canceled"
    assert handler.kinds() == ["failed"]


async def test_mark_failed_as_cancelled_also_closes_the_checkout(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id

    async with db.transaction() as session:
        payments = PaymentService(session, settings)
        payment = await payments.lock(checkout.payment_id)
        moved = await payments.mark_failed(
            payment, PaymentStatus.CANCELED, source="system", detail="entry withdrawn"
        )

    assert moved is True
    assert fake_stripe.sessions[str(session_id)]["status"] == "expired"


async def test_a_payment_paid_at_the_last_moment_is_not_cancelled(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    fake_stripe.pay(session_id)

    with pytest.raises(Conflict) as refused:
        async with db.transaction() as session:
            await PaymentService(session, settings).cancel(checkout.payment_id, reason="late")

    assert refused.value.instance_code == "paid_online"
    assert (await load_payment(db, checkout.payment_id)).status == "pending"
    assert handler.calls == []
