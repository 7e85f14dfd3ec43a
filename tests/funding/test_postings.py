"""Automatic postings: confirmed payments (Stripe, test, cash at the desk) are income,
refunds are outflows, prize payouts are outflows; each exactly once."""

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from events.config import Settings
from events.db.engine import Database
from events.errors import ValidationFailed
from events.funding import services as funding_services
from events.funding.models import FundingRecord
from events.payments.services import PaymentPurpose
from tests.conftest import Client
from tests.funding.conftest import base, rows
from tests.payments.conftest import RecordingHandler, load_payment, signed, start_payment
from tests.payments.fake_stripe import FakeStripe, event

WEBHOOK = "/api/v1/payments/stripe/webhook"


async def paid_event(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    **start: Any,
) -> tuple[uuid.UUID, str]:
    checkout = await start_payment(db, settings, festival, **start)
    session_id = (await load_payment(db, checkout.payment_id)).provider_session_id
    assert session_id is not None
    return checkout.payment_id, event(
        f"evt_{uuid.uuid4().hex}", "checkout.session.completed", fake_stripe.pay(session_id)
    )


async def test_three_concurrent_deliveries_of_one_paid_webhook_post_income_once(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    organiser: dict[str, str],
) -> None:
    payment_id, body = await paid_event(db, settings, festival, fake_stripe, amount=60_000)

    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=signed(body)) for _ in range(3))
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    [posted] = await rows(db)
    assert (
        posted.payment_id,
        posted.source,
        posted.direction,
        posted.amount,
        posted.origin,
        posted.event_key,
    ) == (payment_id, "entry_fees", "in", 60_000, "payment", f"payment:{payment_id}:received")
    summary = (await client.get(f"{base(festival)}/funding/summary", headers=organiser)).json()
    entry_fees = next(s for s in summary["by_source"] if s["source"] == "entry_fees")
    assert (entry_fees["net_fen"], summary["balance_fen"]) == (60_000, 60_000)

    # A redelivery later changes nothing either.
    again = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert again.json()["duplicate"] is True
    assert len(await rows(db)) == 1


async def test_refunds_post_outflows_once_each(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    organiser: dict[str, str],
) -> None:
    checkout = await start_payment(
        db, settings, festival, amount=10_000, provider="cash", purpose=PaymentPurpose.TICKET_ORDER
    )
    url = f"/api/v1/payments/{checkout.payment_id}/refunds"

    first = await client.post(
        url,
        json={"amount": 3_000, "reason": "one ticket back"},
        headers={**organiser, "Idempotency-Key": "r-1"},
    )
    retry = await client.post(
        url,
        json={"amount": 3_000, "reason": "one ticket back"},
        headers={**organiser, "Idempotency-Key": "r-1"},
    )
    rest = await client.post(url, json={"reason": "the rest"}, headers=organiser)

    assert (first.status_code, retry.status_code, rest.status_code) == (201, 201, 201)
    posted = sorted(await rows(db), key=lambda r: (r.direction, r.amount))
    assert [(r.source, r.direction, r.amount, r.origin) for r in posted] == [
        ("ticket_revenue", "in", 10_000, "payment"),
        ("ticket_revenue", "out", 3_000, "refund"),
        ("ticket_revenue", "out", 7_000, "refund"),
    ]
    assert "cash at the desk" in next(r.note for r in posted if r.direction == "in")
    summary = (await client.get(f"{base(festival)}/funding/summary", headers=organiser)).json()
    tickets = next(s for s in summary["by_source"] if s["source"] == "ticket_revenue")
    assert (tickets["received_fen"], tickets["paid_out_fen"], tickets["net_fen"]) == (
        10_000,
        10_000,
        0,
    )


async def test_cash_taken_at_the_desk_for_an_open_payment_posts_income(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
    organiser: dict[str, str],
) -> None:
    checkout = await start_payment(db, settings, festival, amount=80_000)  # a Stripe checkout
    url = f"/api/v1/payments/{checkout.payment_id}/cash"

    answers = [
        await client.post(url, json={"amount": 80_000, "note": "receipt 0042"}, headers=organiser)
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [200, 200]
    [posted] = await rows(db)
    assert (posted.source, posted.direction, posted.amount, posted.payment_id) == (
        "entry_fees",
        "in",
        80_000,
        checkout.payment_id,
    )


async def test_a_prize_payout_posts_one_outflow_per_entitlement(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    entitlement, award = uuid.uuid4(), uuid.uuid4()
    festival_id = uuid.UUID(festival["id"])
    paid_at = dt.datetime(2027, 7, 21, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 22nd in Lhasa

    async def pay() -> bool:
        async with db.transaction() as session:
            return await funding_services.post_prize_payout(
                session,
                festival_id=festival_id,
                entitlement_id=entitlement,
                award_id=award,
                amount=8_000_000,
                currency="CNY",
                paid_at=paid_at,
                reference="BANK-PAY-7",
                recorded_by=None,
            )

    assert await pay() is True
    assert await pay() is False
    [posted] = await rows(db)
    assert (
        posted.source,
        posted.direction,
        posted.amount,
        posted.entitlement_id,
        posted.award_id,
        posted.origin,
        str(posted.occurred_on),
    ) == ("prize_payout", "out", 8_000_000, entitlement, award, "payout", "2027-07-22")
    summary = (await client.get(f"{base(festival)}/funding/summary", headers=organiser)).json()
    assert summary["paid_out_fen"] == 8_000_000
    assert summary["coverage"]["income_fen"] == 0  # payouts are not income


@dataclass(frozen=True)
class PayoutPaid:
    """The shape of ``events.results.payouts.PayoutPaid`` (results is built in parallel)."""

    entitlement_id: uuid.UUID
    festival_id: uuid.UUID
    award_id: uuid.UUID | None
    amount: int
    currency: str
    paid_at: dt.datetime
    reference: str
    recorded_by: uuid.UUID | None


async def test_the_payout_listener_posts_what_results_reports_once(
    db: Database, festival: dict[str, Any]
) -> None:
    paid = PayoutPaid(
        entitlement_id=uuid.uuid4(),
        festival_id=uuid.UUID(festival["id"]),
        award_id=None,
        amount=300_000,
        currency="CNY",
        paid_at=dt.datetime(2027, 7, 23, 4, 0, tzinfo=dt.UTC),
        reference="CASH-17",
        recorded_by=uuid.uuid4(),
    )

    async def deliver() -> None:
        async with db.transaction() as session:
            await funding_services.on_payout_paid(session, paid)

    await asyncio.gather(deliver(), deliver())

    [posted] = await rows(db)
    assert (
        posted.entitlement_id,
        posted.amount,
        posted.reference,
        posted.recorded_by,
        posted.source,
    ) == (paid.entitlement_id, 300_000, "CASH-17", paid.recorded_by, "prize_payout")


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [(0, "CNY", "amount"), (-5, "CNY", "amount"), (100, "USD", "currency")],
)
async def test_a_bad_payout_is_refused_and_stores_nothing(
    db: Database, festival: dict[str, Any], amount: int, currency: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        async with db.transaction() as session:
            await funding_services.post_prize_payout(
                session,
                festival_id=uuid.UUID(festival["id"]),
                entitlement_id=uuid.uuid4(),
                award_id=None,
                amount=amount,
                currency=currency,
                paid_at=dt.datetime.now(dt.UTC),
                reference="",
                recorded_by=None,
            )
    assert [e["field"] for e in refused.value.errors] == [field]
    assert await rows(db, FundingRecord.festival_id == uuid.UUID(festival["id"])) == []
