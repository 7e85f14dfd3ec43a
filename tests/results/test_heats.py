"""Heats feed a final: top N of each heat, ties at the cut by the declared rule."""

from typing import Any

from tests.conftest import Client
from tests.results.conftest import RaceFactory, RaceSetup, auth, draw, submit


async def _run(
    client: Client, race: RaceSetup, official: dict[str, str], starters: list[dict[str, Any]]
) -> RaceSetup:
    """Draw, enter and declare official (prize lists lock at the first official race, so
    every race of a test is made first)."""
    await draw(client, race, official, seed=11)
    for s in starters:
        s["entry_id"] = race.entries[s.pop("horse")]
    assert (await submit(client, race, official, starters)).status_code == 201
    response = await client.post(
        f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
    )
    assert response.status_code == 200, response.text
    return race


async def test_the_top_two_of_each_heat_make_the_final_tie_settled_by_lot(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    heat_a = await make_race(names=["A1", "A2", "A3"], objection_minutes=0)
    heat_b = await make_race(names=["B1", "B2", "B3"], objection_minutes=0)
    final = await make_race(names=[])
    await _run(
        client,
        heat_a,
        official,
        [{"horse": "A1", "place": 1}, {"horse": "A2", "place": 2}, {"horse": "A3", "place": 3}],
    )
    await _run(
        client,
        heat_b,
        official,
        [
            {"horse": "B1", "place": 1, "time_hundredths": 60_000},
            {"horse": "B2", "place": 2, "dead_heat": True, "time_hundredths": 61_000},
            {"horse": "B3", "place": 2, "dead_heat": True, "time_hundredths": 61_000},
        ],
    )
    setup = await client.put(
        f"/api/v1/races/{final.race_id}/heats",
        json={
            "heat_race_ids": [heat_a.race_id, heat_b.race_id],
            "advance_per_heat": 2,
            "tie_rule": "lot",
        },
        headers=auth(official),
    )
    assert setup.status_code == 200, setup.text
    body = await draw(client, final, official, seed=2027)
    horses = sorted(s["horse_name"] for s in body["starters"])
    assert body["from_heats"] is True
    assert len(horses) == 4
    assert horses[:3] == ["A1", "A2", "B1"]
    assert horses[3] in ("B2", "B3")  # one of the tied pair, by lot with seed 2027
    again = await draw(client, final, official, seed=2027)
    assert sorted(s["horse_name"] for s in again["starters"]) == horses


async def test_a_final_waits_for_official_heats(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    heat = await make_race(names=["H1", "H2"])
    await draw(client, heat, official, seed=1)
    final = await make_race(names=[])
    await client.put(
        f"/api/v1/races/{final.race_id}/heats",
        json={"heat_race_ids": [heat.race_id], "advance_per_heat": 1},
        headers=auth(official),
    )
    response = await client.post(
        f"/api/v1/races/{final.race_id}/draw", json={}, headers=auth(official)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "heats_not_official"


async def test_the_final_is_run_on_the_heat_entries(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    heat = await make_race(names=["H1", "H2", "H3"], objection_minutes=0)
    final = await make_race(names=[], objection_minutes=0)
    await _run(
        client,
        heat,
        official,
        [{"horse": "H1", "place": 1}, {"horse": "H2", "place": 2}, {"horse": "H3", "place": 3}],
    )
    await client.put(
        f"/api/v1/races/{final.race_id}/heats",
        json={"heat_race_ids": [heat.race_id], "advance_per_heat": 2, "tie_rule": "all"},
        headers=auth(official),
    )
    body = await draw(client, final, official, seed=5)
    entries = {s["horse_name"]: s["entry_id"] for s in body["starters"]}
    response = await submit(
        client,
        final,
        official,
        [{"entry_id": entries["H2"], "place": 1}, {"entry_id": entries["H1"], "place": 2}],
    )
    assert response.status_code == 201, response.text
    official_final = await client.post(
        f"/api/v1/races/{final.race_id}/official", json={}, headers=auth(official)
    )
    assert [(r["horse_name"], r["prize_fen"]) for r in official_final.json()["rows"]] == [
        ("H2", 8_000_000),
        ("H1", 5_000_000),
    ]


async def test_a_tie_at_the_cut_is_settled_by_time(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    heat = await make_race(names=["T1", "T2", "T3"], objection_minutes=0)
    final = await make_race(names=[])
    await _run(
        client,
        heat,
        official,
        [
            {"horse": "T1", "place": 1, "time_hundredths": 50_000},
            {"horse": "T2", "place": 2, "dead_heat": True, "time_hundredths": 51_000},
            {"horse": "T3", "place": 2, "dead_heat": True, "time_hundredths": 50_900},
        ],
    )
    await client.put(
        f"/api/v1/races/{final.race_id}/heats",
        json={"heat_race_ids": [heat.race_id], "advance_per_heat": 2, "tie_rule": "time"},
        headers=auth(official),
    )
    body = await draw(client, final, official, seed=1)
    assert sorted(s["horse_name"] for s in body["starters"]) == ["T1", "T3"]
