"""The on-sale rush: quotas changed while orders run, purchases racing refunds, the cached
sold-out answer that never reaches the quota rows, and the scoped Idempotency-Key."""

import asyncio
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from events.db.base import utcnow
from events.db.engine import Database
from events.ticketing import capacity
from events.ticketing.capacity import SOLD_OUT
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, buy, make_type, pay, post, quota_counts, scalar


async def _counters_agree(db: Database, festival_id: str) -> list[dict[str, Any]]:
    """Every quota's counters against what is stored: sold = the valid tickets it covers,
    held = its hold rows; and never more than its size."""
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text("""
            SELECT q.name, q.size, q.sold, q.held,
                   (SELECT count(*) FROM ticket t JOIN ticket_type tt ON tt.id = t.ticket_type_id
                    WHERE t.status = 'valid' AND tt.festival_id = q.festival_id
                      AND (q.ticket_type_id IS NULL OR q.ticket_type_id = tt.id)
                      AND (q.enclosure_id IS NULL OR q.enclosure_id = tt.enclosure_id)
                      AND (q.day_id IS NULL OR EXISTS (
                          SELECT 1 FROM ticket_type_day d
                          WHERE d.ticket_type_id = tt.id AND d.day_id = q.day_id))) AS valid,
                   (SELECT coalesce(sum(h.quantity), 0) FROM ticket_quota_hold h
                    WHERE h.quota_id = q.id) AS hold_rows
            FROM ticket_quota q WHERE q.festival_id = :f"""),
                {"f": festival_id},
            )
        ).mappings()
        found = [dict(r) for r in rows]
    for quota in found:
        assert quota["sold"] == quota["valid"], quota
        assert quota["held"] == quota["hold_rows"], quota
        assert quota["sold"] + quota["held"] <= quota["size"], quota
    return found


async def test_quotas_created_resized_and_deleted_while_a_hundred_orders_run_never_oversell(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> None:
    fid = festival["id"]
    base = f"/api/v1/festivals/{fid}"
    day = festival["meetings"][0]["days"][0]["id"]
    ground = await post(
        client,
        f"{base}/enclosures",
        {"code": "ground", "name_zh": "草原", "name_en": "Ground"},
        organiser,
    )
    free = await make_type(
        client,
        organiser,
        fid,
        code="free",
        name_zh="免费",
        name_en="Free",
        enclosure_id=ground["id"],
        day_ids=[day],
        price=0,
        capacity=1000,
    )
    paid = await make_type(
        client,
        organiser,
        fid,
        code="paid",
        name_zh="付费",
        name_en="Paid",
        enclosure_id=ground["id"],
        day_ids=[day],
        price=5000,
        capacity=1000,
    )
    doomed = await post(
        client,
        f"{base}/quotas",
        {"name": "Doomed", "size": 1000, "enclosure_id": ground["id"]},
        organiser,
    )

    async def order(n: int) -> Any:
        return await client.post(
            f"{base}/orders",
            json={
                "email": f"rush{n}@example.com",
                "items": [{"ticket_type_id": (free if n % 2 else paid)["id"], "quantity": 1}],
            },
        )

    async def organise() -> tuple[Any, Any, Any]:
        await asyncio.sleep(0.02)  # let the first orders start (ordering only, no timing)
        created = await client.post(
            f"{base}/quotas",
            headers=organiser,
            json={"name": "Enclosure day", "size": 60, "enclosure_id": ground["id"], "day_id": day},
        )
        resized = None
        if created.status_code == 201:
            resized = await client.patch(
                f"{base}/quotas/{created.json()['id']}", headers=organiser, json={"size": 70}
            )
        deleted = await client.delete(f"{base}/quotas/{doomed['id']}", headers=organiser)
        return created, resized, deleted

    *answers, (created, resized, deleted) = await asyncio.gather(
        *(order(n) for n in range(100)), organise()
    )
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers][:3]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {"sold_out"}
    assert deleted.status_code == 204, deleted.text
    quotas = {q["name"]: q for q in await _counters_agree(db, fid)}
    assert "Doomed" not in quotas
    issued = await scalar(db, "SELECT count(*) FROM ticket WHERE festival_id = :f", f=fid)
    held = await scalar(
        db,
        "SELECT count(*) FROM ticket_quota_hold h JOIN ticket_quota q "
        "ON q.id = h.quota_id WHERE q.name = 'Paid (paid)'",
    )
    won = sum(a.status_code == 201 for a in answers)
    assert issued + held == won
    if created.status_code == 201:
        # The enclosure quota counted what was sold and held before it, and everything after.
        assert resized is not None
        assert resized.status_code == 200, resized.text
        enclosure = quotas["Enclosure day"]
        assert enclosure["size"] == 70
        assert enclosure["sold"] + enclosure["held"] == won <= 70
    else:
        assert created.json()["code"] == "quota_below_taken"


async def test_purchases_racing_a_refund_never_oversell_and_the_freed_place_sells(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    last = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="last",
        name_zh="最后一张",
        name_en="The last one",
        enclosure_id=catalog.ground["id"],
        day_ids=[catalog.days[1]["id"]],
        price=1000,
        capacity=1,
    )
    first = await pay(client, await buy(client, catalog, [(last, 1)]))
    refused = await buy(client, catalog, [(last, 1)], expect=409)  # sold out, now cached
    assert refused["ticket_type_ids"] == [last["id"]]

    async def attempt(n: int) -> Any:
        return await client.post(
            f"/api/v1/festivals/{catalog.festival_id}/orders",
            json={
                "email": f"late{n}@example.com",
                "items": [{"ticket_type_id": last["id"], "quantity": 1}],
            },
        )

    refund, *answers = await asyncio.gather(
        client.post(
            f"/api/v1/tickets/{first['tickets'][0]['id']}/refund",
            headers=organiser,
            json={"reason": "ill"},
        ),
        *(attempt(n) for n in range(20)),
    )
    assert refund.status_code == 200, refund.text
    won = [a for a in answers if a.status_code == 201]
    assert len(won) <= 1
    assert {a.json()["code"] for a in answers if a.status_code != 201} <= {"sold_out"}
    if not won:  # every racer came before the refund: the freed place still sells
        won = [await attempt(99)]
        assert won[0].status_code == 201, won[0].text
    await buy(client, catalog, [(last, 1)], expect=409)
    await _counters_agree(db, catalog.festival_id)
    assert (await quota_counts(db, catalog.festival_id))["The last one (last)"] == (0, 1)
    assert (
        await scalar(
            db,
            "SELECT count(DISTINCT order_id) FROM ticket_quota_hold h "
            "JOIN ticket_quota q ON q.id = h.quota_id WHERE q.name = :n",
            n="The last one (last)",
        )
        == 1
    )


async def test_a_sold_out_answer_does_not_reach_the_quota_rows(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    gone = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="gone",
        name_zh="售罄",
        name_en="Gone",
        enclosure_id=catalog.ground["id"],
        day_ids=[catalog.days[2]["id"]],
        price=0,
        capacity=2,
    )
    await buy(client, catalog, [(gone, 2)])
    await buy(client, catalog, [(gone, 1)], expect=409)  # decided under the locks: cached

    # Another session takes the quota tables for itself: anything that read a quota or
    # hold row now would wait (and answer 503 capacity_busy, or hang).
    async with db.engine.connect() as other:
        await other.execute(sa.text("BEGIN"))
        await other.execute(
            sa.text("LOCK TABLE ticket_quota, ticket_quota_hold IN ACCESS EXCLUSIVE MODE")
        )
        answer = await asyncio.wait_for(
            client.post(
                f"/api/v1/festivals/{catalog.festival_id}/orders",
                json={
                    "email": "again@example.com",
                    "items": [{"ticket_type_id": gone["id"], "quantity": 1}],
                },
            ),
            timeout=30,
        )
        await other.execute(sa.text("ROLLBACK"))
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "sold_out"
    assert answer.json()["ticket_type_ids"] == [gone["id"]]


async def test_capacity_given_back_by_another_worker_ends_the_cached_sold_out(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    few = await make_type(
        client,
        organiser,
        catalog.festival_id,
        code="few",
        name_zh="少",
        name_en="Few",
        enclosure_id=catalog.ground["id"],
        day_ids=[catalog.days[2]["id"]],
        price=0,
        capacity=1,
    )
    order = await buy(client, catalog, [(few, 1)])
    await buy(client, catalog, [(few, 1)], expect=409)
    assert SOLD_OUT.sold_out(
        [uuid.UUID(few["id"])],
        await scalar(
            db,
            "SELECT epoch FROM ticket_capacity_epoch WHERE festival_id = :f",
            f=catalog.festival_id,
        )
        or 0,
        utcnow(),
    )

    # Another process (a second worker) gives the place back: only the database is shared.
    async with db.transaction() as session:
        conn = await session.connection()
        ticket = await scalar(db, "SELECT id FROM ticket WHERE order_id = :o", o=order["order_id"])
        await conn.execute(
            sa.text("UPDATE ticket SET status = 'canceled' WHERE id = :t"), {"t": ticket}
        )
        by_type, _ = await capacity.plan_coverage(conn, [uuid.UUID(few["id"])])
        await capacity.unsell(conn, dict.fromkeys(by_type[uuid.UUID(few["id"])], 1))
    again = await buy(client, catalog, [(few, 1)])
    assert again["status"] == "paid"
    await _counters_agree(db, catalog.festival_id)


async def test_refunding_an_admitted_ticket_needs_the_organiser_to_say_so(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    order = await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    ticket = order["tickets"][0]
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO checkin_presence (ticket_id, enclosure_id, day, first_entry_at, "
                "first_gate_id, first_device_id, inside, entries, last_change_at) VALUES "
                "(:t, :e, CAST(:d AS date), now(), :g, :g, true, 1, now())"
            ),
            {
                "t": ticket["id"],
                "e": ticket["enclosure"]["id"],
                "d": dt.date.fromisoformat(catalog.days[0]["date"]),
                "g": str(uuid.uuid4()),
            },
        )
    url = f"/api/v1/tickets/{ticket['id']}/refund"
    warned = await client.post(url, headers=organiser, json={"reason": "ill"})
    assert warned.status_code == 409, warned.text
    assert warned.json()["code"] == "ticket_admitted"
    assert warned.json()["ticket_ids"] == [ticket["id"]]
    assert await scalar(db, "SELECT status FROM ticket WHERE id = :t", t=ticket["id"]) == "valid"
    cancel = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", headers=organiser, json={"reason": "ill"}
    )
    assert cancel.json()["code"] == "ticket_admitted"

    refunded = await client.post(
        url, headers=organiser, json={"reason": "ill", "admitted_ok": True}
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"


async def test_an_idempotency_key_is_kept_per_caller_and_must_be_unguessable(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    mine = await buy(client, catalog, [(catalog.day1, 1)], headers=key)
    again = await buy(client, catalog, [(catalog.day1, 1)], headers=key)
    assert again["order_id"] == mine["order_id"]
    # The organiser (another caller) with the same key and body gets an order of its own,
    # not the buyer's order and its access token.
    theirs = await buy(client, catalog, [(catalog.day1, 1)], headers={**key, **organiser})
    assert theirs["order_id"] != mine["order_id"]
    assert theirs["access_token"] != mine["access_token"]
    stored = await scalar(
        db, "SELECT idempotency_key FROM ticket_order WHERE id = :o", o=mine["order_id"]
    )
    assert key["Idempotency-Key"] not in stored
    short = await buy(
        client, catalog, [(catalog.day1, 1)], headers={"Idempotency-Key": "1"}, expect=422
    )
    assert short["errors"][0]["field"] == "Idempotency-Key"
