"""Offline scanners: keys and revocations to verify locally, scans uploaded as facts."""

import base64
import datetime as dt
import uuid
from typing import Any

from events.db.engine import Database
from events.ticketing.tokens import TokenKey, verify_token
from tests.checkin.conftest import Gate, nonce, scan, tickets_of
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, scalar


async def test_keys_verify_tokens_offline_and_revocations_come_after_the_cursor(
        client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate]) -> None:
    tickets = await tickets_of(client, catalog, catalog.day1, 2)
    response = await client.get("/api/v1/checkin/keys", headers=gates[0].headers)
    assert response.status_code == 200
    keys = response.json()
    assert keys["festival_id"] == catalog.festival_id
    assert keys["timezone"] == "Asia/Shanghai"
    assert keys["gate_id"] == gates[0].id
    public = {k["kid"]: TokenKey(kid=k["kid"], festival_id=uuid.UUID(catalog.festival_id),
                                 public_key=base64.b64decode(k["public_key"]))
              for k in keys["keys"]}
    claims = verify_token(tickets[0]["token"], public)
    assert str(getattr(claims, "ticket_id", "")) == tickets[0]["id"]
    assert {e["id"] for e in keys["enclosures"]} == {catalog.ground["id"],
                                                     catalog.grandstand["id"]}
    assert {e["name_en"] for e in keys["enclosures"]} == {"General ground", "Grandstand"}
    assert keys["revocations"] == []
    cursor = keys["cursor"]
    await client.post(f"/api/v1/tickets/{tickets[1]['id']}/refund", headers=organiser,
                      json={"reason": "refund"})
    later = (await client.get(f"/api/v1/checkin/keys?since={cursor}",
                              headers=gates[0].headers)).json()
    assert [r["ticket_id"] for r in later["revocations"]] == [tickets[1]["id"]]
    assert later["cursor"] > cursor
    latest = (await client.get(f"/api/v1/checkin/keys?since={later['cursor']}",
                               headers=gates[0].headers)).json()
    assert latest["revocations"] == []


def _at(catalog: Catalog, hour: int, minute: int) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(catalog.days[0]["date"]),
                                dt.time(hour, minute), dt.timezone(dt.timedelta(hours=8)))
    return local.isoformat()


async def test_an_offline_double_admission_is_a_conflict_never_undone(
        client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database) -> None:
    on_day(catalog.days[0]["date"], 12)
    token = (await tickets_of(client, catalog, catalog.day1))[0]["token"]
    east = await client.post("/api/v1/checkin/sync", headers=gates[0].headers, json={"scans": [
        {"secret": token, "nonce": "off-1", "scanned_at": _at(catalog, 9, 5)}]})
    north = await client.post("/api/v1/checkin/sync", headers=gates[1].headers, json={"scans": [
        {"secret": token, "nonce": "off-2", "scanned_at": _at(catalog, 9, 7)},
        {"secret": "garbage", "nonce": "off-3", "scanned_at": _at(catalog, 9, 8)}]})
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
    again = await client.post("/api/v1/checkin/sync", headers=gates[1].headers, json={"scans": [
        {"secret": token, "nonce": "off-2", "scanned_at": _at(catalog, 9, 7)}]})
    assert again.json()["items"][0]["replayed"] is True
    assert again.json()["accepted"] == 0
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 3


async def test_an_offline_refusal_is_recorded_without_admitting(
        client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database) -> None:
    on_day(catalog.days[0]["date"], 12)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    token = ticket["token"]
    response = await client.post("/api/v1/checkin/sync", headers=gates[0].headers, json={
        "scans": [{"secret": token, "nonce": nonce(), "scanned_at": _at(catalog, 10, 0),
                   "local_result": "error", "local_reason": "revoked"}]})
    assert response.json()["items"][0]["reason"] == "revoked"
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_presence") == 0
    # A genuine ticket is logged by its id, not by a copy of its code.
    assert str(await scalar(db, "SELECT ticket_id FROM checkin_scan")) == ticket["id"]
    assert await scalar(db, "SELECT raw FROM checkin_scan") is None
    assert (await scan(client, gates[0], token))["status"] == "ok"


async def test_sync_refuses_scans_from_the_future_and_names_them(
        client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database) -> None:
    on_day(catalog.days[0]["date"], 12)
    response = await client.post("/api/v1/checkin/sync", headers=gates[0].headers, json={
        "scans": [{"secret": "x", "nonce": nonce(), "scanned_at": _at(catalog, 11, 0)},
                  {"secret": "x", "nonce": nonce(), "scanned_at": "2099-01-01T00:00:00Z"}]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["scans.1.scanned_at"]
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 0


async def test_attendance_counts_admissions_by_gate_enclosure_and_ten_minutes(
        client: Client, organiser: dict[str, str], catalog: Catalog, gates: list[Gate],
        on_day: Any) -> None:
    tickets = await tickets_of(client, catalog, catalog.day1, 3)
    on_day(catalog.days[0]["date"], 9, 1)
    await scan(client, gates[0], tickets[0]["token"])
    await scan(client, gates[0], tickets[0]["token"])  # refused: already in
    on_day(catalog.days[0]["date"], 9, 8)
    await scan(client, gates[1], tickets[1]["token"])
    on_day(catalog.days[0]["date"], 9, 15)
    await scan(client, gates[1], tickets[2]["token"])
    response = await client.get(f"/api/v1/festivals/{catalog.festival_id}/attendance",
                                headers=organiser, params={"day": catalog.days[0]["date"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["admitted"], body["inside_now"], body["refused"]) == (3, 3, 1)
    assert {g["key"]: g["count"] for g in body["by_gate"]} == {gates[0].id: 1, gates[1].id: 2}
    assert [(a["at"][11:16], a["count"]) for a in body["arrivals"]] == [("01:00", 2),
                                                                        ("01:10", 1)]
    assert body["by_day"] == [{"day": catalog.days[0]["date"], "admitted": 3}]
    assert (await client.get(f"/api/v1/festivals/{catalog.festival_id}/attendance",
                             headers=gates[0].headers)).status_code == 403
