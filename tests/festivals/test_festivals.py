from typing import Any

from sqlalchemy import func
from sqlmodel import select

from events.db.engine import Database
from events.festivals.models import Festival, FestivalDay, Gate, Meeting
from tests.conftest import FESTIVAL_BODY, Client


async def _count(db: Database, model: type) -> int:
    async with db.session_factory() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_create_festival_stores_meetings_days_and_gates(
    festival: dict[str, Any], db: Database
) -> None:
    assert festival["timezone"] == "Asia/Shanghai"
    assert festival["currency"] == "CNY"
    assert festival["starts_on"] == "2027-04-28"
    assert festival["ends_on"] == "2027-07-20"
    assert [m["name_en"] for m in festival["meetings"]] == ["April meeting", "July meeting"]
    assert [d["date"] for d in festival["meetings"][0]["days"]] == ["2027-04-28", "2027-04-29"]
    assert {g["code"] for g in festival["gates"]} == {"north", "east"}
    assert await _count(db, Festival) == 1
    assert await _count(db, Meeting) == 2
    assert await _count(db, FestivalDay) == 3
    assert await _count(db, Gate) == 2


async def test_the_public_reads_festivals(client: Client, festival: dict[str, Any]) -> None:
    listed = await client.get("/api/v1/festivals")
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 1
    assert body["items"][0]["slug"] == "test-festival"
    assert body["items"][0]["starts_on"] == "2027-04-28"
    one = await client.get(f"/api/v1/festivals/{festival['id']}")
    assert one.status_code == 200
    assert one.json()["name_zh"] == "测试赛马节"


async def test_search_festivals_by_name(client: Client, festival: dict[str, Any]) -> None:
    assert (await client.get("/api/v1/festivals?q=赛马")).json()["total"] == 1
    assert (await client.get("/api/v1/festivals?q=nothing")).json()["total"] == 0


async def test_unknown_or_malformed_festival_id_is_404(client: Client) -> None:
    for festival_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = await client.get(f"/api/v1/festivals/{festival_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_duplicate_slug_is_409_and_stores_nothing_more(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> None:
    response = await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=organiser)
    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"
    assert await _count(db, Festival) == 1
    assert await _count(db, FestivalDay) == 3


async def test_invalid_festival_names_every_bad_field(
    client: Client, organiser: dict[str, str]
) -> None:
    body = {
        **FESTIVAL_BODY,
        "slug": "Bad Slug!",
        "currency": "yuan",
        "name_en": "",
        "meetings": [{"name_zh": "x", "name_en": "x", "days": [{"date": "2027-02-30"}]}],
    }
    response = await client.post("/api/v1/festivals", json=body, headers=organiser)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert {e["field"] for e in problem["errors"]} == {
        "slug",
        "currency",
        "name_en",
        "meetings.0.days.0.date",
    }


async def test_unknown_time_zone_and_repeated_day_are_refused(
    client: Client, organiser: dict[str, str], db: Database
) -> None:
    bad_zone = await client.post(
        "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "timezone": "Mars/Olympus"}
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["errors"][0]["field"] == "timezone"
    twice = {
        **FESTIVAL_BODY,
        "meetings": [
            {"name_zh": "a", "name_en": "a", "days": [{"date": "2027-04-28"}]},
            {"name_zh": "b", "name_en": "b", "days": [{"date": "2027-04-28"}]},
        ],
    }
    repeated = await client.post("/api/v1/festivals", headers=organiser, json=twice)
    assert repeated.status_code == 422
    assert repeated.json()["errors"][0]["field"] == "meetings.1.days.0.date"
    assert await _count(db, Festival) == 0


async def test_unknown_fields_are_refused(client: Client, organiser: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "budget": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "budget"


async def test_organiser_edits_a_festival(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> None:
    response = await client.patch(
        f"/api/v1/festivals/{festival['id']}",
        headers=organiser,
        json={"name_en": "Renamed", "timezone": "Asia/Urumqi"},
    )
    assert response.status_code == 200
    assert response.json()["name_en"] == "Renamed"
    async with db.session_factory() as session:
        stored = (await session.exec(select(Festival))).one()
    assert (stored.name_en, stored.timezone, stored.name_zh) == (
        "Renamed",
        "Asia/Urumqi",
        "测试赛马节",
    )
    assert stored.updated_at > stored.created_at


async def test_add_meeting_refuses_a_day_that_is_taken(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    url = f"/api/v1/festivals/{festival['id']}/meetings"
    clash = await client.post(
        url,
        headers=organiser,
        json={"name_zh": "八月", "name_en": "August", "days": [{"date": "2027-07-20"}]},
    )
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "days.0.date"
    added = await client.post(
        url,
        headers=organiser,
        json={
            "name_zh": "八月赛会",
            "name_en": "August meeting",
            "days": [{"date": "2027-08-02"}, {"date": "2027-08-01"}],
        },
    )
    assert added.status_code == 201
    meetings = added.json()["meetings"]
    assert meetings[-1]["position"] == 3
    assert [d["date"] for d in meetings[-1]["days"]] == ["2027-08-01", "2027-08-02"]


async def test_gates_are_added_and_renamed(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    url = f"/api/v1/festivals/{festival['id']}/gates"
    added = await client.post(
        url, headers=organiser, json={"code": "vip", "name_zh": "贵宾门", "name_en": "VIP gate"}
    )
    assert added.status_code == 201
    again = await client.post(
        url, headers=organiser, json={"code": "vip", "name_zh": "贵宾门", "name_en": "VIP gate"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "gate_code_taken"
    renamed = await client.patch(
        f"{url}/{added.json()['id']}", headers=organiser, json={"name_en": "VIP enclosure gate"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name_en"] == "VIP enclosure gate"


async def test_an_absurd_offset_is_422_not_a_database_overflow(client: Client) -> None:
    response = await client.get("/api/v1/festivals?offset=99999999999999999999")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "offset"
