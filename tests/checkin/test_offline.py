"""Offline scanners: keys and revocations to verify locally, scans uploaded as facts."""

import base64
import datetime as dt
import itertools
import uuid
from typing import Any

import sqlalchemy as sa

from events.db.engine import Database
from events.ticketing.tokens import TokenKey, verify_token
from tests.checkin.conftest import Gate, nonce, scan, tickets_of
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, scalar


async def test_keys_verify_tokens_offline_and_revocations_come_after_the_cursor(
    client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate]
) -> None:
    tickets = await tickets_of(client, catalog, catalog.day1, 2)
    response = await client.get("/api/v1/checkin/keys", headers=gates[0].headers)
    assert response.status_code == 200
    keys = response.json()
    assert keys["festival_id"] == catalog.festival_id
    assert keys["timezone"] == "Asia/Shanghai"
    assert keys["gate_id"] == gates[0].id
    public = {
        k["kid"]: TokenKey(
            kid=k["kid"],
            festival_id=uuid.UUID(catalog.festival_id),
            public_key=base64.b64decode(k["public_key"]),
        )
        for k in keys["keys"]
    }
    claims = verify_token(tickets[0]["token"], public)
    assert str(getattr(claims, "ticket_id", "")) == tickets[0]["id"]
    assert {e["id"] for e in keys["enclosures"]} == {catalog.ground["id"], catalog.grandstand["id"]}
    assert {e["name_en"] for e in keys["enclosures"]} == {"General ground", "Grandstand"}
    assert keys["revocations"] == []
    cursor = keys["cursor"]
    await client.post(
        f"/api/v1/tickets/{tickets[1]['id']}/refund", headers=organiser, json={"reason": "refund"}
    )
    later = (
        await client.get(f"/api/v1/checkin/keys?since={cursor}", headers=gates[0].headers)
    ).json()
    assert [r["ticket_id"] for r in later["revocations"]] == [tickets[1]["id"]]
    assert later["cursor"] > cursor
    latest = (
        await client.get(f"/api/v1/checkin/keys?since={later['cursor']}", headers=gates[0].headers)
    ).json()
    assert latest["revocations"] == []


def _at(catalog: Catalog, hour: int, minute: int) -> str:
    local = dt.datetime.combine(
        dt.date.fromisoformat(catalog.days[0]["date"]),
        dt.time(hour, minute),
        dt.timezone(dt.timedelta(hours=8)),
    )
    return local.isoformat()


async def test_an_offline_double_admission_is_a_conflict_never_undone(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"], 12)
    token = (await tickets_of(client, catalog, catalog.day1))[0]["token"]
    east = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[0].headers,
        json={"scans": [{"secret": token, "nonce": "off-1", "scanned_at": _at(catalog, 9, 5)}]},
    )
    north = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[1].headers,
        json={
            "scans": [
                {"secret": token, "nonce": "off-2", "scanned_at": _at(catalog, 9, 7)},
                {"secret": "garbage", "nonce": "off-3", "scanned_at": _at(catalog, 9, 8)},
            ]
        },
    )
    assert east.status_code == north.status_code == 200
    assert east.json()["items"][0]["status"] == "ok"
    body = north.json()
    assert (body["accepted"], body["conflicts"]) == (2, 1)
    conflict = body["items"][0]
    assert conflict["conflict"] is True
    assert conflict["reason"] == "already_redeemed"
    assert conflict["first_entry"]["gate_id"] == gates[0].id
    assert body["items"][1]["reason"] == "invalid"
    # The first admission stands, at the time it happened.
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_presence") == 1
    first = await scalar(db, "SELECT first_entry_at FROM checkin_presence")
    assert first == dt.datetime.fromisoformat(_at(catalog, 9, 5))
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan WHERE offline AND conflict") == 1
    # Uploading the same batch again records nothing new.
    again = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[1].headers,
        json={"scans": [{"secret": token, "nonce": "off-2", "scanned_at": _at(catalog, 9, 7)}]},
    )
    assert again.json()["items"][0]["replayed"] is True
    assert again.json()["accepted"] == 0
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 3


async def test_an_offline_refusal_is_recorded_without_admitting(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"], 12)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    token = ticket["token"]
    response = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[0].headers,
        json={
            "scans": [
                {
                    "secret": token,
                    "nonce": nonce(),
                    "scanned_at": _at(catalog, 10, 0),
                    "local_result": "error",
                    "local_reason": "revoked",
                }
            ]
        },
    )
    assert response.json()["items"][0]["reason"] == "revoked"
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_presence") == 0
    # A genuine ticket is logged by its id, not by a copy of its code.
    assert str(await scalar(db, "SELECT ticket_id FROM checkin_scan")) == ticket["id"]
    assert await scalar(db, "SELECT raw FROM checkin_scan") is None
    assert (await scan(client, gates[0], token))["status"] == "ok"


async def test_sync_refuses_scans_from_the_future_and_names_them(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    on_day(catalog.days[0]["date"], 12)
    response = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[0].headers,
        json={
            "scans": [
                {"secret": "x", "nonce": nonce(), "scanned_at": _at(catalog, 11, 0)},
                {"secret": "x", "nonce": nonce(), "scanned_at": "2099-01-01T00:00:00Z"},
            ]
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["scans.1.scanned_at"]
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 0


async def test_attendance_counts_admissions_by_gate_enclosure_and_ten_minutes(
    client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate], on_day: Any
) -> None:
    tickets = await tickets_of(client, catalog, catalog.day1, 3)
    on_day(catalog.days[0]["date"], 9, 1)
    await scan(client, gates[0], tickets[0]["token"])
    await scan(client, gates[0], tickets[0]["token"])  # refused: already in
    on_day(catalog.days[0]["date"], 9, 8)
    await scan(client, gates[1], tickets[1]["token"])
    on_day(catalog.days[0]["date"], 9, 15)
    await scan(client, gates[1], tickets[2]["token"])
    response = await client.get(
        f"/api/v1/festivals/{catalog.festival_id}/attendance",
        headers=organiser,
        params={"day": catalog.days[0]["date"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["admitted"], body["inside_now"], body["refused"]) == (3, 3, 1)
    assert {g["key"]: g["count"] for g in body["by_gate"]} == {gates[0].id: 1, gates[1].id: 2}
    assert [(a["at"][11:16], a["count"]) for a in body["arrivals"]] == [("01:00", 2), ("01:10", 1)]
    assert body["by_day"] == [{"day": catalog.days[0]["date"], "admitted": 3}]
    assert (
        await client.get(
            f"/api/v1/festivals/{catalog.festival_id}/attendance", headers=gates[0].headers
        )
    ).status_code == 403


async def _presence(db: Database, ticket_id: str) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT day, first_entry_at, first_gate_id, inside, entries, last_change_at "
                "FROM checkin_presence WHERE ticket_id = :t ORDER BY day"
            ),
            {"t": ticket_id},
        )
        return [tuple(r) for r in rows]


async def test_offline_facts_uploaded_in_any_order_end_in_the_same_presence(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
) -> None:
    """Who is inside follows the facts in the order they happened, whatever order two
    offline phones upload them in; a double admission stays flagged as a conflict."""
    on_day(catalog.days[0]["date"], 12)
    changed = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/enclosures/{catalog.ground['id']}",
        headers=organiser,
        json={"allow_reentry": True},
    )
    assert changed.status_code == 200, changed.text
    facts = [
        (0, "entry", (9, 0)),
        (1, "entry", (9, 10)),
        (0, "exit", (9, 30)),
        (1, "entry", (10, 0)),
    ]
    tickets = [t for _ in range(3) for t in await tickets_of(client, catalog, catalog.day1, 8)]
    states, conflicts, answers = set(), set(), set()
    for number, order in enumerate(itertools.permutations(range(len(facts)))):
        ticket = tickets[number]
        for index in order:
            gate, kind, (hour, minute) = facts[index]
            response = await client.post(
                "/api/v1/checkin/sync",
                headers=gates[gate].headers,
                json={
                    "scans": [
                        {
                            "secret": ticket["token"],
                            "type": kind,
                            "nonce": f"p{number}-{index}",
                            "scanned_at": _at(catalog, hour, minute),
                        }
                    ]
                },
            )
            assert response.status_code == 200, response.text
        rows = await _presence(db, ticket["id"])
        states.add(
            tuple(
                (day, first, str(first_gate), inside, entries, last)
                for day, first, first_gate, inside, entries, last in rows
            )
        )
        conflicts.add(
            await scalar(db, f"SELECT conflict FROM checkin_scan WHERE nonce = 'p{number}-1'")
        )
        answers.add((await scan(client, gates[0], ticket["token"]))["reason"])
    assert len(states) == 1, states
    (row,) = states.pop()
    _, first, first_gate, inside, entries, last = row
    assert (first, first_gate) == (dt.datetime.fromisoformat(_at(catalog, 9, 0)), gates[0].id)
    assert (inside, last) == (True, dt.datetime.fromisoformat(_at(catalog, 10, 0)))
    assert entries == 3
    assert conflicts == {True}  # the 09:10 entry came while the holder was inside
    assert answers == {"already_redeemed"}  # inside: a live entry is refused in every order


async def test_an_exit_uploaded_before_its_earlier_entry_lets_the_holder_back_in(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
) -> None:
    on_day(catalog.days[0]["date"], 12)
    changed = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/enclosures/{catalog.ground['id']}",
        headers=organiser,
        json={"allow_reentry": True},
    )
    assert changed.status_code == 200, changed.text
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    for kind, minute in [("exit", 55), ("entry", 50)]:
        response = await client.post(
            "/api/v1/checkin/sync",
            headers=gates[0].headers,
            json={
                "scans": [
                    {
                        "secret": ticket["token"],
                        "type": kind,
                        "nonce": nonce(),
                        "scanned_at": _at(catalog, 11, minute),
                    }
                ]
            },
        )
        assert response.json()["items"][0]["status"] == "ok"
    assert [r[3] for r in await _presence(db, ticket["id"])] == [False]
    assert (await scan(client, gates[0], ticket["token"]))["status"] == "ok"


async def test_an_exit_after_midnight_of_a_day_ticket_is_ok_and_recorded(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    on_day(catalog.days[0]["date"], 23, 30)
    assert (await scan(client, gates[0], ticket["token"]))["status"] == "ok"
    next_day = dt.date.fromisoformat(catalog.days[0]["date"]) + dt.timedelta(days=1)
    on_day(next_day.isoformat(), 0, 10)
    out = await scan(client, gates[1], ticket["token"], kind="exit")
    assert (out["status"], out["reason"]) == ("ok", None)
    assert [r[3] for r in await _presence(db, ticket["id"])] == [False]
    assert await scalar(db, "SELECT result FROM checkin_scan WHERE kind = 'exit'") == "ok"
    # Offline, the same: an exit uploaded for 00:20 is recorded, not refused.
    response = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[0].headers,
        json={
            "scans": [
                {
                    "secret": ticket["token"],
                    "type": "exit",
                    "nonce": nonce(),
                    "scanned_at": f"{next_day.isoformat()}T00:20:00+08:00",
                }
            ]
        },
    )
    assert response.json()["items"][0]["status"] == "ok"
    # An entry after midnight is for the day check: a day-1 ticket does not enter on day 2.
    assert (await scan(client, gates[0], ticket["token"]))["reason"] == "wrong_day"


async def test_an_offline_phones_own_refusals_are_recorded_with_its_reason(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    """``ambiguous`` is only ever a phone's own answer (it had no offline data): the
    server records it as the phone decided it."""
    on_day(catalog.days[0]["date"], 12)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    response = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[0].headers,
        json={
            "scans": [
                {
                    "secret": ticket["token"],
                    "nonce": nonce(),
                    "scanned_at": _at(catalog, 10, 0),
                    "local_result": "error",
                    "local_reason": "ambiguous",
                }
            ]
        },
    )
    assert response.json()["items"][0]["reason"] == "ambiguous"
    assert await scalar(db, "SELECT reason FROM checkin_scan") == "ambiguous"
