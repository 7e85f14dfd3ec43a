"""Points across races (the horse king) and the results-changed hook for live results."""

import uuid

from events.db.engine import Database
from events.registration.models import Entry, EntryStatus
from events.results import notifications
from tests.conftest import Client
from tests.results.conftest import RaceFactory, auth, draw, order, submit


async def test_points_add_up_over_official_races_only(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    first = await make_race(names=["甲", "乙", "丙"], objection_minutes=0)
    second = await make_race(names=[], objection_minutes=0)
    third = await make_race(names=[], objection_minutes=0)
    # The same three horses run again: new entries of the same horses.
    async with db.transaction() as session:
        for race in (second, third):
            for name, entry_id in first.entries.items():
                entry = await session.get_one(Entry, uuid.UUID(entry_id))
                copy = Entry(
                    festival_id=entry.festival_id,
                    race_id=uuid.UUID(race.race_id),
                    horse_id=entry.horse_id,
                    rider_id=entry.rider_id,
                    owner_id=entry.owner_id,
                    status=EntryStatus.CONFIRMED,
                    province=entry.province,
                    county=entry.county,
                    currency="CNY",
                    registration_fee=0,
                    start_fee=0,
                    fee_due=0,
                )
                session.add(copy)
                await session.flush()
                race.entries[name] = str(copy.id)
    for race in (first, second, third):
        await draw(client, race, official, seed=4)
    await submit(client, first, official, order(first, "甲", "乙", "丙"))
    await submit(
        client,
        second,
        official,
        [
            {"entry_id": second.entries["乙"], "place": 1},
            {"entry_id": second.entries["甲"], "place": 2, "dead_heat": True},
            {"entry_id": second.entries["丙"], "place": 2, "dead_heat": True},
        ],
    )
    await submit(client, third, official, order(third, "丙", "乙", "甲"))  # stays provisional
    for race in (first, second):
        response = await client.post(
            f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
        )
        assert response.status_code == 200, response.text
    body = (
        await client.get(
            f"/api/v1/festivals/{first.festival_id}/points", params={"points": "10,8,6"}
        )
    ).json()
    got = [(i["place"], i["horse_name"], i["points"], i["races"]) for i in body["items"]]
    # 甲 10 + (8+6)//2 = 17; 乙 8 + 10 = 18; 丙 6 + 7 = 13
    assert got == [(1, "乙", 18, 2), (2, "甲", 17, 2), (3, "丙", 13, 2)]
    bad = await client.get(
        f"/api/v1/festivals/{first.festival_id}/points", params={"points": "10,x"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "points"


async def test_listeners_hear_of_each_change_after_commit_only(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    heard: list[tuple[uuid.UUID, uuid.UUID, str]] = []

    def listener(festival_id: uuid.UUID, race_id: uuid.UUID, kind: str) -> None:
        heard.append((festival_id, race_id, kind))

    notifications.register_results_listener(listener)
    try:
        race = await make_race(horses=2)
        await draw(client, race, official, seed=1)
        refused = await submit(client, race, official, order(race, "马01"))
        assert refused.status_code == 422
        await submit(client, race, official, order(race, "马01", "马02"))
    finally:
        notifications.unregister_results_listener(listener)
    assert [kind for _, _, kind in heard] == ["start_list", "provisional"]
    assert {str(r) for _, r, _ in heard} == {race.race_id}
    assert {str(f) for f, _, _ in heard} == {race.festival_id}
