"""Stripe sends a payment's events in any order: every order ends in the same stored state.

Each scenario plays what happens on Stripe's side first (the fake holds the final state),
keeps the event Stripe sent at each step, then delivers those events in every permutation,
each permutation to a payment of its own.
"""

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from events.config import Settings
from events.db.engine import Database
from events.payments.models import PaymentRefund
from tests.conftest import Client
from tests.payments.conftest import RecordingHandler, history, load_payment, signed, start_payment
from tests.payments.fake_stripe import FakeStripe, event

WEBHOOK = "/api/v1/payments/stripe/webhook"
AMOUNT = 60000

Events = list[tuple[str, dict[str, Any]]]
Scenario = Callable[[FakeStripe, str], Events]


def paid_then_refunded_in_two_parts(fake: FakeStripe, session_id: str) -> Events:
    completed = fake.pay(session_id)
    first = fake.refund_in_dashboard(session_id, 20000)
    partial = fake.charge(session_id)
    fake.refund_in_dashboard(session_id, AMOUNT - 20000)
    full = fake.charge(session_id)
    return [
        ("checkout.session.completed", completed),
        ("charge.refunded", partial),
        ("charge.refund.updated", first),
        ("charge.refunded", full),
    ]


def paid_while_an_expiry_is_in_flight(fake: FakeStripe, session_id: str) -> Events:
    expired = {**fake.sessions[session_id], "status": "expired"}
    completed = fake.pay(session_id)
    fake.refund_in_dashboard(session_id, 15000)
    return [
        ("checkout.session.expired", expired),
        ("checkout.session.completed", completed),
        ("charge.refunded", fake.charge(session_id)),
    ]


def delayed_payment_that_arrives(fake: FakeStripe, session_id: str) -> Events:
    started = fake.start_delayed(session_id)
    succeeded = fake.pay(session_id)
    refund = fake.refund_in_dashboard(session_id, 5000, status="pending")
    return [
        ("checkout.session.completed", started),
        ("checkout.session.async_payment_succeeded", succeeded),
        ("charge.refund.updated", refund),
    ]


def delayed_payment_that_fails(fake: FakeStripe, session_id: str) -> Events:
    started = fake.start_delayed(session_id)
    return [
        ("checkout.session.completed", started),
        ("checkout.session.async_payment_failed", fake.fail_delayed(session_id)),
    ]


SCENARIOS: dict[str, tuple[Scenario, tuple[str, int]]] = {
    "paid, refunded in two parts": (paid_then_refunded_in_two_parts, ("refunded", AMOUNT)),
    "an expiry crossing the payment": (
        paid_while_an_expiry_is_in_flight,
        ("partially_refunded", 15000),
    ),
    "a delayed payment that arrives": (delayed_payment_that_arrives, ("partially_refunded", 5000)),
    "a delayed payment that fails": (delayed_payment_that_fails, ("failed", 0)),
}


async def stored_state(
    db: Database, payment_id: uuid.UUID, handler: RecordingHandler
) -> dict[str, Any]:
    """What the platform keeps of one payment, without ids and times of its own."""
    payment = await load_payment(db, payment_id)
    async with db.transaction() as session:
        refunds = (
            await session.exec(select(PaymentRefund).where(PaymentRefund.payment_id == payment_id))
        ).all()
    return {
        "status": payment.status,
        "amount_refunded": payment.amount_refunded,
        "paid": payment.paid_at is not None,
        "intent": payment.provider_payment_id is not None,
        "history": await history(db, payment_id),
        "refunds": sorted((r.amount, r.source, r.status) for r in refunds),
        "handler": [
            (kind, amount) for kind, view, amount in handler.calls if view.id == payment_id
        ],
    }


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_every_delivery_order_ends_in_the_same_state(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    name: str,
) -> None:
    play, (status, refunded) = SCENARIOS[name]

    async def arranged() -> tuple[uuid.UUID, Events]:
        checkout = await start_payment(db, settings, festival, amount=AMOUNT)
        session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
        assert session_id is not None
        return checkout.payment_id, play(fake_stripe, session_id)

    states: dict[tuple[str, ...], dict[str, Any]] = {}
    payment_id, events = await arranged()
    size = len(events)
    for number, order in enumerate(itertools.permutations(range(size))):
        if number:
            payment_id, events = await arranged()
        for step in order:
            kind, obj = events[step]
            body = event(f"evt_{uuid.uuid4().hex}", kind, obj)
            response = await client.post(WEBHOOK, content=body, headers=signed(body))
            assert response.status_code == 200, (order, kind, response.text)
        states[tuple(f"{i}:{events[i][0]}" for i in order)] = await stored_state(
            db, payment_id, handler
        )

    first = next(iter(states.values()))
    assert (first["status"], first["amount_refunded"]) == (status, refunded)
    assert sum(amount for amount, _, _ in first["refunds"]) == refunded
    assert len(states) == len(list(itertools.permutations(range(size))))
    for order, state in states.items():
        assert state == first, order
