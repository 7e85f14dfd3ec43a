import asyncio
from typing import Any

import sqlalchemy as sa

from events.db.engine import Database
from tests.checkin.conftest import Gate, make_device, nonce, scan, tickets_of
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, scalar


async def _scans(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.text(
                        "SELECT nonce, result, reason, ticket_id, raw, offline, conflict FROM "
                        "checkin_scan "
                        "ORDER BY id"
                    )
                )
            ).all()
        )


async def test_first_scan_admits_and_the_second_is_already_redeemed(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"], 9, 12)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    first = await scan(client, gates[0], ticket["token"])
    assert first["status"] == "ok"
    assert first["reason"] is None
    assert first["ticket"]["id"] == ticket["id"]
    assert first["ticket"]["enclosure_id"] == catalog.ground["id"]
    on_day(catalog.days[0]["date"], 9, 40)
    second = await scan(client, gates[1], ticket["token"])
    assert second["status"] == "error"
    assert second["reason"] == "already_redeemed"
    assert second["first_entry"]["gate_id"] == gates[0].id
    assert second["first_entry"]["gate_name_en"] == gates[0].name_en
    assert "09:12" in second["explanation_zh"]
    assert gates[0].name_en in second["explanation_en"]
    rows = await _scans(db)
    assert [(r.result, r.reason) for r in rows] == [("ok", None), ("error", "already_redeemed")]
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_presence") == 1


async def test_fifty_concurrent_scans_from_different_gates_admit_exactly_once(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
    festival: dict[str, Any],
) -> None:
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    devices = [
        *gates,
        *[
            await make_device(client, organiser, festival["id"], gates[i % 2].id, f"extra-{i}")
            for i in range(8)
        ],
    ]
    answers = await asyncio.gather(
        *(scan(client, devices[i % len(devices)], ticket["token"]) for i in range(50))
    )
    statuses = [a["status"] for a in answers]
    assert statuses.count("ok") == 1
    assert {a["reason"] for a in answers if a["status"] == "error"} == {"already_redeemed"}
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 50
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan WHERE result = 'ok'") == 1
    assert await scalar(db, "SELECT entries FROM checkin_presence") == 1


async def test_a_retried_nonce_gets_the_stored_answer_and_records_nothing(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    first = await scan(client, gates[0], ticket["token"], nonce_value="retry-1")
    again = await asyncio.gather(
        *(scan(client, gates[0], ticket["token"], nonce_value="retry-1") for _ in range(5))
    )
    assert first["status"] == "ok"
    assert not first["replayed"]
    assert all(a["status"] == "ok" and a["replayed"] for a in again)
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 1
    # The same nonce from another device is another scan.
    other = await scan(client, gates[1], ticket["token"], nonce_value="retry-1")
    assert other["reason"] == "already_redeemed"


async def test_garbage_truncated_and_forged_tokens_are_invalid_and_recorded(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"])
    token = (await tickets_of(client, catalog, catalog.day1))[0]["token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for secret in ("hello", "", token[:60], forged, "x" * 4000, "🐎" * 10):
        answer = await scan(client, gates[0], secret)
        assert answer["status"] == "error"
        assert answer["reason"] == "invalid"
        assert answer["ticket"] is None
    rows = await _scans(db)
    assert len(rows) == 6
    assert all(r.reason == "invalid" and r.ticket_id is None for r in rows)
    assert rows[0].raw == "hello"
    assert len(rows[4].raw) == 512


async def test_a_token_of_another_festival_is_invalid(
    client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    on_day(catalog.days[0]["date"])
    other = await client.post(
        "/api/v1/festivals",
        headers=organiser,
        json={
            "slug": "other-fest",
            "name_zh": "别的赛马节",
            "name_en": "Other",
            "meetings": [
                {"name_zh": "a", "name_en": "a", "days": [{"date": catalog.days[0]["date"]}]}
            ],
            "gates": [{"code": "g", "name_zh": "门", "name_en": "Gate"}],
        },
    )
    assert other.status_code == 201
    other_id = other.json()["id"]
    other_day = other.json()["meetings"][0]["days"][0]["id"]
    ground = await client.post(
        f"/api/v1/festivals/{other_id}/enclosures",
        headers=organiser,
        json={"code": "g", "name_zh": "场", "name_en": "Ground"},
    )
    tt = await client.post(
        f"/api/v1/festivals/{other_id}/ticket-types",
        headers=organiser,
        json={
            "code": "d",
            "name_zh": "票",
            "name_en": "Day",
            "enclosure_id": ground.json()["id"],
            "day_ids": [other_day],
            "price": 0,
            "capacity": 10,
        },
    )
    assert tt.status_code == 201, tt.text
    order = await client.post(
        f"/api/v1/festivals/{other_id}/orders",
        json={
            "email": "a@example.com",
            "items": [{"ticket_type_id": tt.json()["id"], "quantity": 1}],
        },
    )
    got = await client.get(
        f"/api/v1/orders/{order.json()['order_id']}",
        params={"access_token": order.json()["access_token"]},
    )
    foreign = got.json()["tickets"][0]["token"]
    answer = await scan(client, gates[0], foreign)
    assert answer["reason"] == "invalid"


async def test_a_refunded_ticket_is_canceled(
    client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    refund = await client.post(
        f"/api/v1/tickets/{ticket['id']}/refund",
        headers=organiser,
        json={"reason": "changed plans"},
    )
    assert refund.status_code in (200, 201), refund.text
    answer = await scan(client, gates[0], ticket["token"])
    assert (answer["status"], answer["reason"]) == ("error", "canceled")


async def test_a_reissued_tickets_old_code_is_revoked_and_the_new_one_admits(
    client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    reissued = await client.post(f"/api/v1/tickets/{ticket['id']}/reissue", headers=organiser)
    assert reissued.status_code in (200, 201), reissued.text
    assert (await scan(client, gates[0], ticket["token"]))["reason"] == "revoked"
    assert (await scan(client, gates[0], reissued.json()["token"]))["status"] == "ok"


async def test_wrong_day(client: Client, catalog: Catalog, gates: list[Gate], on_day: Any) -> None:
    ticket = (await tickets_of(client, catalog, catalog.day2))[0]
    on_day(catalog.days[0]["date"])
    assert (await scan(client, gates[0], ticket["token"]))["reason"] == "wrong_day"
    on_day(catalog.days[1]["date"])
    assert (await scan(client, gates[0], ticket["token"]))["status"] == "ok"


async def test_a_pass_admits_once_per_day(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    token = (await tickets_of(client, catalog, catalog.pass_))[0]["token"]
    for day in catalog.days:
        on_day(day["date"])
        assert (await scan(client, gates[0], token))["status"] == "ok"
        assert (await scan(client, gates[1], token))["reason"] == "already_redeemed"


async def test_wrong_gate_for_an_enclosure_behind_one_gate(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    festival: dict[str, Any],
) -> None:
    on_day(catalog.days[0]["date"])
    vip = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/enclosures",
        headers=organiser,
        json={"code": "vip", "name_zh": "贵宾区", "name_en": "VIP", "gate_ids": [gates[1].id]},
    )
    assert vip.status_code == 201, vip.text
    tt = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types",
        headers=organiser,
        json={
            "code": "vip-d1",
            "name_zh": "贵宾票",
            "name_en": "VIP day 1",
            "enclosure_id": vip.json()["id"],
            "day_ids": [catalog.days[0]["id"]],
            "price": 50000,
            "capacity": 5,
        },
    )
    assert tt.status_code == 201, tt.text
    token = (await tickets_of(client, catalog, tt.json()))[0]["token"]
    assert (await scan(client, gates[0], token))["reason"] == "wrong_gate"
    assert (await scan(client, gates[1], token))["status"] == "ok"


async def test_grandstand_ticket_also_enters_the_ground_once(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    """The grandstand lies within the ground; every gate leads to both here, so the
    grandstand (the ticket's own list) is the one checked."""
    on_day(catalog.days[0]["date"])
    token = (await tickets_of(client, catalog, catalog.stand1))[0]["token"]
    answer = await scan(client, gates[0], token)
    assert answer["status"] == "ok"
    assert answer["ticket"]["enclosure_id"] == catalog.grandstand["id"]
    assert (await scan(client, gates[1], token))["reason"] == "already_redeemed"


async def test_re_entry_after_an_exit_where_the_list_allows_it(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
) -> None:
    on_day(catalog.days[0]["date"])
    changed = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/enclosures/{catalog.ground['id']}",
        headers=organiser,
        json={"allow_reentry": True},
    )
    assert changed.status_code == 200, changed.text
    token = (await tickets_of(client, catalog, catalog.day1))[0]["token"]
    assert (await scan(client, gates[0], token))["status"] == "ok"
    assert (await scan(client, gates[0], token))["reason"] == "already_redeemed"
    out = await scan(client, gates[1], token, kind="exit")
    assert out["status"] == "ok"
    assert out["explanation_en"] == "Exit recorded"
    assert (await scan(client, gates[1], token))["status"] == "ok"
    assert await scalar(db, "SELECT entries FROM checkin_presence") == 2


async def test_revoked_device_is_refused_at_once(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
) -> None:
    on_day(catalog.days[0]["date"])
    token = (await tickets_of(client, catalog, catalog.day1))[0]["token"]
    await client.post(f"/api/v1/devices/{gates[0].device_id}/revoke", headers=organiser)
    response = await client.post(
        "/api/v1/checkin/scan", headers=gates[0].headers, json={"secret": token, "nonce": nonce()}
    )
    assert response.status_code == 401
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 0


async def test_bad_requests_get_problem_codes(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, make_user: Any
) -> None:
    on_day(catalog.days[0]["date"])
    url = "/api/v1/checkin/scan"
    future = await client.post(
        url,
        headers=gates[0].headers,
        json={"secret": "x", "nonce": nonce(), "scanned_at": "2099-01-01T00:00:00Z"},
    )
    assert (future.status_code, future.json()["code"]) == (422, "clock_ahead")
    no_nonce = await client.post(url, headers=gates[0].headers, json={"secret": "x"})
    assert (no_nonce.status_code, no_nonce.json()["code"]) == (422, "validation_failed")
    huge = await client.post(
        url,
        headers={**gates[0].headers, "Content-Type": "application/json"},
        content=b'{"secret": "' + b"A" * 100_000 + b'", "nonce": "n"}',
    )
    assert (huge.status_code, huge.json()["code"]) == (413, "payload_too_large")
    bad_gate = await client.post(
        url,
        headers=gates[0].headers,
        json={"secret": "x", "nonce": nonce(), "gate_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert (bad_gate.status_code, bad_gate.json()["code"]) == (422, "unknown_gate")
    anonymous = await client.post(url, json={"secret": "x", "nonce": nonce()})
    assert anonymous.status_code == 401
    person = await make_user("gate")
    as_user = await client.post(
        url,
        headers={"Authorization": person["Authorization"]},
        json={"secret": "x", "nonce": nonce()},
    )
    assert as_user.status_code == 403
