"""Reading payments: one payment, a festival's list, the summary and the exports."""

import csv
import io
import uuid
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from events.access.models import Role
from events.config import Settings
from events.db.engine import Database
from events.payments.services import PaymentPurpose
from tests.conftest import Client, UserFactory, headers_of
from tests.payments.conftest import RecordingHandler, load_payment, signed, start_payment
from tests.payments.fake_stripe import FakeStripe, event


async def arrange(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
) -> dict[str, uuid.UUID]:
    """Stripe 600 paid and 200 refunded; cash 50 (tickets); one Stripe 300 still open."""
    paid = await start_payment(db, settings, festival, amount=60000)
    session_id = (await load_payment(db, paid.payment_id)).provider_session_id
    assert session_id is not None
    body = event("evt_paid", "checkout.session.completed", fake_stripe.pay(session_id))
    assert (
        await client.post("/api/v1/payments/stripe/webhook", content=body, headers=signed(body))
    ).status_code == 200
    refund = await client.post(
        f"/api/v1/payments/{paid.payment_id}/refunds",
        headers=organiser,
        json={"amount": 20000, "reason": "Part"},
    )
    assert refund.status_code == 201
    cash = await start_payment(
        db, settings, festival, amount=5000, provider="cash", purpose=PaymentPurpose.TICKET_ORDER
    )
    open_ = await start_payment(db, settings, festival, amount=30000)
    return {"paid": paid.payment_id, "cash": cash.payment_id, "open": open_.payment_id}


async def test_the_summary_adds_up_by_status_provider_and_purpose(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    await arrange(client, db, settings, festival, organiser, fake_stripe)

    response = await client.get(
        f"/api/v1/festivals/{festival['id']}/payments/summary", headers=organiser
    )

    assert response.status_code == 200
    assert response.json() == {
        "festival_id": festival["id"],
        "currency": "CNY",
        "payments": 3,
        "received": 65000,
        "refunded": 20000,
        "net": 45000,
        "by_status": {
            "partially_refunded": {"count": 1, "amount": 60000},
            "pending": {"count": 1, "amount": 30000},
            "succeeded": {"count": 1, "amount": 5000},
        },
        "by_provider": {
            "cash": {"payments": 1, "received": 5000, "refunded": 0, "net": 5000},
            "stripe": {"payments": 1, "received": 60000, "refunded": 20000, "net": 40000},
        },
        "by_purpose": {
            "entry_fee": {"payments": 1, "received": 60000, "refunded": 20000, "net": 40000},
            "ticket_order": {"payments": 1, "received": 5000, "refunded": 0, "net": 5000},
        },
        "unmatched_events": 0,
    }


async def test_the_csv_export_lists_every_movement_of_money(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    ids = await arrange(client, db, settings, festival, organiser, fake_stripe)

    response = await client.get(
        f"/api/v1/festivals/{festival['id']}/payments/export.csv", headers=organiser
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "payments-test-festival.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [
        (r["kind"], r["payment_id"], r["provider"], r["amount_minor"], r["amount"]) for r in rows
    ] == [
        ("payment", str(ids["paid"]), "stripe", "60000", "600.00"),
        ("refund", str(ids["paid"]), "stripe", "-20000", "-200.00"),
        ("payment", str(ids["cash"]), "cash", "5000", "50.00"),
    ]
    intent = next(iter(fake_stripe.sessions.values()))["payment_intent"]
    assert rows[0]["provider_payment_id"] == intent
    assert rows[1]["provider_refund_id"] == next(iter(fake_stripe.refunds))
    assert sum(int(r["amount_minor"]) for r in rows) == 45000


async def test_the_xlsx_export_matches_the_csv(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    await arrange(client, db, settings, festival, organiser, fake_stripe)
    base = f"/api/v1/festivals/{festival['id']}/payments"

    xlsx = await client.get(f"{base}/export.xlsx", headers=organiser)
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                (await client.get(f"{base}/export.csv", headers=organiser)).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )

    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Movements"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [(r["kind"], r["payment_id"], r["amount_minor"]) for r in rows] == [
        (r["kind"], r["payment_id"], int(r["amount_minor"])) for r in csv_rows
    ]
    assert [Decimal(str(r["amount"])) for r in rows] == [
        Decimal("600"),
        Decimal("-200"),
        Decimal("50"),
    ]
    totals = [[c.value for c in row] for row in book["Summary"].iter_rows()]
    assert ["all", None, 2, 65000, 20000, 45000] in totals


async def test_the_list_filters_and_pages(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    ids = await arrange(client, db, settings, festival, organiser, fake_stripe)
    base = f"/api/v1/festivals/{festival['id']}/payments"

    everything = await client.get(base, headers=organiser)
    stripe_only = await client.get(base, headers=organiser, params={"provider": "stripe"})
    pending = await client.get(base, headers=organiser, params={"status": "pending"})
    tickets = await client.get(base, headers=organiser, params={"purpose": "ticket_order"})
    page = await client.get(base, headers=organiser, params={"limit": 1, "offset": 1})
    bad = await client.get(base, headers=organiser, params={"status": "lost"})

    assert everything.json()["total"] == 3
    assert {p["id"] for p in stripe_only.json()["items"]} == {str(ids["paid"]), str(ids["open"])}
    assert [p["id"] for p in pending.json()["items"]] == [str(ids["open"])]
    assert [p["id"] for p in tickets.json()["items"]] == [str(ids["cash"])]
    assert (len(page.json()["items"]), page.json()["total"], page.json()["offset"]) == (1, 3, 1)
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "validation_failed"
    assert [e["field"] for e in bad.json()["errors"]] == ["status"]


async def test_one_payment_shows_its_history_and_refunds(
    client: Client,
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    organiser: dict[str, str],
    fake_stripe: FakeStripe,
    handler: RecordingHandler,
) -> None:
    ids = await arrange(client, db, settings, festival, organiser, fake_stripe)

    response = await client.get(f"/api/v1/payments/{ids['paid']}", headers=organiser)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount"], body["amount_refunded"]) == (
        "partially_refunded",
        60000,
        20000,
    )
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        (None, "created"),
        ("created", "pending"),
        ("pending", "succeeded"),
        ("succeeded", "partially_refunded"),
    ]
    assert body["history"][2]["provider_event_id"] == "evt_paid"
    assert [r["amount"] for r in body["refunds"]] == [20000]


async def test_reconciliation_is_for_organisers_only(
    client: Client, festival: dict[str, Any], make_user: UserFactory
) -> None:
    owner = headers_of(await make_user(Role.OWNER))
    base = f"/api/v1/festivals/{festival['id']}/payments"
    for path in (base, f"{base}/summary", f"{base}/export.csv", f"{base}/export.xlsx"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=owner)).status_code == 403
    assert (await client.get(f"/api/v1/payments/{uuid.uuid4()}", headers=owner)).status_code == 403


async def test_an_unknown_festival_is_not_found(client: Client, organiser: dict[str, str]) -> None:
    response = await client.get(
        f"/api/v1/festivals/{uuid.uuid4()}/payments/summary", headers=organiser
    )

    assert response.status_code == 404
