"""The allocation route: a category's stored table and a posted ranking give the prizes."""

from typing import Any

from events.access.models import Role
from tests.awards.conftest import add_places, base
from tests.conftest import Client, UserFactory, headers_of

YOUTH = [20_000_00, 15_000_00, 10_000_00, 8_000_00, 5_000_00, 3_000_00, *[2_000_00] * 4]


async def test_an_official_gets_each_starters_prize_with_the_remainder_reported(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    make_user: UserFactory,
) -> None:
    await add_places(client, festival, category, organiser, YOUTH)
    official = headers_of(await make_user(Role.OFFICIAL))
    starters = [
        {"starter_id": f"s{i}", "position": p} for i, p in enumerate([1, 2, 3, 4, 4, 4, 7], start=1)
    ]
    starters.append({"starter_id": "dq", "status": "dsq", "position": 1})
    response = await client.post(
        f"{base(festival)}/award-categories/{category['id']}/allocation",
        json={"starters": starters},
        headers=official,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    prizes = {s["starter_id"]: s["prize_fen"] for s in body["starters"]}
    assert prizes == {
        "s1": 20_000_00,
        "s2": 15_000_00,
        "s3": 10_000_00,
        "s4": 533_333,
        "s5": 533_333,
        "s6": 533_333,
        "s7": 2_000_00,
        "dq": 0,
    }
    assert body["undistributed_fen"] == 1
    assert body["unawarded_places"] == [8, 9, 10]
    assert (
        body["awarded_fen"] + body["undistributed_fen"] + body["unawarded_fen"]
        == body["table_total_fen"]
        == sum(YOUTH)
    )
    assert "floor" in body["remainder_rule"]


async def test_withholding_is_shown_per_starter_when_on(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await add_places(client, festival, category, organiser, YOUTH)
    await client.patch(
        f"{base(festival)}/awards/settings", headers=organiser, json={"withholding_enabled": True}
    )
    response = await client.post(
        f"{base(festival)}/award-categories/{category['id']}/allocation",
        headers=organiser,
        json={
            "starters": [
                {"starter_id": "a", "position": 1},
                {"starter_id": "b", "position": 2, "status": "finished"},
                {"starter_id": "c", "position": 3},
            ]
        },
    )
    rows = {s["starter_id"]: (s["withheld_fen"], s["net_fen"]) for s in response.json()["starters"]}
    assert rows == {
        "a": (4_000_00, 16_000_00),
        "b": (3_000_00, 12_000_00),
        "c": (2_000_00, 8_000_00),
    }


async def test_a_finished_starter_without_a_position_is_a_field_error(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await add_places(client, festival, category, organiser, YOUTH)
    response = await client.post(
        f"{base(festival)}/award-categories/{category['id']}/allocation",
        headers=organiser,
        json={"starters": [{"starter_id": "a"}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "starters.0.position"


async def test_owners_cannot_run_an_allocation(
    client: Client, festival: dict[str, Any], category: dict[str, Any], make_user: UserFactory
) -> None:
    owner = headers_of(await make_user(Role.OWNER))
    response = await client.post(
        f"{base(festival)}/award-categories/{category['id']}/allocation",
        headers=owner,
        json={"starters": [{"starter_id": "a", "position": 1}]},
    )
    assert response.status_code == 403
