# ruff: noqa: F401, F811 - the ticketing and check-in fixtures are imported, then asked for
"""Ticketing and payments in the console: find an order by e-mail and refund one ticket
(its code then refused at the gate, through the real scan API), reissue a ticket (the old
code scans ``revoked``), sell at the cash desk, the cash desk's form errors, the payments
page with its reconciliation and exports."""

import uuid
from typing import Any

import sqlalchemy as sa
from playwright.async_api import Dialog, Page, expect

from events.access.models import Role
from events.db.engine import Database
from events.payments.models import Payment, PaymentRefund
from events.ticketing.models import Ticket, TicketOrder
from tests.browser import LiveServer
from tests.checkin.conftest import Gate, gates, on_day, scan
from tests.conftest import Client
from tests.console.conftest import SignInAs, StaffFactory, console_sign_in
from tests.registration.conftest import count_rows, rows
from tests.ticketing.conftest import Catalog, buy, catalog, pay, scalar


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_an_order_found_by_email_has_one_ticket_refunded_which_the_gate_then_refuses(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    on_day(catalog.days[0]["date"])
    order = await pay(
        client, await buy(client, catalog, [(catalog.day1, 2)], email="fan@example.com")
    )
    await pay(client, await buy(client, catalog, [(catalog.day1, 1)], email="other@example.com"))
    refunded, kept = order["tickets"]

    await sign_in_as(Role.ORGANISER)
    tablet.on("dialog", accept)
    await tablet.goto(f"{live_server.url}/console/festivals/{catalog.festival_id}/orders")
    await expect(tablet.get_by_test_id("order-row")).to_have_count(2)
    await tablet.get_by_label("邮箱、手机号或订单号").fill("FAN@example.com")
    await tablet.get_by_test_id("order-find").click()
    await expect(tablet.get_by_test_id("order-row")).to_have_count(1)
    await tablet.get_by_test_id("open-order").click()

    row = tablet.locator(f'[data-ticket-id="{refunded["id"]}"]')
    button = row.get_by_test_id("refund-ticket-submit")
    await expect(button).to_have_attribute("data-amount", "8000")  # the amount, shown first
    await button.click()
    await expect(row).to_have_attribute("data-status", "refunded")
    await expect(tablet.locator(f'[data-ticket-id="{kept["id"]}"]')).to_have_attribute(
        "data-status", "valid"
    )

    refunds = await rows(
        db, PaymentRefund, PaymentRefund.payment_id == uuid.UUID(order["payment_id"])
    )
    assert [r.amount for r in refunds] == [8000]
    answer = await scan(client, gates[0], refunded["token"])
    assert (answer["status"], answer["reason"]) == ("error", "canceled")
    keys = await client.get(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-keys", headers=organiser
    )
    assert refunded["id"] in {r["ticket_id"] for r in keys.json()["revocations"]}
    assert (await scan(client, gates[0], kept["token"]))["status"] == "ok"


async def test_a_reissued_tickets_old_code_scans_revoked(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    on_day(catalog.days[0]["date"])
    order = await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    [ticket] = order["tickets"]
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    base = f"/console/festivals/{catalog.festival_id}/orders/{order['id']}"
    done = await client.post(f"{base}/tickets/{ticket['id']}/reissue", data={"_csrf_token": token})
    assert done.status_code == 303, done.text
    [stored] = await rows(db, Ticket, Ticket.id == uuid.UUID(ticket["id"]))
    assert stored.token != ticket["token"]
    assert (await scan(client, gates[0], ticket["token"]))["reason"] == "revoked"
    assert (await scan(client, gates[0], stored.token))["status"] == "ok"


async def test_a_refund_whose_amount_changed_is_refused(
    client: Client,
    catalog: Catalog,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    order = await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    [ticket] = order["tickets"]
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = (
        f"/console/festivals/{catalog.festival_id}/orders/{order['id']}"
        f"/tickets/{ticket['id']}/refund"
    )
    response = await client.post(url, data={"_csrf_token": token, "expected_amount": "1"})
    assert response.status_code == 409
    assert 'data-code="refund_changed"' in response.text
    assert await count_rows(db, PaymentRefund) == 0


async def test_the_cash_desk_sells_and_records_cash(
    catalog: Catalog,
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await tablet.goto(f"{live_server.url}/console/festivals/{catalog.festival_id}/cash-desk")
    await tablet.get_by_test_id("qty-ground-d1").fill("2")
    await tablet.get_by_label("手机号").fill("13812345678")
    await tablet.get_by_test_id("cash-sell").click()
    await expect(tablet.get_by_test_id("sold")).to_be_visible()
    await expect(tablet.get_by_test_id("ticket")).to_have_count(2)

    [order] = await rows(db, TicketOrder)
    assert (order.status, order.total, order.phone) == ("paid", 16_000, "13812345678")
    [payment] = await rows(db, Payment)
    assert (payment.provider, payment.status, payment.amount) == ("cash", "succeeded", 16_000)
    assert payment.reference_id == order.id
    tickets = await rows(db, Ticket, Ticket.order_id == order.id)
    assert [t.status for t in tickets] == ["valid", "valid"]


async def test_the_cash_desk_shows_each_problem_next_to_its_field_and_sells_nothing(
    client: Client,
    catalog: Catalog,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{catalog.festival_id}/cash-desk"
    qty = f"qty_{catalog.day1['id']}"
    no_contact = await client.post(url, data={"_csrf_token": token, qty: "2", "phone": ""})
    assert no_contact.status_code == 422
    assert 'data-testid="error-phone"' in no_contact.text
    assert 'value="2"' in no_contact.text

    too_many = await client.post(
        url, data={"_csrf_token": token, qty: "500", "phone": "13812345678"}
    )
    assert too_many.status_code == 422
    assert f'data-testid="error-{qty}"' in too_many.text
    assert await count_rows(db, TicketOrder) == 0
    assert await count_rows(db, Payment) == 0


async def test_the_payments_page_filters_and_reconciles(
    client: Client,
    catalog: Catalog,
    make_staff: StaffFactory,
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    sold = await client.post(
        f"/console/festivals/{catalog.festival_id}/cash-desk",
        data={"_csrf_token": token, f"qty_{catalog.stand1['id']}": "1", "phone": "13812345678"},
    )
    assert sold.status_code == 303, sold.text
    base = f"/console/festivals/{catalog.festival_id}/payments"
    everything = await client.get(base)
    assert everything.status_code == 200
    assert everything.text.count('data-testid="payment-row"') == 2
    assert 'data-testid="received" data-amount="28000"' in everything.text
    cash = await client.get(base, params={"provider": "cash"})
    assert cash.text.count('data-testid="payment-row"') == 1
    assert 'data-provider="cash"' in cash.text
    export = await client.get(f"{base}/export.csv")
    assert export.status_code == 200
    assert len(export.text.strip().splitlines()) == 3  # header and two payments
    workbook = await client.get(f"{base}/export.xlsx")
    assert workbook.content[:2] == b"PK"


async def test_cancelling_a_paid_order_refunds_what_was_shown(
    client: Client, catalog: Catalog, make_staff: StaffFactory, db: Database
) -> None:
    order = await pay(client, await buy(client, catalog, [(catalog.day1, 2)]))
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    base = f"/console/festivals/{catalog.festival_id}/orders/{order['id']}"
    page = await client.get(base)
    assert 'name="expected_amount" value="16000"' in page.text
    done = await client.post(
        f"{base}/cancel",
        data={"_csrf_token": token, "expected_amount": "16000", "reason": "festival office"},
    )
    assert done.status_code == 303, done.text
    [stored] = await rows(db, TicketOrder)
    assert stored.status == "refunded"
    assert [r.amount for r in await rows(db, PaymentRefund)] == [16_000]


async def test_the_ticket_types_page_shows_what_is_left(
    client: Client, catalog: Catalog, make_staff: StaffFactory
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.stand1, 3)]))
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(f"/console/festivals/{catalog.festival_id}/tickets")
    assert page.status_code == 200
    stand = page.text.split('data-testid="type-stand-d1"')[1].split("</tr>")[0]
    assert '<td data-testid="remaining">7</td>' in stand  # the grandstand quota of 10


async def test_a_quota_is_resized_but_never_below_what_is_sold(
    client: Client, catalog: Catalog, make_staff: StaffFactory, db: Database
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.stand1, 3)]))
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    quota = await scalar(db, "SELECT id FROM ticket_quota WHERE name = 'Grandstand day 1'")
    url = f"/console/festivals/{catalog.festival_id}/tickets/quotas/{quota}"
    below = await client.post(url, data={"_csrf_token": token, "size": "2"})
    assert below.status_code == 409
    assert 'data-testid="error-size"' in below.text
    assert 'value="2"' in below.text  # what was typed, kept
    assert await scalar(db, f"SELECT size FROM ticket_quota WHERE id = '{quota}'") == 10
    bigger = await client.post(url, data={"_csrf_token": token, "size": "25"})
    assert bigger.status_code == 303, bigger.text
    assert await scalar(db, f"SELECT size FROM ticket_quota WHERE id = '{quota}'") == 25
