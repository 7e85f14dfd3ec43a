"""The draw by lot: pinned seeds, reproducible, separation, reserves, scratches."""

import itertools
import uuid

from events.db.engine import Database
from events.registration.models import Entry, EntryStatus, Race
from events.results import draw
from tests.conftest import Client
from tests.results.conftest import RaceFactory, auth
from tests.results.conftest import draw as draw_list


def test_a_pinned_seed_gives_an_exact_order() -> None:
    keys = [draw.Candidate(key=k) for k in ("a", "b", "c", "d", "e", "f")]
    order, kept = draw.draw(20270428, keys)
    assert [c.key for c in order] == ["d", "b", "f", "e", "a", "c"]
    assert kept
    # The lot is SHA-256 of "<seed>:<key>": `printf 20270428:a | sha256sum` gives the same.
    assert draw.lot(20270428, "a") == (
        "ef2efaf8c10e065ff0414042f3849c45e9d495f3bb8614a89f9c51b149cc6af6"
    )


def test_separation_keeps_one_county_apart() -> None:
    candidates = [draw.Candidate(key=str(i), group="A" if i < 3 else "B") for i in range(6)]
    order, kept = draw.draw(7, candidates, separate=True)
    groups = [c.group for c in order]
    assert kept
    assert all(a != b for a, b in itertools.pairwise(groups))
    crowded = [draw.Candidate(key=str(i), group="A" if i < 5 else "B") for i in range(6)]
    _, kept = draw.draw(7, crowded, separate=True)
    assert not kept


async def test_same_seed_same_draw_and_it_is_recorded(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await make_race(horses=8)
    first = await draw_list(client, race, official, seed=424242)
    again = await draw_list(client, race, official, seed=424242)
    assert first["seed"] == again["seed"] == 424242
    assert first["algorithm"] == "sha256-v1"
    expected = [
        c.key for c in draw.draw(424242, [draw.Candidate(key=e) for e in race.entries.values()])[0]
    ]
    assert [s["entry_id"] for s in first["starters"]] == expected
    assert [s["entry_id"] for s in again["starters"]] == expected
    assert [s["position"] for s in again["starters"]] == list(range(1, 9))
    assert [e["kind"] for e in again["history"]] == ["drawn", "redrawn"]
    other = await draw_list(client, race, official, seed=1)
    assert [s["entry_id"] for s in other["starters"]] != expected


async def test_no_seed_draws_one_and_returns_it(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await make_race(horses=3)
    body = await draw_list(client, race, official)
    assert isinstance(body["seed"], int)


async def test_published_list_is_public_and_cannot_be_redrawn(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await make_race(horses=4)
    await draw_list(client, race, official, seed=5)
    hidden = await client.get(f"/api/v1/races/{race.race_id}/start-list")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "start_list_not_published"
    published = await client.post(
        f"/api/v1/races/{race.race_id}/start-list/publish", headers=auth(official)
    )
    assert published.status_code == 200
    public = await client.get(f"/api/v1/races/{race.race_id}/start-list")
    assert public.status_code == 200
    assert public.json()["seed"] == 5
    again = await client.post(
        f"/api/v1/races/{race.race_id}/draw", json={"seed": 6}, headers=auth(official)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "start_list_published"


async def test_owners_cannot_draw(
    client: Client, make_race: RaceFactory, make_user: object
) -> None:
    race = await make_race(horses=2)
    from events.access.models import Role
    from tests.conftest import headers_of

    owner = headers_of(await make_user(Role.OWNER))  # type: ignore[operator]
    response = await client.post(f"/api/v1/races/{race.race_id}/draw", json={}, headers=owner)
    assert response.status_code == 403


async def test_over_subscribed_race_has_reserves_and_a_scratch_moves_one_up(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await make_race(horses=5)
    body = await draw_list(client, race, official, seed=99, max_starters=3)
    assert len(body["starters"]) == 3
    assert len(body["reserves"]) == 2
    await client.post(f"/api/v1/races/{race.race_id}/start-list/publish", headers=auth(official))
    scratched = body["starters"][1]
    first_reserve = body["reserves"][0]
    response = await client.post(
        f"/api/v1/races/{race.race_id}/start-list/scratch",
        json={"entry_id": scratched["entry_id"], "reason": "lame at the vet check"},
        headers=auth(official),
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert [s["entry_id"] for s in after["scratched"]] == [scratched["entry_id"]]
    assert after["scratched"][0]["scratch_reason"] == "lame at the vet check"
    moved = next(s for s in after["starters"] if s["entry_id"] == first_reserve["entry_id"])
    assert moved["position"] == 2
    kinds = [e["kind"] for e in after["history"]]
    assert kinds[-2:] == ["scratched", "moved_up"]
    assert "amendment" in after["history"][-2]["detail"]
    missing = await client.post(
        f"/api/v1/races/{race.race_id}/start-list/scratch",
        json={"entry_id": scratched["entry_id"], "reason": "again"},
        headers=auth(official),
    )
    assert missing.status_code == 422
    assert missing.json()["code"] == "horse_not_in_race"


async def test_a_scratch_moves_the_waiting_list_up_into_the_vacated_position(
    client: Client, make_race: RaceFactory, official: dict[str, str], db: Database
) -> None:
    race = await make_race(horses=3)
    waiting = race.entries["马03"]
    async with db.transaction() as session:
        entry = await session.get_one(Entry, uuid.UUID(waiting))
        entry.status, entry.waitlist_position = EntryStatus.WAITING, 1
        session.add(entry)
        found = await session.get_one(Race, uuid.UUID(race.race_id))
        found.entered, found.field_size, found.waitlist_seq = 2, 2, 1
        session.add(found)
    body = await draw_list(client, race, official, seed=12)
    assert len(body["starters"]) == 2
    leaving = body["starters"][0]
    response = await client.post(
        f"/api/v1/races/{race.race_id}/start-list/scratch",
        json={"entry_id": leaving["entry_id"], "reason": "vet"},
        headers=auth(official),
    )
    assert response.status_code == 200, response.text
    after = response.json()
    moved = next(s for s in after["starters"] if s["entry_id"] == waiting)
    assert moved["position"] == leaving["position"]
    async with db.transaction() as session:
        scratched = await session.get_one(Entry, uuid.UUID(leaving["entry_id"]))
        promoted = await session.get_one(Entry, uuid.UUID(waiting))
        assert (scratched.status, promoted.status) == ("scratched", "confirmed")
