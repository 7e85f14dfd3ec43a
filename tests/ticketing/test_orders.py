"""Placing and reading orders: payment, free orders, idempotency, refusals, access."""

import asyncio
import uuid
from typing import Any

import pytest

from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, Client, pay_path
from tests.ticketing.conftest import Catalog, buy, make_type, pay, quota_counts, scalar


def orders_url(catalog: Catalog) -> str:
    return f"/api/v1/festivals/{catalog.festival_id}/orders"


async def test_paying_issues_one_signed_ticket_per_place(
    client: Client, catalog: Catalog, db: Database
) -> None:
    order = await buy(client, catalog, [(catalog.day1, 2), (catalog.stand1, 1)])
    assert order["status"] == "pending"
    assert order["total"] == 2 * 8000 + 20000
    link, _, token = order["checkout_url"].partition("?pay_token=")
    assert link.endswith(f"/pay/test/{order['payment_id']}")
    assert token
    assert order["order_url"].endswith(
        f"/orders/{order['order_id']}?access_token={order['access_token']}"
    )
    assert len(order["access_token"]) >= 22  # ≥ 128 bits
    pending = await client.get(
        f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
    )
    assert pending.json()["tickets"] == []

    paid = await pay(client, order)
    assert paid["status"] == "paid"
    assert [t["name_en"] for t in paid["tickets"]] == ["Ground day 1"] * 2 + ["Grandstand day 1"]
    assert all(t["status"] == "valid" and t["serial"] == 1 for t in paid["tickets"])
    assert len({t["token"] for t in paid["tickets"]}) == 3
    assert paid["tickets"][2]["enclosure"]["code"] == "stand"
    assert [d["date"] for d in paid["tickets"][0]["days"]] == [catalog.days[0]["date"]]
    stored = await scalar(
        db, "SELECT access_token_hash FROM ticket_order WHERE id = :o", o=order["order_id"]
    )
    assert stored != order["access_token"]
    assert len(stored) == 64
    assert await scalar(db, "SELECT count(*) FROM ticket_day") == 3
    # Paying again (a retried webhook) issues nothing more.
    await client.post(pay_path(order["payment_id"]))
    assert await scalar(db, "SELECT count(*) FROM ticket") == 3
    counts = await quota_counts(db, catalog.festival_id)
    assert counts["Grandstand day 1"] == (1, 0)
    assert counts[f"Ground {catalog.days[0]['date']}"] == (3, 0)


async def test_a_free_order_is_issued_at_once_without_a_payment(
    client: Client, catalog: Catalog, db: Database
) -> None:
    order = await buy(client, catalog, [(catalog.child1, 3)], email="", phone="13800138000")
    assert (order["status"], order["payment_id"], order["checkout_url"]) == ("paid", None, None)
    got = (
        await client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        )
    ).json()
    assert [t["audience"] for t in got["tickets"]] == ["child"] * 3
    assert await scalar(db, "SELECT count(*) FROM payment") == 0


async def test_an_idempotency_key_replays_the_same_order(
    client: Client, catalog: Catalog, db: Database
) -> None:
    body = {
        "email": "a@example.com",
        "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 2}],
    }
    headers = {"Idempotency-Key": "order-123-4c1e-9d55-2a3c6c0d7e01"}
    first, second = await asyncio.gather(
        client.post(orders_url(catalog), json=body, headers=headers),
        client.post(orders_url(catalog), json=body, headers=headers),
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    third = await client.post(orders_url(catalog), json=body, headers=headers)
    assert third.json() == first.json()
    assert await scalar(db, "SELECT count(*) FROM ticket_order") == 1
    assert await scalar(db, "SELECT count(*) FROM payment") == 1
    assert (await quota_counts(db, catalog.festival_id))[f"Ground {catalog.days[0]['date']}"] == (
        0,
        2,
    )

    reused = await client.post(
        orders_url(catalog),
        headers=headers,
        json={**body, "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 3}]},
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    assert await scalar(db, "SELECT count(*) FROM ticket_order") == 1


@pytest.mark.parametrize(
    ("items", "status", "code", "field"),
    [
        ([("day1", 0)], 422, "validation_failed", "items.0.quantity"),
        ([("day1", 11)], 422, "over_order_limit", "items.0.quantity"),
        ([("child1", 4)], 422, "over_order_limit", "items.0.quantity"),
        ([("day1", 1), ("day1", 1)], 422, "unknown_ticket_type", "items.1.ticket_type_id"),
        ([("nonsense", 1)], 422, "unknown_ticket_type", "items.0.ticket_type_id"),
        ([], 422, "validation_failed", "items"),
    ],
)
async def test_bad_orders_are_refused_and_take_no_capacity(
    client: Client,
    catalog: Catalog,
    db: Database,
    items: list[tuple[str, int]],
    status: int,
    code: str,
    field: str | None,
) -> None:
    def type_id(name: str) -> str:
        return getattr(catalog, name)["id"] if hasattr(catalog, name) else str(uuid.uuid4())

    response = await client.post(
        orders_url(catalog),
        json={
            "email": "x@example.com",
            "items": [{"ticket_type_id": type_id(n), "quantity": q} for n, q in items],
        },
    )
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    assert await scalar(db, "SELECT count(*) FROM ticket_order") == 0
    assert all(v == (0, 0) for v in (await quota_counts(db, catalog.festival_id)).values())


async def test_an_order_for_more_than_remains_is_refused_whole(
    client: Client, catalog: Catalog, db: Database
) -> None:
    await buy(client, catalog, [(catalog.stand1, 5)])
    refused = await buy(client, catalog, [(catalog.day1, 2), (catalog.stand1, 6)], expect=409)
    assert (refused["code"], refused["ticket_type_ids"]) == ("sold_out", [catalog.stand1["id"]])
    counts = await quota_counts(db, catalog.festival_id)
    assert counts["Grandstand day 1"] == (0, 5)
    assert counts[f"Ground {catalog.days[0]['date']}"] == (0, 5)
    assert await scalar(db, "SELECT count(*) FROM ticket_order") == 1


async def test_orders_need_an_email_or_a_phone(client: Client, catalog: Catalog) -> None:
    response = await client.post(
        orders_url(catalog), json={"items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}]}
    )
    assert response.status_code == 422
    bad_email = await client.post(
        orders_url(catalog),
        json={
            "email": "not-an-email",
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert bad_email.status_code == 422
    assert [e["field"] for e in bad_email.json()["errors"]] == ["email"]


async def test_closed_inactive_and_foreign_ticket_types_are_refused(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    closed = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="early",
        name_zh="早鸟",
        name_en="Early bird",
        enclosure_id=catalog.ground["id"],
        day_ids=[catalog.days[0]["id"]],
        price=5000,
        sales_end="2020-01-01T00:00:00Z",
    )
    refused = await buy(client, catalog, [(closed, 1)], expect=409)
    assert (refused["code"], refused["ticket_type_ids"]) == ("sales_closed", [closed["id"]])
    off = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types/{catalog.day2['id']}",
        json={"is_active": False},
        headers=organiser,
    )
    assert off.status_code == 200
    assert (await buy(client, catalog, [(catalog.day2, 1)], expect=409))["code"] == ("sales_closed")

    other = await client.post(
        "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "slug": "other-festival"}
    )
    mismatched = await client.post(
        f"/api/v1/festivals/{other.json()['id']}/orders",
        json={
            "email": "x@example.com",
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert mismatched.status_code == 422
    assert mismatched.json()["code"] == "unknown_ticket_type"
    unknown = await client.post(
        f"/api/v1/festivals/{uuid.uuid4()}/orders",
        json={
            "email": "x@example.com",
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert await scalar(db, "SELECT count(*) FROM ticket_order") == 0
    assert await scalar(db, "SELECT count(*) FROM ticket_quota_hold") == 0


async def test_a_type_without_any_quota_is_not_sold(
    client: Client, organiser: dict[str, str]
) -> None:
    # Capacity must be given: a ticket type no quota covers is sold out, never unlimited.
    lone = (
        await client.post(
            "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "slug": "no-quota"}
        )
    ).json()
    enclosure = (
        await client.post(
            f"/api/v1/festivals/{lone['id']}/enclosures",
            json={"code": "g", "name_zh": "场", "name_en": "Ground"},
            headers=organiser,
        )
    ).json()
    day = lone["meetings"][0]["days"][0]["id"]
    uncovered = await make_type(
        client,
        organiser,
        lone["id"],
        code="t",
        name_zh="票",
        name_en="Ticket",
        enclosure_id=enclosure["id"],
        day_ids=[day],
        price=100,
    )
    assert uncovered["remaining"] == 0
    response = await client.post(
        f"/api/v1/festivals/{lone['id']}/orders",
        json={
            "email": "x@example.com",
            "items": [{"ticket_type_id": uncovered["id"], "quantity": 1}],
        },
    )
    assert (response.status_code, response.json()["code"]) == (409, "sold_out")


async def test_the_order_opens_only_with_its_own_access_token(
    client: Client, organiser: dict[str, str], catalog: Catalog
) -> None:
    mine = await buy(client, catalog, [(catalog.child1, 1)])
    theirs = await buy(client, catalog, [(catalog.child1, 1)], email="other@example.com")
    url = f"/api/v1/orders/{mine['order_id']}"
    for token in (theirs["access_token"], None, "", "x" * 300):
        response = await client.get(url, params={"access_token": token} if token else {})
        assert response.status_code in (403, 422 if token and len(token) > 200 else 403)
        if response.status_code == 403:
            assert response.json()["code"] == "invalid_access_token"
    assert (await client.get(url, headers=organiser)).status_code == 200
    ticket = (await client.get(url, params={"access_token": mine["access_token"]})).json()[
        "tickets"
    ][0]
    for suffix in ("qr.svg", "qr.png", "ticket.pdf"):
        denied = await client.get(
            f"/api/v1/tickets/{ticket['id']}/{suffix}",
            params={"access_token": theirs["access_token"]},
        )
        assert (denied.status_code, denied.json()["code"]) == (403, "invalid_access_token")
    assert (await client.get(f"/api/v1/orders/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/api/v1/orders/1")).status_code == 404
    assert (await client.get("/api/v1/tickets/1/qr.png")).status_code == 404


async def test_cash_sales_at_the_office_are_organisers_only_and_paid_at_once(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    refused = await buy(client, catalog, [(catalog.day1, 1)], payment_provider="cash", expect=403)
    assert refused["code"] == "cash_needs_organiser"
    sold = await buy(
        client, catalog, [(catalog.day1, 2)], payment_provider="cash", headers=organiser
    )
    assert sold["status"] == "paid"
    assert (
        await scalar(db, "SELECT count(*) FROM ticket WHERE order_id = :o", o=sold["order_id"]) == 2
    )
    assert (await quota_counts(db, catalog.festival_id))[f"Ground {catalog.days[0]['date']}"] == (
        2,
        0,
    )


async def test_organisers_list_orders_and_a_buyer_cancels_an_unpaid_one(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    order = await buy(client, catalog, [(catalog.stand1, 2)])
    await pay(client, await buy(client, catalog, [(catalog.day2, 1)]))
    listed = (await client.get(orders_url(catalog), headers=organiser)).json()
    assert listed["total"] == 2
    assert sorted(o["status"] for o in listed["items"]) == ["paid", "pending"]
    assert (await client.get(orders_url(catalog))).status_code == 401

    cancel = await client.post(
        f"/api/v1/orders/{order['order_id']}/cancel",
        params={"access_token": order["access_token"]},
        json={"reason": "changed my mind"},
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["status"] == "canceled"
    assert (await quota_counts(db, catalog.festival_id))["Grandstand day 1"] == (0, 0)
    assert (
        await scalar(db, "SELECT status FROM payment WHERE id = :p", p=order["payment_id"])
        == "canceled"
    )


async def test_ticket_types_list_is_public_and_shows_what_remains(
    client: Client, organiser: dict[str, str], catalog: Catalog
) -> None:
    await buy(client, catalog, [(catalog.stand1, 3)])
    listed = await client.get(f"/api/v1/festivals/{catalog.festival_id}/ticket-types")
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "private, no-store"
    by_code: dict[str, Any] = {t["code"]: t for t in listed.json()["items"]}
    assert by_code["stand-d1"]["remaining"] == 7
    assert by_code["ground-d1"]["remaining"] == 97
    assert by_code["pass"]["kind"] == "pass"
    assert by_code["ground-d1"]["kind"] == "day"
    assert by_code["pass"]["remaining"] == 50
    assert by_code["child-d1"]["price"] == 0
    # Days and enclosure of a type with orders are fixed.
    change = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types/{catalog.stand1['id']}",
        json={"day_ids": [catalog.days[1]["id"]]},
        headers=organiser,
    )
    assert (change.status_code, change.json()["code"]) == (409, "ticket_type_has_sales")
    delete = await client.delete(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types/{catalog.stand1['id']}",
        headers=organiser,
    )
    assert delete.status_code == 409
    anonymous = await client.post(f"/api/v1/festivals/{catalog.festival_id}/ticket-types", json={})
    assert anonymous.status_code == 401
