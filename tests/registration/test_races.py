"""Races: organisers set them up; everyone reads places left, fees and conditions."""

import datetime as dt
from typing import Any

from events.db.base import utcnow
from events.db.engine import Database
from events.registration.models import Race
from tests.conftest import Client
from tests.registration.conftest import (
    RaceFactory,
    count_rows,
    entries_url,
    iso,
    race_body,
    rows,
    stable,
)


async def test_an_organiser_creates_a_race_that_anyone_can_read(
    client: Client, db: Database, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    day = festival["meetings"][1]["days"][0]
    body = race_body(
        day["id"],
        code="pacing-local",
        name_zh="走马(本地马)",
        name_en="Pacing race, local horses",
        distance_m=8000,
        field_size=10,
        height_max_cm=138,
        local_provinces=["西藏", "Qinghai"],
        max_per_county=3,
        age_min=4,
        age_max=12,
        rider_min_age=12,
    )

    created = await client.post(
        f"/api/v1/festivals/{festival['id']}/races", json=body, headers=organiser
    )

    assert created.status_code == 201, created.text
    race = created.json()
    assert race["date"] == day["date"]
    assert race["rules"]["local_provinces"] == ["QH", "XZ"]
    assert race["fees"] == {"currency": "CNY", "registration": 10000, "start": 20000, "late": 5000}
    assert race["fee_now"] == 30000
    assert race["window"] == "open"
    assert (race["places_left"], race["waiting"]) == (10, 0)
    assert "registration fee" in race["refund_policy"]["en"]
    listed = (await client.get(f"/api/v1/festivals/{festival['id']}/races")).json()["items"]
    assert [r["code"] for r in listed] == ["pacing-local"]
    assert (await client.get(f"/api/v1/races/{race['id']}")).json()["code"] == "pacing-local"
    [stored] = await rows(db, Race)
    assert (stored.award_category_id, stored.max_per_county) == (None, 3)


async def test_race_codes_are_unique_per_festival(
    client: Client, make_race: RaceFactory, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    await make_race(code="long")
    again = await client.post(
        f"/api/v1/festivals/{festival['id']}/races",
        headers=organiser,
        json=race_body(festival["meetings"][0]["days"][0]["id"], code="long"),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "race_code_taken"


async def test_bad_race_settings_are_named(
    client: Client, db: Database, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    now = utcnow()
    body = race_body(
        "not-a-day",
        entries_open_at=iso(now),
        field_size=0,
        entries_close_at=iso(now - dt.timedelta(days=1)),
        registration_fee=-5,
        local_provinces=["Mordor"],
    )
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/races", json=body, headers=organiser
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "field_size",
        "registration_fee",
        "local_provinces",
    }

    body = race_body(
        "not-a-day",
        entries_open_at=iso(now),
        entries_close_at=iso(now - dt.timedelta(days=1)),
        height_min_cm=140,
        height_max_cm=130,
    )
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/races", json=body, headers=organiser
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["day_id"]

    body["day_id"] = festival["meetings"][0]["days"][0]["id"]
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/races", json=body, headers=organiser
    )
    assert {e["field"] for e in response.json()["errors"]} == {"entries_close_at", "height_max_cm"}
    assert await count_rows(db, Race) == 0


async def test_only_organisers_create_and_edit_races(
    client: Client, make_race: RaceFactory, festival: dict[str, Any]
) -> None:
    race = await make_race()
    assert (
        await client.post(f"/api/v1/festivals/{festival['id']}/races", json={})
    ).status_code == 401
    assert (
        await client.patch(f"/api/v1/races/{race['id']}", json={"field_size": 3})
    ).status_code == 401


async def test_editing_a_race_changes_only_what_is_sent(
    client: Client, make_race: RaceFactory, organiser: dict[str, str]
) -> None:
    race = await make_race(field_size=10, max_per_county=5)
    response = await client.patch(
        f"/api/v1/races/{race['id']}",
        headers=organiser,
        json={"field_size": 12, "max_per_county": None, "start_fee": 25000},
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (
        edited["field_size"],
        edited["rules"]["max_per_county"],
        edited["fees"]["start"],
        edited["name_zh"],
    ) == (12, None, 25000, race["name_zh"])
    cleared = await client.patch(
        f"/api/v1/races/{race['id']}", headers=organiser, json={"field_size": None}
    )
    assert cleared.status_code == 422
    missing = await client.patch("/api/v1/races/nope", headers=organiser, json={})
    assert missing.status_code == 404


async def test_a_larger_field_moves_the_waiting_list_up_and_a_smaller_one_is_refused(
    client: Client,
    db: Database,
    make_race: RaceFactory,
    organiser: dict[str, str],
    festival: dict[str, Any],
) -> None:
    race = await make_race(field_size=1)
    for horse, rider in await stable(db, count=3):
        await client.post(
            entries_url(festival),
            headers=organiser,
            json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
        )

    grown = await client.patch(
        f"/api/v1/races/{race['id']}", headers=organiser, json={"field_size": 2}
    )
    shrunk = await client.patch(
        f"/api/v1/races/{race['id']}", headers=organiser, json={"field_size": 1}
    )

    assert (grown.json()["entered"], grown.json()["waiting"]) == (2, 1)
    assert (shrunk.status_code, shrunk.json()["code"]) == (409, "field_size_below_entered")
    assert (await rows(db, Race))[0].entered == 2
