"""Organisers set up what is sold: enclosures, ticket types, quotas. Everyone reads."""

import uuid
from typing import Any

from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, Client
from tests.ticketing.conftest import Catalog, scalar


async def test_enclosures_are_numbered_nested_and_tied_to_gates(
    client: Client,
    organiser: dict[str, str],
    festival: dict[str, Any],
    db: Database,
) -> None:
    base = f"/api/v1/festivals/{festival['id']}/enclosures"
    north = festival["gates"][0]["id"]
    ground = await client.post(
        base, headers=organiser, json={"code": "ground", "name_zh": "草原", "name_en": "Ground"}
    )
    vip = await client.post(
        base,
        headers=organiser,
        json={
            "code": "vip",
            "name_zh": "贵宾",
            "name_en": "VIP",
            "parent_id": ground.json()["id"],
            "allow_reentry": True,
            "gate_ids": [north],
        },
    )
    assert (ground.status_code, vip.status_code) == (201, 201)
    assert (ground.json()["number"], vip.json()["number"]) == (1, 2)
    assert vip.json()["gate_ids"] == [north]
    assert vip.json()["parent_id"] == ground.json()["id"]
    taken = await client.post(
        base, headers=organiser, json={"code": "ground", "name_zh": "草原", "name_en": "Ground"}
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "enclosure_code_taken")
    bad_gate = await client.post(
        base,
        headers=organiser,
        json={"code": "x", "name_zh": "x", "name_en": "x", "gate_ids": [str(uuid.uuid4()), "nope"]},
    )
    assert bad_gate.status_code == 422
    assert [e["field"] for e in bad_gate.json()["errors"]] == ["gate_ids.1"]
    assert await scalar(db, "SELECT count(*) FROM enclosure") == 2
    changed = await client.patch(
        f"{base}/{vip.json()['id']}",
        headers=organiser,
        json={"gate_ids": [], "name_en": "VIP tent"},
    )
    assert changed.status_code == 200
    assert (changed.json()["gate_ids"], changed.json()["name_en"]) == ([], "VIP tent")
    listed = (await client.get(base)).json()["items"]
    assert [e["code"] for e in listed] == ["ground", "vip"]
    anonymous = await client.post(base, json={"code": "y", "name_zh": "y", "name_en": "y"})
    assert anonymous.status_code == 401


async def test_ticket_types_name_every_bad_field(
    client: Client, organiser: dict[str, str], catalog: Catalog, db: Database
) -> None:
    other = (
        await client.post(
            "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "slug": "elsewhere"}
        )
    ).json()
    foreign_day = other["meetings"][0]["days"][0]["id"]
    response = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types",
        headers=organiser,
        json={
            "code": "bad",
            "name_zh": "坏",
            "name_en": "Bad",
            "price": 100,
            "enclosure_id": catalog.ground["id"],
            "day_ids": [catalog.days[0]["id"], foreign_day, catalog.days[0]["id"]],
        },
    )
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["day_ids.1", "day_ids.2"]
    negative = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types",
        headers=organiser,
        json={
            "code": "neg",
            "name_zh": "负",
            "name_en": "Neg",
            "price": -1,
            "max_per_order": 0,
            "enclosure_id": catalog.ground["id"],
            "day_ids": [catalog.days[0]["id"]],
        },
    )
    assert sorted(e["field"] for e in negative.json()["errors"]) == ["max_per_order", "price"]
    taken = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types",
        headers=organiser,
        json={
            "code": "ground-d1",
            "name_zh": "重",
            "name_en": "Dup",
            "price": 1,
            "enclosure_id": catalog.ground["id"],
            "day_ids": [catalog.days[0]["id"]],
        },
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "ticket_type_code_taken")
    assert await scalar(db, "SELECT count(*) FROM ticket_type") == 5


async def test_switched_off_types_are_hidden_from_the_public_not_from_organisers(
    client: Client, organiser: dict[str, str], catalog: Catalog
) -> None:
    base = f"/api/v1/festivals/{catalog.festival_id}/ticket-types"
    off = await client.patch(
        f"{base}/{catalog.day2['id']}", headers=organiser, json={"is_active": False, "price": 9000}
    )
    assert (off.json()["is_active"], off.json()["price"]) == (False, 9000)
    public = {t["code"] for t in (await client.get(base)).json()["items"]}
    assert "ground-d2" not in public
    assert "ground-d2" not in {
        t["code"]
        for t in (await client.get(base, params={"include_inactive": "true"})).json()["items"]
    }
    everything = (
        await client.get(base, params={"include_inactive": "true"}, headers=organiser)
    ).json()["items"]
    assert "ground-d2" in {t["code"] for t in everything}
    assert (await client.get(f"{base}/{catalog.day2['id']}")).status_code == 404
    assert (await client.get(f"{base}/{catalog.day2['id']}", headers=organiser)).status_code == 200
    # A type without orders can change its days, or go.
    moved = await client.patch(
        f"{base}/{catalog.day2['id']}", headers=organiser, json={"day_ids": [catalog.days[2]["id"]]}
    )
    assert [d["id"] for d in moved.json()["days"]] == [catalog.days[2]["id"]]
    gone = await client.delete(f"{base}/{catalog.day2['id']}", headers=organiser)
    assert gone.status_code == 204
    assert (await client.get(f"{base}/{catalog.day2['id']}", headers=organiser)).status_code == 404


async def test_quotas_are_scoped_and_a_new_one_counts_the_tickets_sold_before(
    client: Client, organiser: dict[str, str], catalog: Catalog
) -> None:
    from tests.ticketing.conftest import buy, pay

    await pay(client, await buy(client, catalog, [(catalog.stand1, 3), (catalog.day1, 1)]))
    base = f"/api/v1/festivals/{catalog.festival_id}/quotas"
    enclosure_wide = await client.post(
        base,
        headers=organiser,
        json={"name": "Grandstand, all days", "size": 50, "enclosure_id": catalog.grandstand["id"]},
    )
    assert enclosure_wide.status_code == 201
    assert (enclosure_wide.json()["sold"], enclosure_wide.json()["available"]) == (3, 47)
    too_small = await client.post(
        base,
        headers=organiser,
        json={"name": "Tiny", "size": 2, "enclosure_id": catalog.grandstand["id"]},
    )
    assert (too_small.status_code, too_small.json()["code"]) == (409, "quota_below_taken")
    bad = await client.post(
        base,
        headers=organiser,
        json={"name": "Bad", "size": 1, "day_id": str(uuid.uuid4()), "ticket_type_id": "x"},
    )
    assert bad.status_code == 422
    listed = (await client.get(base, headers=organiser)).json()["items"]
    assert {q["name"]: q["sold"] for q in listed}[f"Ground {catalog.days[0]['date']}"] == 4
    removed = await client.delete(f"{base}/{enclosure_wide.json()['id']}", headers=organiser)
    assert removed.status_code == 204
    assert (await client.get(base)).status_code == 401
