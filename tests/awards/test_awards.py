"""Awards one at a time: places stay unique and contiguous, amounts positive, splits sound."""

import asyncio
from typing import Any

from sqlmodel import col, select

from events.awards.models import Award, AwardPayeeShare
from events.db.engine import Database
from tests.awards.conftest import add_places, base, count
from tests.conftest import Client


async def places_stored(db: Database) -> list[tuple[int | None, int]]:
    async with db.session_factory() as session:
        awards = (await session.exec(select(Award).order_by(col(Award.place)))).all()
    return [(a.place, a.prize_fen) for a in awards]


async def test_an_award_for_a_place_is_stored_in_fen_with_the_festival_currency(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "prize_fen": 80_000_00},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["place"], body["prize_fen"], body["currency"], body["category_code"]) == (
        1,
        80_000_00,
        "CNY",
        "long-10k",
    )
    assert await places_stored(db) == [(1, 80_000_00)]


async def test_a_champion_prize_can_be_split_with_the_rider(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={
            "category_id": category["id"],
            "place": 1,
            "prize_fen": 150_000_00,
            "payee_shares": [{"payee": "rider", "amount_fen": 20_000_00}],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["owner_share_fen"] == 130_000_00
    async with db.session_factory() as session:
        share = (await session.exec(select(AwardPayeeShare))).one()
    assert (share.payee, share.amount_fen) == ("rider", 20_000_00)


async def test_shares_above_the_prize_are_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={
            "category_id": category["id"],
            "place": 1,
            "prize_fen": 10_000_00,
            "payee_shares": [
                {"payee": "rider", "amount_fen": 6_000_00},
                {"payee": "trainer", "amount_fen": 5_000_00},
            ],
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["payee_shares"]
    assert await count(db, Award) == 0


async def test_a_prize_in_kind_counts_with_its_declared_value(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={
            "category_id": category["id"],
            "place": 1,
            "prize_fen": 50_000_00,
            "in_kind_zh": "马鞍一副",
            "in_kind_en": "A saddle",
            "in_kind_value_fen": 3_000_00,
        },
    )
    assert response.status_code == 201
    assert response.json()["value_fen"] == 53_000_00


async def test_a_prize_in_kind_needs_a_declared_value(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "in_kind_zh": "马鞍一副"},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"prize_fen", "in_kind_value_fen"}


async def test_negative_and_fractional_amounts_are_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={
            "category_id": category["id"],
            "place": 1,
            "prize_fen": -100,
            "in_kind_value_fen": 12.5,
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"prize_fen", "in_kind_value_fen"}
    assert await count(db, Award) == 0


async def test_a_zero_prize_is_refused(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "prize_fen": 0},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prize_fen"


async def test_a_taken_place_is_409(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00])
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "prize_fen": 1_000_00},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "place_taken"
    assert await places_stored(db) == [(1, 80_000_00)]


async def test_a_place_after_a_gap_is_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00])
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 3, "prize_fen": 1_000_00},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "place"
    assert "next place" in response.json()["errors"][0]["message"]
    assert await count(db, Award) == 1


async def test_a_special_award_has_a_name_and_no_place(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    url = f"{base(festival)}/awards"
    nameless = await client.post(
        url, headers=organiser, json={"category_id": category["id"], "prize_fen": 3_000_00}
    )
    assert nameless.status_code == 422
    assert nameless.json()["errors"][0]["field"] == "name_zh"
    named = await client.post(
        url,
        headers=organiser,
        json={
            "category_id": category["id"],
            "prize_fen": 3_000_00,
            "name_zh": "最佳装扮马匹奖",
            "name_en": "Best turned-out horse",
            "ranked_by": "judges_score",
        },
    )
    assert named.status_code == 201
    assert (named.json()["place"], named.json()["ranked_by"]) == (None, "judges_score")


async def test_an_unknown_category_is_a_field_error(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": "00000000-0000-0000-0000-000000000000", "place": 1, "prize_fen": 100},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "category_id"


async def test_editing_an_award_changes_its_prize_and_replaces_its_split(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    [award] = await add_places(client, festival, category, organiser, [80_000_00])
    url = f"{base(festival)}/awards/{award['id']}"
    first = await client.patch(
        url, headers=organiser, json={"payee_shares": [{"payee": "rider", "amount_fen": 10_000_00}]}
    )
    assert first.status_code == 200, first.text
    second = await client.patch(
        url,
        headers=organiser,
        json={"prize_fen": 100_000_00, "payee_shares": [{"payee": "trainer", "amount_fen": 5_00}]},
    )
    assert second.status_code == 200
    assert second.json()["owner_share_fen"] == 100_000_00 - 5_00
    assert await places_stored(db) == [(1, 100_000_00)]
    async with db.session_factory() as session:
        shares = (await session.exec(select(AwardPayeeShare))).all()
    assert [(s.payee, s.amount_fen) for s in shares] == [("trainer", 5_00)]


async def test_lowering_a_prize_below_its_shares_is_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    [award] = await add_places(client, festival, category, organiser, [80_000_00])
    url = f"{base(festival)}/awards/{award['id']}"
    await client.patch(
        url, headers=organiser, json={"payee_shares": [{"payee": "rider", "amount_fen": 10_000_00}]}
    )
    response = await client.patch(url, headers=organiser, json={"prize_fen": 5_000_00})
    assert response.status_code == 422
    assert await places_stored(db) == [(1, 80_000_00)]


async def test_deleting_a_place_moves_the_later_places_up(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    awards = await add_places(
        client, festival, category, organiser, [80_000_00, 50_000_00, 40_000_00, 30_000_00]
    )
    response = await client.delete(f"{base(festival)}/awards/{awards[1]['id']}", headers=organiser)
    assert response.status_code == 204
    assert await places_stored(db) == [(1, 80_000_00), (2, 40_000_00), (3, 30_000_00)]


async def test_awards_are_listed_by_category_then_place(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00, 50_000_00, 40_000_00])
    response = await client.get(
        f"{base(festival)}/awards", params={"category_id": category["id"], "limit": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert ([a["place"] for a in body["items"]], body["total"]) == ([1, 2], 3)


async def test_an_award_of_another_festival_is_404(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    [award] = await add_places(client, festival, category, organiser, [80_000_00])
    other = await client.post(
        "/api/v1/festivals",
        headers=organiser,
        json={"slug": "other", "name_zh": "另一个", "name_en": "Other"},
    )
    response = await client.get(f"/api/v1/festivals/{other.json()['id']}/awards/{award['id']}")
    assert response.status_code == 404


async def test_two_requests_for_the_same_place_at_once_store_one_award(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    async def claim(prize: int) -> int:
        response = await client.post(
            f"{base(festival)}/awards",
            headers=organiser,
            json={"category_id": category["id"], "place": 1, "prize_fen": prize},
        )
        return response.status_code

    statuses = await asyncio.gather(claim(80_000_00), claim(50_000_00))
    assert sorted(statuses) == [201, 409]
    assert await count(db, Award) == 1
