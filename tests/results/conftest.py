"""Results fixtures: a race of a category with a prize table and confirmed entries.

The category, prize table and race are made through the API; the entries (confirmed,
fee paid) straight in the database, as registration's own tests arrange many."""

import datetime as dt
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from events.access.models import Role
from events.db.engine import Database
from events.registration.models import Entry, EntryStatus, Horse, HorseSex, Owner, Rider
from tests.conftest import Client, UserFactory, headers_of

_n = itertools.count(1)


@dataclass
class RaceSetup:
    race_id: str
    festival_id: str
    category_id: str
    entries: dict[str, str] = field(default_factory=dict)
    """Horse name → entry id."""
    owners: dict[str, str] = field(default_factory=dict)
    """Horse name → owner id."""


RaceFactory = Callable[..., Awaitable[RaceSetup]]


@pytest.fixture
async def official(make_user: UserFactory) -> dict[str, str]:
    user = await make_user(Role.OFFICIAL)
    return {**headers_of(user), "user_id": user["user_id"]}


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


async def add_entries(
    db: Database,
    festival_id: str,
    race_id: str,
    names: list[str],
    counties: list[str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    entries, owners = {}, {}
    async with db.transaction() as session:
        for i, name in enumerate(names):
            n = next(_n)
            county = counties[i] if counties else f"县{n}"
            owner = Owner(
                name=f"马主{n}",
                mobile=f"138{uuid.uuid4().int % 10**8:08d}",
                province="XZ",
                county=county,
            )
            session.add(owner)
            await session.flush()
            rider = Rider(owner_id=owner.id, name=f"骑手{n}", birth_date=dt.date(1995, 1, 1))
            horse = Horse(
                owner_id=owner.id,
                name_zh=name,
                sex=HorseSex.GELDING,
                birth_year=2018,
                height_cm=135,
                origin_province="XZ",
            )
            session.add_all([rider, horse])
            await session.flush()
            entry = Entry(
                festival_id=uuid.UUID(festival_id),
                race_id=uuid.UUID(race_id),
                horse_id=horse.id,
                rider_id=rider.id,
                owner_id=owner.id,
                status=EntryStatus.CONFIRMED,
                province="XZ",
                county=county,
                currency="CNY",
                registration_fee=0,
                start_fee=0,
                fee_due=0,
            )
            session.add(entry)
            await session.flush()
            entries[name], owners[name] = str(entry.id), str(owner.id)
    return entries, owners


@pytest.fixture
def make_race(
    client: Client, organiser: dict[str, str], festival: dict[str, Any], db: Database
) -> RaceFactory:
    async def make(
        *,
        ranked_by: str = "finish_order",
        prizes: tuple[int, ...] = (8_000_000, 5_000_000, 4_000_000, 3_000_000),
        horses: int = 6,
        names: list[str] | None = None,
        objection_minutes: int | None = None,
        rider_share: int | None = None,
        counties: list[str] | None = None,
    ) -> RaceSetup:
        fid = festival["id"]
        code = f"c{next(_n)}"
        response = await client.post(
            f"/api/v1/festivals/{fid}/award-categories",
            json={
                "code": code,
                "name_zh": "马长跑",
                "name_en": "Long race",
                "ranked_by": ranked_by,
            },
            headers=organiser,
        )
        assert response.status_code == 201, response.text
        category_id = response.json()["id"]
        for place, prize in enumerate(prizes, start=1):
            body: dict[str, Any] = {"category_id": category_id, "place": place, "prize_fen": prize}
            if rider_share and place == 1:
                body["payee_shares"] = [{"payee": "rider", "amount_fen": rider_share}]
            response = await client.post(
                f"/api/v1/festivals/{fid}/awards", json=body, headers=organiser
            )
            assert response.status_code == 201, response.text
        if objection_minutes is not None:
            response = await client.put(
                f"/api/v1/festivals/{fid}/award-categories/{category_id}/results-rules",
                json={"objection_minutes": objection_minutes},
                headers=organiser,
            )
            assert response.status_code == 200, response.text
        now = dt.datetime.now(dt.UTC)
        response = await client.post(
            f"/api/v1/festivals/{fid}/races",
            json={
                "day_id": festival["meetings"][0]["days"][0]["id"],
                "code": code,
                "name_zh": "马长跑",
                "name_en": "Long race",
                "distance_m": 10_000,
                "field_size": 40,
                "award_category_id": category_id,
                "entries_open_at": (now - dt.timedelta(days=2)).isoformat(),
                "entries_close_at": (now - dt.timedelta(days=1)).isoformat(),
            },
            headers=organiser,
        )
        assert response.status_code == 201, response.text
        race_id = response.json()["id"]
        names = names if names is not None else [f"马{i:02d}" for i in range(1, horses + 1)]
        entries, owners = await add_entries(db, fid, race_id, names, counties)
        return RaceSetup(
            race_id=race_id,
            festival_id=fid,
            category_id=category_id,
            entries=entries,
            owners=owners,
        )

    return make


async def draw(
    client: Client, race: RaceSetup, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/races/{race.race_id}/draw", json=body, headers=auth(headers)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def submit(
    client: Client,
    race: RaceSetup,
    headers: dict[str, str],
    starters: list[dict[str, Any]],
    **extra: Any,
) -> Any:
    return await client.post(
        f"/api/v1/races/{race.race_id}/results",
        json={"starters": starters, **extra},
        headers=auth(headers),
    )


def order(race: RaceSetup, *names: str) -> list[dict[str, Any]]:
    """Finish order: the names in order, places 1..n."""
    return [{"entry_id": race.entries[n], "place": i} for i, n in enumerate(names, start=1)]
