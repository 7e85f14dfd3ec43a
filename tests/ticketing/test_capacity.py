"""Capacity is never oversold: decided atomically in PostgreSQL, held and expired right."""

import asyncio
import re
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from events.config import Settings
from events.db.engine import Database
from events.ticketing.orders import OrderService
from tests.conftest import Client, pay_path
from tests.ticketing.conftest import (
    Catalog,
    buy,
    expire_hold,
    make_type,
    pay,
    post,
    quota_counts,
    scalar,
)


@pytest.fixture
async def last_seven(client: Client, organiser: dict[str, str], catalog: Catalog) -> dict[str, Any]:
    """A final-day grandstand ticket with a quota of 10, of which 3 are already sold."""
    base = f"/api/v1/festivals/{catalog.festival_id}"
    day = catalog.days[2]
    ticket_type = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="final",
        name_zh="决赛日看台",
        name_en="Final day grandstand",
        enclosure_id=catalog.grandstand["id"],
        day_ids=[day["id"]],
        price=30000,
    )
    await post(
        client,
        f"{base}/quotas",
        {"name": "Final grandstand", "size": 10, "ticket_type_id": ticket_type["id"]},
        organiser,
    )
    await pay(client, await buy(client, catalog, [(ticket_type, 3)]))
    return ticket_type


async def test_forty_concurrent_buyers_for_the_last_seven_get_exactly_seven(
    client: Client, catalog: Catalog, last_seven: dict[str, Any], db: Database
) -> None:
    async def attempt(n: int) -> Any:
        return await client.post(
            f"/api/v1/festivals/{catalog.festival_id}/orders",
            json={
                "email": f"fan{n}@example.com",
                "items": [{"ticket_type_id": last_seven["id"], "quantity": 1}],
            },
        )

    responses = await asyncio.gather(*(attempt(n) for n in range(40)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 7, [r.text for r in responses if r.status_code != 409][:3]
    assert statuses.count(409) == 33
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"sold_out"}
    counts = await quota_counts(db, catalog.festival_id)
    assert counts["Final grandstand"] == (3, 7)
    assert await scalar(db, "SELECT count(*) FROM ticket_order WHERE status = 'pending'") == 7

    # All seven pay at once: seven more tickets, the quota exactly full, nothing held.
    winners = [r.json() for r in responses if r.status_code == 201]
    await asyncio.gather(*(pay(client, order) for order in winners))
    assert (await quota_counts(db, catalog.festival_id))["Final grandstand"] == (10, 0)
    assert (
        await scalar(
            db, "SELECT count(*) FROM ticket WHERE ticket_type_id = :t", t=last_seven["id"]
        )
        == 10
    )
    listed = (await client.get(f"/api/v1/festivals/{catalog.festival_id}/ticket-types")).json()
    assert next(t for t in listed["items"] if t["id"] == last_seven["id"])["remaining"] == 0


async def test_concurrent_multi_ticket_orders_never_exceed_any_shared_quota(
    client: Client, catalog: Catalog, db: Database
) -> None:
    # Grandstand day 1 holds 10; day tickets, grandstand tickets and passes all share the
    # ground's 100 on day 1. Thirty buyers of 1-3 grandstand tickets race for 10 places.
    async def attempt(n: int) -> Any:
        return await client.post(
            f"/api/v1/festivals/{catalog.festival_id}/orders",
            json={
                "phone": f"1380000{n:04d}",
                "items": [
                    {"ticket_type_id": catalog.stand1["id"], "quantity": 1 + n % 3},
                    {"ticket_type_id": catalog.day1["id"], "quantity": 2},
                ],
            },
        )

    responses = await asyncio.gather(*(attempt(n) for n in range(30)))
    won = [r.json() for r in responses if r.status_code == 201]
    held = sum(1 + n % 3 for n, r in enumerate(responses) if r.status_code == 201)
    assert 8 <= held <= 10  # 10 would need the exact mix; never more
    assert {r.status_code for r in responses} <= {201, 409}
    counts = await quota_counts(db, catalog.festival_id)
    assert counts["Grandstand day 1"] == (0, held)
    day1 = f"Ground {catalog.days[0]['date']}"
    assert counts[day1] == (0, held + 2 * len(won))


async def test_held_capacity_counts_until_it_expires_then_is_free_again(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    small = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="small",
        name_zh="小",
        name_en="Small",
        enclosure_id=catalog.ground["id"],
        day_ids=[catalog.days[1]["id"]],
        price=1000,
        capacity=2,
    )
    first = await buy(client, catalog, [(small, 2)])
    refused = await buy(client, catalog, [(small, 1)], expect=409)
    assert refused["code"] == "sold_out"
    assert refused["ticket_type_ids"] == [small["id"]]

    # The hold lapses (no worker runs): the places count as free again at once.
    await expire_hold(db, first["order_id"])
    listed = (await client.get(f"/api/v1/festivals/{catalog.festival_id}/ticket-types")).json()
    assert next(t for t in listed["items"] if t["id"] == small["id"])["remaining"] == 2
    second = await buy(client, catalog, [(small, 2)])
    got = await client.get(
        f"/api/v1/orders/{first['order_id']}", params={"access_token": first["access_token"]}
    )
    assert got.json()["status"] == "expired"

    # The first buyer pays late: the places are taken, so the money goes back at once.
    await client.post(pay_path(first["payment_id"]))
    late = (
        await client.get(
            f"/api/v1/orders/{first['order_id']}", params={"access_token": first["access_token"]}
        )
    ).json()
    assert late["status"] == "canceled"
    assert late["tickets"] == []
    assert (
        await scalar(db, "SELECT status FROM payment WHERE id = :p", p=first["payment_id"])
        == "refunded"
    )
    await pay(client, second)
    assert (await quota_counts(db, catalog.festival_id))["Small (small)"] == (2, 0)


async def test_a_late_payment_still_gets_its_tickets_when_there_is_room(
    client: Client, catalog: Catalog, db: Database
) -> None:
    order = await buy(client, catalog, [(catalog.day2, 2)])
    await expire_hold(db)
    paid = await pay(client, order)
    assert paid["status"] == "paid"
    assert len(paid["tickets"]) == 2
    day2 = f"Ground {catalog.days[1]['date']}"
    assert (await quota_counts(db, catalog.festival_id))[day2] == (2, 0)


async def test_a_pass_counts_against_every_day_it_covers(
    client: Client, catalog: Catalog, db: Database
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.pass_, 2), (catalog.day1, 1)]))
    counts = await quota_counts(db, catalog.festival_id)
    assert counts[f"Ground {catalog.days[0]['date']}"] == (3, 0)
    assert counts[f"Ground {catalog.days[1]['date']}"] == (2, 0)
    assert counts[f"Ground {catalog.days[2]['date']}"] == (2, 0)
    assert counts["Festival pass (pass)"] == (2, 0)


async def test_a_failed_payment_releases_the_hold(
    client: Client, catalog: Catalog, db: Database
) -> None:
    order = await buy(client, catalog, [(catalog.stand1, 4)])
    assert (await quota_counts(db, catalog.festival_id))["Grandstand day 1"] == (0, 4)
    cancelled = await client.post(pay_path(order["payment_id"], "test-cancel"))
    assert cancelled.status_code == 200
    assert (await quota_counts(db, catalog.festival_id))["Grandstand day 1"] == (0, 0)
    got = await client.get(
        f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
    )
    assert got.json()["status"] == "expired"


async def test_a_quota_cannot_shrink_below_what_is_sold_and_held(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    await buy(client, catalog, [(catalog.stand1, 4)])
    quotas = (
        await client.get(f"/api/v1/festivals/{catalog.festival_id}/quotas", headers=organiser)
    ).json()["items"]
    stand = next(q for q in quotas if q["name"] == "Grandstand day 1")
    assert (stand["sold"], stand["held"], stand["available"]) == (0, 4, 6)
    url = f"/api/v1/festivals/{catalog.festival_id}/quotas/{stand['id']}"
    refused = await client.patch(url, json={"size": 3}, headers=organiser)
    assert refused.status_code == 409
    assert refused.json()["code"] == "quota_below_taken"
    assert await scalar(db, "SELECT size FROM ticket_quota WHERE id = :q", q=stand["id"]) == 10
    ok = await client.patch(url, json={"size": 4}, headers=organiser)
    assert ok.status_code == 200
    assert ok.json()["available"] == 0


async def test_the_optional_sweep_marks_lapsed_orders_expired_and_drops_their_holds(
    client: Client, catalog: Catalog, db: Database, settings: Settings
) -> None:
    lapsed = await buy(client, catalog, [(catalog.stand1, 2)])
    live = await buy(client, catalog, [(catalog.stand1, 1)])
    await expire_hold(db, lapsed["order_id"])
    async with db.transaction() as session:
        assert await OrderService(session, settings).sweep_expired() == 1
    assert (
        await scalar(db, "SELECT status FROM ticket_order WHERE id = :o", o=lapsed["order_id"])
        == "expired"
    )
    assert await scalar(db, "SELECT count(DISTINCT order_id) FROM ticket_quota_hold") == 1
    assert (
        await scalar(db, "SELECT status FROM ticket_order WHERE id = :o", o=live["order_id"])
        == "pending"
    )


async def test_the_purchase_path_is_a_handful_of_statements_and_one_takes_the_capacity(
    client: Client, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = client._transport.app.state.db.engine.sync_engine  # type: ignore[attr-defined]
    statements: list[str] = []
    raw: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    for name in ("fetch", "fetchrow", "execute"):
        original = getattr(asyncpg.Connection, name)

        def spy(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            raw.append(query)
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, spy)
    event.listen(engine, "before_cursor_execute", record)
    try:
        await buy(client, catalog, [(catalog.day1, 2), (catalog.stand1, 1)])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    payments = re.compile(r"\b(FROM|INTO|UPDATE) (payment|payment_status_change)\b")
    ours = [
        s
        for s in statements  # what payments' start runs is not counted
        if not payments.search(s.split(" WHERE ")[0]) and "festival.slug" not in s
    ]
    assert len(ours) == 1, ours
    assert ours[0].startswith("UPDATE ticket_order SET")
    # On the raw pool: festival+types+epoch+key, coverage, (a pooled connection's first
    # use: its lock timeout), and one statement that locks, decides and writes the order,
    # its lines and its holds.
    hot = [
        q for q in raw if "SET lock_timeout" not in q and q not in ("BEGIN;", "COMMIT;")
    ]  # the request's own transaction (payment)
    assert len(hot) == 3, hot
    assert "FROM festival f" in hot[0]
    assert "JOIN ticket_quota q" in hot[1]
    assert "FOR UPDATE" in hot[2]
    assert "INSERT INTO ticket_order" in hot[2]
