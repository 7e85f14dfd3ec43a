"""Cancelling and refunding: tokens revoked, places freed, money back through payments."""

import uuid

from events.config import Settings
from events.db.engine import Database
from events.ticketing.keys import KeyService
from events.ticketing.tokens import TokenClaims, verify_token
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, buy, pay, quota_counts, scalar


async def revocations(db: Database) -> list[tuple[str, int, str]]:
    async with db.engine.connect() as conn:
        from sqlalchemy import text

        rows = await conn.execute(
            text("SELECT ticket_id, serial, reason FROM ticket_revocation ORDER BY id")
        )
        return [(str(t), s, r) for t, s, r in rows]


async def test_a_refunded_tickets_token_is_revoked_and_its_places_freed(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    placed = await buy(client, catalog, [(catalog.pass_, 1), (catalog.day1, 1)])
    order = await pay(client, placed)
    pass_ticket = next(t for t in order["tickets"] if t["ticket_type_id"] == catalog.pass_["id"])
    before = await quota_counts(db, catalog.festival_id)
    assert before["Festival pass (pass)"] == (1, 0)

    refund = await client.post(
        f"/api/v1/tickets/{pass_ticket['id']}/refund",
        json={"reason": "cannot come"},
        headers=organiser,
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["status"] == "refunded"
    assert await revocations(db) == [(pass_ticket["id"], 1, "refunded")]
    after = await quota_counts(db, catalog.festival_id)
    assert after["Festival pass (pass)"] == (0, 0)
    for day in catalog.days:
        name = f"Ground {day['date']}"
        assert after[name] == (before[name][0] - 1, 0)
    assert (
        await scalar(
            db, "SELECT amount_refunded FROM payment WHERE id = :p", p=placed["payment_id"]
        )
        == 20000
    )
    assert (
        await scalar(db, "SELECT status FROM payment WHERE id = :p", p=placed["payment_id"])
        == "partially_refunded"
    )
    listed = await client.get(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-keys", headers=organiser
    )
    assert [r["ticket_id"] for r in listed.json()["revocations"]] == [pass_ticket["id"]]
    cursor = listed.json()["cursor"]
    assert (
        await client.get(
            f"/api/v1/festivals/{catalog.festival_id}/ticket-keys",
            params={"since": cursor},
            headers=organiser,
        )
    ).json()["revocations"] == []

    # A retry changes nothing: no second refund, no second revocation.
    again = await client.post(
        f"/api/v1/tickets/{pass_ticket['id']}/refund",
        json={"reason": "cannot come"},
        headers=organiser,
    )
    assert again.status_code == 200
    assert (
        await scalar(
            db, "SELECT amount_refunded FROM payment WHERE id = :p", p=placed["payment_id"]
        )
        == 20000
    )
    assert len(await revocations(db)) == 1
    got = await client.get(
        f"/api/v1/orders/{placed['order_id']}", params={"access_token": placed["access_token"]}
    )
    assert got.json()["status"] == "paid"
    assert (
        await client.post(f"/api/v1/tickets/{pass_ticket['id']}/refund", json={"reason": "x"})
    ).status_code == 401


async def test_cancelling_a_paid_order_refunds_every_ticket(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    placed = await buy(client, catalog, [(catalog.stand1, 2), (catalog.child1, 1)])
    await pay(client, placed)
    url = f"/api/v1/orders/{placed['order_id']}/cancel"
    by_buyer = await client.post(
        url, params={"access_token": placed["access_token"]}, json={"reason": "rain"}
    )
    assert (by_buyer.status_code, by_buyer.json()["code"]) == (403, "refund_needs_organiser")
    cancelled = await client.post(url, json={"reason": "race day cancelled"}, headers=organiser)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "refunded"
    assert {t["status"] for t in body["tickets"]} == {"refunded"}
    assert len(await revocations(db)) == 3
    assert (
        await scalar(db, "SELECT status FROM payment WHERE id = :p", p=placed["payment_id"])
        == "refunded"
    )
    assert all(sold == 0 for sold, _ in (await quota_counts(db, catalog.festival_id)).values())


async def test_a_refund_made_in_payments_ends_the_tickets_it_paid_for(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    placed = await buy(client, catalog, [(catalog.day2, 2)])
    await pay(client, placed)
    refund = await client.post(
        f"/api/v1/payments/{placed['payment_id']}/refunds",
        json={"reason": "refunded at the desk"},
        headers=organiser,
    )
    assert refund.status_code == 201, refund.text
    got = (
        await client.get(
            f"/api/v1/orders/{placed['order_id']}", params={"access_token": placed["access_token"]}
        )
    ).json()
    assert got["status"] == "refunded"
    assert {t["status"] for t in got["tickets"]} == {"refunded"}
    assert len(await revocations(db)) == 2
    assert (await quota_counts(db, catalog.festival_id))[f"Ground {catalog.days[1]['date']}"] == (
        0,
        0,
    )


async def test_a_free_ticket_is_cancelled_without_a_payment(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    placed = await buy(client, catalog, [(catalog.child1, 1)])
    ticket = (
        await client.get(
            f"/api/v1/orders/{placed['order_id']}", params={"access_token": placed["access_token"]}
        )
    ).json()["tickets"][0]
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/refund", json={"reason": "duplicate"}, headers=organiser
    )
    assert response.json()["status"] == "canceled"
    assert await revocations(db) == [(ticket["id"], 1, "canceled")]
    got = (
        await client.get(
            f"/api/v1/orders/{placed['order_id']}", params={"access_token": placed["access_token"]}
        )
    ).json()
    assert got["status"] == "canceled"


async def test_a_reissued_ticket_gets_a_new_code_and_the_old_one_is_revoked(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database, settings: Settings
) -> None:
    placed = await buy(client, catalog, [(catalog.day1, 1)])
    old = (await pay(client, placed))["tickets"][0]
    response = await client.post(f"/api/v1/tickets/{old['id']}/reissue", headers=organiser)
    assert response.status_code == 200, response.text
    new = response.json()
    assert (new["serial"], new["status"]) == (2, "valid")
    assert new["token"] != old["token"]
    assert await revocations(db) == [(old["id"], 1, "changed")]
    async with db.transaction() as session:
        keys = await KeyService(session, settings).public_keys(uuid.UUID(catalog.festival_id))
    claims = verify_token(new["token"], keys)
    assert isinstance(claims, TokenClaims)
    assert (claims.ticket_id, claims.serial) == (uuid.UUID(old["id"]), 2)
    # Its place is kept.
    assert (await quota_counts(db, catalog.festival_id))[f"Ground {catalog.days[0]['date']}"] == (
        1,
        0,
    )
    await client.post(
        f"/api/v1/tickets/{old['id']}/refund", json={"reason": "x"}, headers=organiser
    )
    refused = await client.post(f"/api/v1/tickets/{old['id']}/reissue", headers=organiser)
    assert (refused.status_code, refused.json()["code"]) == (409, "ticket_not_valid")
