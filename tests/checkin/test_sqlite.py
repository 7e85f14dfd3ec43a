"""The same decisions on SQLite, the zero-setup default."""

import datetime as dt
import uuid
from typing import Any

import pytest

from events.checkin.decision import ScanInput, decide
from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, Client


@pytest.mark.sqlite
async def test_scan_admits_once_replays_and_refuses_on_sqlite(
    sqlite_client: Client,
    sqlite_url: str,
    sqlite_organiser: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = sqlite_organiser
    database = Database(sqlite_url)
    festival = (
        await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=org)
    ).json()
    day = festival["meetings"][0]["days"][0]
    base = f"/api/v1/festivals/{festival['id']}"
    ground = (
        await sqlite_client.post(
            f"{base}/enclosures",
            headers=org,
            json={"code": "g", "name_zh": "场", "name_en": "Ground"},
        )
    ).json()
    tt = await sqlite_client.post(
        f"{base}/ticket-types",
        headers=org,
        json={
            "code": "d1",
            "name_zh": "票",
            "name_en": "Day 1",
            "enclosure_id": ground["id"],
            "day_ids": [day["id"]],
            "price": 0,
            "capacity": 10,
        },
    )
    assert tt.status_code == 201, tt.text
    order = (
        await sqlite_client.post(
            f"{base}/orders",
            json={
                "email": "a@example.com",
                "items": [{"ticket_type_id": tt.json()["id"], "quantity": 1}],
            },
        )
    ).json()
    ticket = (
        await sqlite_client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        )
    ).json()["tickets"][0]
    device = (
        await sqlite_client.post(
            f"{base}/devices",
            headers=org,
            json={"gate_id": festival["gates"][0]["id"], "name": "phone"},
        )
    ).json()
    moment = dt.datetime.fromisoformat(day["date"] + "T10:00:00+08:00").astimezone(dt.UTC)
    monkeypatch.setattr("events.checkin.services.utcnow", lambda: moment)

    async def scan(nonce: str) -> dict[str, Any]:
        response = await sqlite_client.post(
            "/api/v1/checkin/scan",
            headers={"Authorization": device["authorization"]},
            json={"secret": ticket["token"], "nonce": nonce},
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    assert (await scan("a"))["status"] == "ok"
    second = await scan("b")
    assert second["reason"] == "already_redeemed"
    assert second["first_entry"]["gate_id"] == festival["gates"][0]["id"]
    replay = await scan("a")
    assert replay["status"] == "ok"
    assert replay["replayed"]
    garbage = await sqlite_client.post(
        "/api/v1/checkin/scan",
        headers={"Authorization": device["authorization"]},
        json={"secret": "nope", "nonce": "c"},
    )
    assert garbage.json()["reason"] == "invalid"
    # The decision itself, straight: a wrong day on SQLite.
    outcome = await decide(
        database,
        ScanInput(
            festival_id=uuid.UUID(festival["id"]),
            device_id=uuid.UUID(device["device_id"]),
            gate_id=uuid.UUID(festival["gates"][0]["id"]),
            nonce="d",
            kind="entry",
            ticket_id=uuid.UUID(ticket["id"]),
            serial=ticket["serial"],
            today=dt.date(2030, 1, 1),
            at=moment,
            now=moment,
            client_time=None,
            offline=False,
        ),
    )
    assert outcome.reason == "wrong_day"
    await database.dispose()


@pytest.mark.sqlite
async def test_offline_facts_in_any_order_end_in_the_same_presence_on_sqlite(
    sqlite_client: Client,
    sqlite_url: str,
    sqlite_organiser: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replay of presence from the facts runs on SQLite too."""
    import itertools

    import sqlalchemy as sa

    from tests.checkin.scan_table import make_world

    world = await make_world(sqlite_client, sqlite_organiser)
    noon = world.moment("0 12:00")
    monkeypatch.setattr("events.checkin.services.utcnow", lambda: noon)
    facts = [(0, "entry", "0 09:00"), (1, "entry", "0 09:10"), (0, "exit", "0 09:30")]
    database = Database(sqlite_url)
    states = set()
    for number, order in enumerate(itertools.permutations(range(len(facts)))):
        codes = await world.ticket({"ticket": "paddock_d1"})
        for index in order:
            gate, kind, at = facts[index]
            response = await sqlite_client.post(
                "/api/v1/checkin/sync",
                headers=world.headers(gate),
                json={
                    "scans": [
                        {
                            "secret": codes["old"],
                            "type": kind,
                            "nonce": f"s{number}-{index}",
                            "scanned_at": world.moment(at).isoformat(),
                        }
                    ]
                },
            )
            assert response.status_code == 200, response.text
        async with database.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.text(
                        "SELECT p.inside, p.entries, p.first_entry_at, p.last_change_at, "
                        "s.conflict "
                        "FROM checkin_presence p JOIN checkin_scan s ON s.ticket_id = p.ticket_id "
                        "AND s.nonce = :n"
                    ),
                    {"n": f"s{number}-1"},
                )
            ).one()
        states.add(tuple(row))
        live = await sqlite_client.post(
            "/api/v1/checkin/scan",
            headers=world.headers(0),
            json={"secret": codes["old"], "nonce": f"l{number}"},
        )
        assert live.json()["status"] == "ok"  # outside after 09:30: re-entry admitted
    await database.dispose()
    assert len(states) == 1, states
    inside, entries, _, _, conflict = states.pop()
    assert (bool(inside), entries, bool(conflict)) == (False, 2, True)
