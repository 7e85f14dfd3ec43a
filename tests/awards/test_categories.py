"""Award categories: organisers create and edit them, anyone reads them."""

from typing import Any

from sqlmodel import select

from events.access.models import Role
from events.awards.models import Award, AwardCategory
from events.db.engine import Database
from tests.awards.conftest import LONG_RACE, add_places, base, count
from tests.conftest import Client, UserFactory, headers_of


async def test_an_organiser_creates_a_category_with_sponsor_naming(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    body = {**LONG_RACE, "sponsor_label_zh": "某某杯", "sponsor_label_en": "XX Cup"}
    response = await client.post(f"{base(festival)}/award-categories", json=body, headers=organiser)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["display_order"] == 1
    assert created["awards"] == 0
    async with db.session_factory() as session:
        stored = (await session.exec(select(AwardCategory))).one()
    assert (stored.code, stored.ranked_by, stored.sponsor_label_en) == (
        "long-10k",
        "finish_order",
        "XX Cup",
    )


async def test_categories_are_listed_publicly_in_display_order(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    for code, order in (("yak", 9), ("long", 1), ("khata", 7)):
        response = await client.post(
            f"{base(festival)}/award-categories",
            headers=organiser,
            json={**LONG_RACE, "code": code, "display_order": order},
        )
        assert response.status_code == 201
    listing = await client.get(f"{base(festival)}/award-categories")
    assert listing.status_code == 200
    assert [c["code"] for c in listing.json()["items"]] == ["long", "khata", "yak"]
    assert listing.json()["total"] == 3


async def test_a_new_category_goes_after_the_last_one(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    response = await client.post(
        f"{base(festival)}/award-categories",
        headers=organiser,
        json={**LONG_RACE, "code": "mid-5k"},
    )
    assert response.json()["display_order"] == category["display_order"] + 1


async def test_a_taken_code_is_409(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await client.post(
        f"{base(festival)}/award-categories", json=LONG_RACE, headers=organiser
    )
    assert response.status_code == 409
    assert response.json()["code"] == "category_code_taken"
    assert await count(db, AwardCategory) == 1


async def test_every_bad_field_is_named(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await client.post(
        f"{base(festival)}/award-categories",
        headers=organiser,
        json={
            "code": "long race!",
            "name_zh": "长" * 201,
            "name_en": "Long",
            "ranked_by": "fastest",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert {e["field"] for e in response.json()["errors"]} == {"code", "name_zh", "ranked_by"}
    assert await count(db, AwardCategory) == 0


async def test_only_organisers_create_categories(
    client: Client, festival: dict[str, Any], make_user: UserFactory, db: Database
) -> None:
    anonymous = await client.post(f"{base(festival)}/award-categories", json=LONG_RACE)
    owner = headers_of(await make_user(Role.OWNER))
    as_owner = await client.post(
        f"{base(festival)}/award-categories", json=LONG_RACE, headers=owner
    )
    assert (anonymous.status_code, as_owner.status_code) == (401, 403)
    assert await count(db, AwardCategory) == 0


async def test_a_category_of_an_unknown_festival_is_404(
    client: Client, organiser: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/festivals/not-a-uuid/award-categories", json=LONG_RACE, headers=organiser
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_editing_a_category_changes_only_the_fields_sent(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    url = f"{base(festival)}/award-categories/{category['id']}"
    response = await client.patch(
        url,
        headers=organiser,
        json={"name_en": "Long race", "ranked_by": "time", "sponsor_label_en": "XX Cup"},
    )
    assert response.status_code == 200, response.text
    cleared = await client.patch(url, headers=organiser, json={"sponsor_label_en": None})
    assert cleared.status_code == 200
    async with db.session_factory() as session:
        stored = (await session.exec(select(AwardCategory))).one()
    assert (stored.name_en, stored.name_zh, stored.ranked_by, stored.sponsor_label_en) == (
        "Long race",
        LONG_RACE["name_zh"],
        "time",
        None,
    )


async def test_deleting_a_category_with_awards_needs_with_awards(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00, 50_000_00])
    url = f"{base(festival)}/award-categories/{category['id']}"
    refused = await client.delete(url, headers=organiser)
    assert refused.status_code == 409
    assert refused.json()["code"] == "category_has_awards"
    assert await count(db, Award) == 2
    deleted = await client.delete(url, params={"with_awards": "true"}, headers=organiser)
    assert deleted.status_code == 204
    assert (await count(db, AwardCategory), await count(db, Award)) == (0, 0)


async def test_a_category_reads_its_award_count_and_total(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00, 50_000_00])
    response = await client.get(f"{base(festival)}/award-categories/{category['id']}")
    assert response.status_code == 200
    assert (response.json()["awards"], response.json()["total_prize"]) == (2, 130_000_00)
