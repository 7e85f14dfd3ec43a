"""Ticketing fixtures: a festival's enclosures, ticket types and quotas, made through the API."""

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from events.db.engine import Database
from tests.conftest import Client, pay_path


@dataclass
class Catalog:
    festival_id: str
    days: list[dict[str, Any]]
    ground: dict[str, Any]
    grandstand: dict[str, Any]
    day1: dict[str, Any]
    """General ground, day 1, ¥80, quota 100 a day on the ground."""
    day2: dict[str, Any]
    stand1: dict[str, Any]
    """Grandstand, day 1, ¥200, grandstand quota 10 on day 1."""
    pass_: dict[str, Any]
    """General ground, all three days, ¥200, its own quota of 50."""
    child1: dict[str, Any]
    """Free child ticket, day 1, at most 3 per order."""
    ground_quotas: dict[str, dict[str, Any]]
    """Per day id: the ground's day quota (size 100)."""


async def post(
    client: Client, url: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def make_type(
    client: Client, organiser: dict[str, str], festival_id: str, **body: Any
) -> dict[str, Any]:
    return await post(client, f"/api/v1/festivals/{festival_id}/ticket-types", body, organiser)


@pytest.fixture
async def catalog(client: Client, organiser: dict[str, str], festival: dict[str, Any]) -> Catalog:
    fid = festival["id"]
    days = [d for m in festival["meetings"] for d in m["days"]]
    base = f"/api/v1/festivals/{fid}"
    ground = await post(
        client,
        f"{base}/enclosures",
        {"code": "ground", "name_zh": "草原观赛区", "name_en": "General ground"},
        organiser,
    )
    grandstand = await post(
        client,
        f"{base}/enclosures",
        {"code": "stand", "name_zh": "看台", "name_en": "Grandstand", "parent_id": ground["id"]},
        organiser,
    )
    quotas = {}
    for day in days:
        quotas[day["id"]] = await post(
            client,
            f"{base}/quotas",
            {"name": f"Ground {day['date']}", "size": 100, "day_id": day["id"]},
            organiser,
        )
    await post(
        client,
        f"{base}/quotas",
        {
            "name": "Grandstand day 1",
            "size": 10,
            "day_id": days[0]["id"],
            "enclosure_id": grandstand["id"],
        },
        organiser,
    )
    day1 = await make_type(
        client,
        organiser,
        fid,
        code="ground-d1",
        name_zh="普通票第一天",
        name_en="Ground day 1",
        enclosure_id=ground["id"],
        day_ids=[days[0]["id"]],
        price=8000,
        max_per_order=10,
    )
    day2 = await make_type(
        client,
        organiser,
        fid,
        code="ground-d2",
        name_zh="普通票第二天",
        name_en="Ground day 2",
        enclosure_id=ground["id"],
        day_ids=[days[1]["id"]],
        price=8000,
    )
    stand1 = await make_type(
        client,
        organiser,
        fid,
        code="stand-d1",
        name_zh="看台票第一天",
        name_en="Grandstand day 1",
        enclosure_id=grandstand["id"],
        day_ids=[days[0]["id"]],
        price=20000,
    )
    pass_ = await make_type(
        client,
        organiser,
        fid,
        code="pass",
        name_zh="通票",
        name_en="Festival pass",
        enclosure_id=ground["id"],
        day_ids=[d["id"] for d in days],
        price=20000,
        capacity=50,
    )
    child1 = await make_type(
        client,
        organiser,
        fid,
        code="child-d1",
        name_zh="儿童票",
        name_en="Child day 1",
        enclosure_id=ground["id"],
        day_ids=[days[0]["id"]],
        price=0,
        audience="child",
        max_per_order=3,
    )
    return Catalog(
        festival_id=fid,
        days=days,
        ground=ground,
        grandstand=grandstand,
        day1=day1,
        day2=day2,
        stand1=stand1,
        pass_=pass_,
        child1=child1,
        ground_quotas=quotas,
    )


async def buy(
    client: Client,
    catalog: Catalog,
    items: list[tuple[dict[str, Any], int]],
    *,
    email: str = "buyer@example.com",
    headers: dict[str, str] | None = None,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/orders",
        headers=headers or {},
        json={
            "email": email,
            **extra,
            "items": [{"ticket_type_id": t["id"], "quantity": q} for t, q in items],
        },
    )
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def pay(client: Client, order: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(pay_path(order["payment_id"]))
    assert response.status_code == 200, response.text
    got = await client.get(
        f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
    )
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar()


async def quota_counts(db: Database, festival_id: str) -> dict[str, tuple[int, int]]:
    """Per quota name: (sold, unexpired held)."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT q.name, q.sold, COALESCE((SELECT SUM(h.quantity) FROM ticket_quota_hold h "
                "WHERE h.quota_id = q.id AND h.expires_at > now()), 0) "
                "FROM ticket_quota q WHERE q.festival_id = :f"
            ),
            {"f": festival_id},
        )
        return {name: (sold, int(held)) for name, sold, held in rows}


async def expire_hold(db: Database, order_id: str | None = None) -> None:
    """Move a pending order's hold (or every hold) into the past, as time would. A cached
    "sold out" lasts until the earliest hold lapses by the clock; this moves the holds, not
    the clock, so it also moves the capacity epoch as the clock passing would have."""
    where = "" if order_id is None else " WHERE order_id = :o"
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE ticket_quota_hold SET expires_at = now() - interval '1 second'" + where
            ),
            {"o": order_id},
        )
        await conn.execute(
            sa.text(
                "UPDATE ticket_order SET expires_at = now() - interval "
                "'1 second' WHERE status = 'pending'" + ("" if order_id is None else " AND id = :o")
            ),
            {"o": order_id},
        )
        await conn.execute(sa.text("UPDATE ticket_capacity_epoch SET epoch = epoch + 1"))
