"""Results entry: whole race, all or nothing; provisional → official → amended."""

import asyncio
import datetime as dt
from typing import Any

import time_machine
from sqlmodel import col, select

from events.access.models import Role
from events.db.engine import Database
from events.results.models import PrizeEntitlement, ResultVersion
from tests.conftest import Client, UserFactory, headers_of
from tests.results.conftest import RaceFactory, RaceSetup, auth, draw, order, submit


async def _ready(
    client: Client, make_race: RaceFactory, official: dict[str, str], **kwargs: Any
) -> RaceSetup:
    race = await make_race(**kwargs)
    await draw(client, race, official, seed=1)
    return race


async def _versions(db: Database, race: RaceSetup) -> list[ResultVersion]:
    async with db.transaction() as session:
        return list(
            (
                await session.exec(
                    select(ResultVersion).where(col(ResultVersion.race_id) == race.race_id)
                )
            ).all()
        )


async def test_provisional_then_official_after_the_objection_window(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(client, make_race, official, horses=4)
    response = await submit(client, race, official, order(race, "马03", "马01", "马04", "马02"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "provisional"
    assert [r["horse_name"] for r in body["rows"]] == ["马03", "马01", "马04", "马02"]
    early = await client.post(
        f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
    )
    assert early.status_code == 409
    assert early.json()["code"] == "objection_window_open"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16), tick=True):
        response = await client.post(
            f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "official"
    assert response.json()["rows"][0]["prize_fen"] == 8_000_000
    state = (await client.get(f"/api/v1/races/{race.race_id}/results")).json()
    assert state["state"] == "official"
    assert state["start_list"]["status"] == "frozen"
    assert [v.status for v in sorted(await _versions(db, race), key=lambda v: v.number)] == [
        "provisional",
        "official",
    ]


async def test_a_dead_heat_for_second_splits_places_two_and_three_to_the_fen(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(
        client,
        make_race,
        official,
        horses=5,
        objection_minutes=0,
        prizes=(8_000_000, 5_000_000, 4_000_001, 3_000_000, 2_000_000),
    )
    starters = [
        {"entry_id": race.entries["马01"], "place": 1},
        {"entry_id": race.entries["马02"], "place": 2, "dead_heat": True},
        {"entry_id": race.entries["马03"], "place": 2, "dead_heat": True},
        {"entry_id": race.entries["马04"], "place": 4},
        {"entry_id": race.entries["马05"], "status": "dnf"},
    ]
    assert (await submit(client, race, official, starters)).status_code == 201
    response = await client.post(
        f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
    )
    assert response.status_code == 200, response.text
    prizes = {
        r["horse_name"]: (r["place"], r["dead_heat"], r["prize_fen"])
        for r in response.json()["rows"]
    }
    # (5,000,000 + 4,000,001) / 2 = 4,500,000 each; 1 fen stays with the organiser.
    assert prizes == {
        "马01": (1, False, 8_000_000),
        "马02": (2, True, 4_500_000),
        "马03": (2, True, 4_500_000),
        "马04": (4, False, 3_000_000),
        "马05": (None, False, 0),
    }
    async with db.transaction() as session:
        stored = (
            await session.exec(
                select(PrizeEntitlement).where(col(PrizeEntitlement.race_id) == race.race_id)
            )
        ).all()
    tied = [e for e in stored if str(e.entry_id) == race.entries["马02"]]
    assert [(e.place, e.pooled_places, e.gross_fen) for e in tied] == [(2, [2, 3], 4_500_000)]


async def test_amendment_dsq_of_the_winner_keeps_history_claws_back_and_moves_up(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(client, make_race, official, horses=5, objection_minutes=0)
    names = ("马01", "马02", "马03", "马04", "马05")
    await submit(client, race, official, order(race, *names))
    await client.post(f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official))
    starters = [
        {"entry_id": race.entries["马01"], "status": "dsq", "reason": "positive dope test"},
        *[{"entry_id": race.entries[n], "place": i} for i, n in enumerate(names[1:], start=1)],
    ]
    refused = await submit(client, race, official, starters)
    assert refused.status_code == 422
    assert refused.json()["code"] == "reason_required"
    assert refused.json()["errors"][0]["field"] == "reason"
    response = await submit(
        client, race, official, starters, reason="winner disqualified: positive test"
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "amended"
    history = (await client.get(f"/api/v1/races/{race.race_id}/results/history")).json()
    assert [v["status"] for v in history["items"]] == ["provisional", "official", "amended"]
    assert history["items"][1]["rows"][0]["horse_name"] == "马01"  # the old version is kept
    amended = history["items"][2]
    assert amended["reason"] == "winner disqualified: positive test"
    assert amended["recorded_by"] == official["user_id"]
    assert amended["recorded_by_name"]
    async with db.transaction() as session:
        rows = list(
            (
                await session.exec(
                    select(PrizeEntitlement).where(col(PrizeEntitlement.race_id) == race.race_id)
                )
            ).all()
        )
    by_id = {r.id: r for r in rows}
    clawbacks = [r for r in rows if r.kind == "clawback"]
    assert sorted(-c.gross_fen for c in clawbacks) == [3_000_000, 4_000_000, 5_000_000, 8_000_000]
    assert all(by_id[c.replaces_id].kind == "awarded" for c in clawbacks if c.replaces_id)
    moved = {str(r.entry_id): r for r in rows if r.kind == "moved_up"}
    assert race.entries["马01"] not in moved
    assert moved[race.entries["马02"]].gross_fen == 8_000_000
    assert moved[race.entries["马05"]].gross_fen == 3_000_000  # newly in the money
    assert moved[race.entries["马05"]].replaces_id is not None
    assert by_id[moved[race.entries["马02"]].replaces_id].gross_fen == 5_000_000  # type: ignore[index]
    listed = (
        await client.get(
            f"/api/v1/festivals/{race.festival_id}/prize-money",
            params={"state": "owed"},
            headers=auth(official),
        )
    ).json()
    assert sorted(i["gross_fen"] for i in listed["items"]) == [
        3_000_000,
        4_000_000,
        5_000_000,
        8_000_000,
    ]


async def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(client, make_race, official, horses=3)
    other = await make_race(horses=1)
    cases: list[tuple[list[dict[str, Any]], str, str]] = [
        (
            [
                {"entry_id": other.entries["马01"], "place": 1},
                *order(race, "马01", "马02", "马03")[1:],
            ],
            "horse_not_in_race",
            "starters.0.entry_id",
        ),
        (
            [
                {"entry_id": race.entries["马01"], "place": 1},
                {"entry_id": race.entries["马02"], "place": 1},
                {"entry_id": race.entries["马03"], "place": 3},
            ],
            "place_given_twice",
            "starters.1.place",
        ),
        (
            [
                {"entry_id": race.entries["马01"], "place": 1, "time_hundredths": 70_000},
                {"entry_id": race.entries["马02"], "place": 2, "time_hundredths": 69_000},
                {"entry_id": race.entries["马03"], "place": 3},
            ],
            "times_out_of_order",
            "starters.1.time_hundredths",
        ),
        (order(race, "马01", "马02"), "starters_missing", "starters"),
        (
            [*order(race, "马01", "马02"), {"entry_id": race.entries["马03"], "status": "dsq"}],
            "reason_required",
            "starters.2.reason",
        ),
    ]
    for starters, code, field in cases:
        response = await submit(client, race, official, starters)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == code
        assert field in [e["field"] for e in body["errors"]]
    assert await _versions(db, race) == []


async def test_only_officials_submit(
    client: Client, make_race: RaceFactory, official: dict[str, str], make_user: UserFactory
) -> None:
    race = await _ready(client, make_race, official, horses=2)
    owner = headers_of(await make_user(Role.OWNER))
    response = await submit(client, race, owner, order(race, "马01", "马02"))
    assert response.status_code == 403
    anonymous = await client.post(
        f"/api/v1/races/{race.race_id}/results", json={"starters": order(race, "马01", "马02")}
    )
    assert anonymous.status_code == 401


async def test_judges_scores_out_of_range_are_named(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await _ready(client, make_race, official, horses=2, ranked_by="judges_score")
    response = await submit(
        client,
        race,
        official,
        [
            {"entry_id": race.entries["马01"], "scores": [8.5, 9, 11]},
            {"entry_id": race.entries["马02"], "scores": [7, 7.25, 8]},
        ],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "score_out_of_range"
    assert response.json()["errors"][0]["field"] == "starters.0.scores.2"
    ok = await submit(
        client,
        race,
        official,
        [
            {"entry_id": race.entries["马01"], "scores": [8.5, 9, 9.5]},
            {"entry_id": race.entries["马02"], "scores": [7, 7.25, 8]},
        ],
    )
    assert ok.status_code == 201
    rows = ok.json()["rows"]
    assert [(r["horse_name"], r["place"], r["score"]) for r in rows] == [
        ("马01", 1, 900),
        ("马02", 2, 742),
    ]


async def test_official_is_refused_while_an_objection_is_open(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await _ready(client, make_race, official, horses=2)
    await submit(client, race, official, order(race, "马01", "马02"))
    lodged = await client.post(
        f"/api/v1/races/{race.race_id}/objections",
        json={"grounds": "马01 crossed 马02's line", "entry_id": race.entries["马01"]},
        headers=auth(official),
    )
    assert lodged.status_code == 201, lodged.text
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20), tick=True):
        refused = await client.post(
            f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "objection_open"
        late = await client.post(
            f"/api/v1/races/{race.race_id}/objections",
            json={"grounds": "too late"},
            headers=auth(official),
        )
        assert late.json()["code"] == "objection_window_closed"
        decided = await client.post(
            f"/api/v1/objections/{lodged.json()['id']}/decision",
            json={"upheld": False, "decision": "no interference"},
            headers=auth(official),
        )
        assert decided.status_code == 200
        assert decided.json()["status"] == "dismissed"
        official_now = await client.post(
            f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
        )
    assert official_now.status_code == 200, official_now.text


async def test_a_retried_submission_with_its_key_is_stored_once(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(client, make_race, official, horses=2)
    body = {"starters": order(race, "马02", "马01")}
    headers = {**auth(official), "Idempotency-Key": "finish-line-1"}
    first = await client.post(f"/api/v1/races/{race.race_id}/results", json=body, headers=headers)
    again = await client.post(f"/api/v1/races/{race.race_id}/results", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = await client.post(
        f"/api/v1/races/{race.race_id}/results",
        json={"starters": order(race, "马01", "马02")},
        headers=headers,
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(await _versions(db, race)) == 1


async def test_festival_results_show_each_race_state(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await _ready(client, make_race, official, horses=2)
    await make_race(horses=1)
    await submit(client, race, official, order(race, "马01", "马02"))
    body = (await client.get(f"/api/v1/festivals/{race.festival_id}/results")).json()
    assert sorted(r["state"] for r in body["items"]) == ["provisional", "scheduled"]
    assert body["total"] == 2
    csv = await client.get(f"/api/v1/festivals/{race.festival_id}/results/export.csv")
    assert csv.status_code == 200
    assert "马01" in csv.content.decode("utf-8-sig")
    xlsx = await client.get(f"/api/v1/festivals/{race.festival_id}/results/export.xlsx")
    assert xlsx.content[:2] == b"PK"


async def test_two_concurrent_submissions_with_one_key_store_one_version(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await _ready(client, make_race, official, horses=3)
    body = {"starters": order(race, "马01", "马02", "马03")}
    headers = {**auth(official), "Idempotency-Key": "twice-at-once"}
    url = f"/api/v1/races/{race.race_id}/results"
    first, second = await asyncio.gather(
        client.post(url, json=body, headers=headers), client.post(url, json=body, headers=headers)
    )
    assert sorted((first.status_code, second.status_code)) == [200, 201]
    assert first.json()["id"] == second.json()["id"]
    assert len(await _versions(db, race)) == 1
    sheet = await client.get(f"/api/v1/races/{race.race_id}/results/export.xlsx")
    assert sheet.status_code == 200
    assert sheet.content[:2] == b"PK"
