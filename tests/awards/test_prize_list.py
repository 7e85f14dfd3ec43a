"""The prize list as a whole: publish, lock (no edits, 409 prize_list_locked), withholding."""

import uuid
from typing import Any

from sqlmodel import select

from events.awards.models import Award, AwardCategory, PrizeList
from events.awards.prize_list import lock_for_official_results
from events.db.engine import Database
from tests.awards.conftest import LONG_RACE, add_places, base, count, stored_counts
from tests.conftest import Client


async def stored_prize_list(db: Database) -> PrizeList:
    async with db.session_factory() as session:
        return (await session.exec(select(PrizeList))).one()


async def lock(client: Client, festival: dict[str, Any], organiser: dict[str, str]) -> None:
    response = await client.post(f"{base(festival)}/awards/lock", headers=organiser)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "locked"


async def test_settings_read_as_a_draft_without_withholding_before_any_change(
    client: Client, festival: dict[str, Any]
) -> None:
    response = await client.get(f"{base(festival)}/awards/settings")
    assert response.status_code == 200
    body = response.json()
    assert (
        body["status"],
        body["withholding_enabled"],
        body["withholding_rate_bp"],
        body["withholding_threshold_fen"],
    ) == ("draft", False, 2000, 1_000_000)


async def test_the_withholding_rule_is_configurable(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await client.patch(
        f"{base(festival)}/awards/settings",
        headers=organiser,
        json={
            "withholding_enabled": True,
            "withholding_rate_bp": 1000,
            "withholding_threshold_fen": 500_000,
        },
    )
    assert response.status_code == 200, response.text
    row = await stored_prize_list(db)
    assert (row.withholding_enabled, row.withholding_rate_bp, row.withholding_threshold_fen) == (
        True,
        1000,
        500_000,
    )


async def test_a_rate_above_100_percent_is_refused(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    response = await client.patch(
        f"{base(festival)}/awards/settings", headers=organiser, json={"withholding_rate_bp": 10_001}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "withholding_rate_bp"


async def test_publishing_an_empty_prize_list_is_refused(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    response = await client.post(f"{base(festival)}/awards/publish", headers=organiser)
    assert response.status_code == 409
    assert response.json()["code"] == "prize_list_empty"


async def test_a_published_prize_list_stays_editable(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00])
    published = await client.post(f"{base(festival)}/awards/publish", headers=organiser)
    assert published.status_code == 200
    assert published.json()["published_at"] is not None
    await add_places(client, festival, category, organiser, [])
    added = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 2, "prize_fen": 50_000_00},
    )
    assert added.status_code == 201
    assert (await stored_prize_list(db)).status == "published"


async def test_a_locked_prize_list_refuses_a_new_award(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await lock(client, festival, organiser)
    response = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "prize_fen": 80_000_00},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "prize_list_locked"
    assert await count(db, Award) == 0


async def test_a_locked_prize_list_refuses_edits_and_deletes(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    [award] = await add_places(client, festival, category, organiser, [80_000_00])
    await lock(client, festival, organiser)
    responses = [
        await client.patch(
            f"{base(festival)}/awards/{award['id']}", headers=organiser, json={"prize_fen": 1}
        ),
        await client.delete(f"{base(festival)}/awards/{award['id']}", headers=organiser),
        await client.patch(
            f"{base(festival)}/award-categories/{category['id']}",
            headers=organiser,
            json={"name_en": "Renamed"},
        ),
        await client.post(
            f"{base(festival)}/award-categories",
            headers=organiser,
            json={**LONG_RACE, "code": "new"},
        ),
        await client.patch(
            f"{base(festival)}/awards/settings",
            headers=organiser,
            json={"withholding_enabled": True},
        ),
    ]
    assert [r.status_code for r in responses] == [409] * 5
    assert {r.json()["code"] for r in responses} == {"prize_list_locked"}
    async with db.session_factory() as session:
        stored = (await session.exec(select(Award))).one()
        names = (await session.exec(select(AwardCategory.name_en))).all()
    assert stored.prize_fen == 80_000_00
    assert list(names) == [LONG_RACE["name_en"]]


async def test_a_locked_prize_list_refuses_an_import_and_stores_nothing(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await lock(client, festival, organiser)
    response = await client.post(
        f"{base(festival)}/awards/import",
        content=b"category,place,prize_yuan\nlong-10k,1,80000\n",
        headers={**organiser, "Content-Type": "text/csv"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "prize_list_locked"
    assert await stored_counts(db) == (1, 0, 0)


async def test_the_organiser_can_unlock_their_own_lock(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await lock(client, festival, organiser)
    unlocked = await client.post(f"{base(festival)}/awards/unlock", headers=organiser)
    assert unlocked.status_code == 200
    assert unlocked.json()["status"] == "draft"
    added = await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 1, "prize_fen": 80_000_00},
    )
    assert added.status_code == 201


async def test_once_results_are_official_the_prize_list_cannot_be_unlocked(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    async with db.transaction() as session:
        await lock_for_official_results(session, uuid.UUID(festival["id"]))
    settings = (await client.get(f"{base(festival)}/awards/settings")).json()
    assert (settings["status"], settings["lock_reason"]) == ("locked", "results_official")
    response = await client.post(f"{base(festival)}/awards/unlock", headers=organiser)
    assert response.status_code == 409
    assert response.json()["code"] == "prize_list_locked"
    assert (await stored_prize_list(db)).status == "locked"


async def test_only_organisers_lock(client: Client, festival: dict[str, Any]) -> None:
    response = await client.post(f"{base(festival)}/awards/lock")
    assert response.status_code == 401
