"""Helpers for the awards tests: categories and awards made through the API, row counts."""

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from events.awards.models import Award, AwardCategory, AwardPayeeShare
from events.db.engine import Database
from tests.conftest import Client

LONG_RACE: dict[str, Any] = {
    "code": "long-10k",
    "name_zh": "马长跑 10公里",
    "name_en": "Long race 10 km",
    "ranked_by": "finish_order",
}


def base(festival: dict[str, Any]) -> str:
    return f"/api/v1/festivals/{festival['id']}"


async def count(
    db: Database, model: type[Award] | type[AwardCategory] | type[AwardPayeeShare]
) -> int:
    async with db.session_factory() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def stored_counts(db: Database) -> tuple[int, int, int]:
    """(categories, awards, payee shares) in the database."""
    return (
        await count(db, AwardCategory),
        await count(db, Award),
        await count(db, AwardPayeeShare),
    )


@pytest.fixture
async def category(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(
        f"{base(festival)}/award-categories", json=LONG_RACE, headers=organiser
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_places(
    client: Client,
    festival: dict[str, Any],
    category: dict[str, Any],
    organiser: dict[str, str],
    prizes_fen: list[int],
) -> list[dict[str, Any]]:
    """Places 1..N of ``category`` with these prizes, through the API."""
    created = []
    for place, prize in enumerate(prizes_fen, start=1):
        response = await client.post(
            f"{base(festival)}/awards",
            headers=organiser,
            json={"category_id": category["id"], "place": place, "prize_fen": prize},
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created
