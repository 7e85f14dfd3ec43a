"""Registration fixtures: races, owners with riders and horses, made through the API or,
where a test needs many, straight through the services."""

import datetime as dt
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from events.db.base import utcnow
from events.db.engine import Database
from events.registration.models import Horse, HorseSex, Owner, Rider
from tests.conftest import Client, pay_path

_numbers = itertools.count(1)


def mobile() -> str:
    """A fresh, valid mainland mobile number."""
    return f"139{next(_numbers) + 10_000_000 + uuid.uuid4().int % 80_000_000:08d}"


def chip() -> str:
    return f"{uuid.uuid4().int % 10**15:015d}"


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def race_body(day_id: str, **overrides: Any) -> dict[str, Any]:
    now = utcnow()
    body: dict[str, Any] = {
        "day_id": day_id,
        "code": f"r{next(_numbers)}",
        "name_zh": "马长跑",
        "name_en": "Long race 10 km",
        "distance_m": 10_000,
        "field_size": 10,
        "entries_open_at": iso(now - dt.timedelta(days=1)),
        "entries_close_at": iso(now + dt.timedelta(days=10)),
        "late_close_at": iso(now + dt.timedelta(days=12)),
        "registration_fee": 10_000,
        "start_fee": 20_000,
        "late_fee": 5_000,
    }
    body.update(overrides)
    return body


RaceFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_race(client: Client, organiser: dict[str, str], festival: dict[str, Any]) -> RaceFactory:
    """A race of the festival's first day, created through the API."""

    async def make(**overrides: Any) -> dict[str, Any]:
        day_id = festival["meetings"][0]["days"][0]["id"]
        response = await client.post(
            f"/api/v1/festivals/{festival['id']}/races",
            json=race_body(day_id, **overrides),
            headers=organiser,
        )
        assert response.status_code == 201, response.text
        race: dict[str, Any] = response.json()
        return race

    return make


@dataclass
class OwnerAccount:
    headers: dict[str, str]
    owner: dict[str, Any]
    rider_id: str

    @property
    def id(self) -> str:
        return str(self.owner["id"])


OwnerFactory = Callable[..., Awaitable[OwnerAccount]]


def sign_up_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "password": "horse-owner-pw",
        "name": "扎西",
        "mobile": mobile(),
        "province": "西藏",
        "county": "当雄县",
        "township": "当曲卡镇",
        "riders": [{"name": "次仁", "birth_date": "1995-03-01"}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def sign_up(client: Client) -> OwnerFactory:
    """A new owner signed up through the API, with one adult rider."""

    async def make(**overrides: Any) -> OwnerAccount:
        response = await client.post("/api/v1/owners", json=sign_up_body(**overrides))
        assert response.status_code == 201, response.text
        body = response.json()
        return OwnerAccount(
            headers={"Authorization": f"Bearer {body['access_token']}"},
            owner=body["owner"],
            rider_id=body["owner"]["riders"][0]["id"],
        )

    return make


def horse_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_zh": f"追风{next(_numbers)}",
        "sex": "stallion",
        "birth_year": 2019,
        "height_cm": 135,
        "colour": "枣红",
    }
    body.update(overrides)
    return body


HorseFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def add_horse(client: Client) -> HorseFactory:
    async def make(account: OwnerAccount, **overrides: Any) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/horses", json=horse_body(**overrides), headers=account.headers
        )
        assert response.status_code == 201, response.text
        horse: dict[str, Any] = response.json()
        return horse

    return make


async def stable(
    db: Database, *, count: int, county: str = "当雄县", province: str = "XZ"
) -> list[tuple[str, str]]:
    """``count`` (horse id, rider id) pairs, each of its own owner, stored directly."""
    pairs = []
    async with db.transaction() as session:
        for i in range(count):
            owner = Owner(name=f"马主{i}", mobile=mobile(), province=province, county=county)
            session.add(owner)
            await session.flush()
            horse = Horse(
                owner_id=owner.id,
                name_zh=f"马{i}",
                sex=HorseSex.MARE,
                birth_year=2018,
                height_cm=135,
                origin_province=province,
            )
            rider = Rider(owner_id=owner.id, name=f"骑手{i}", birth_date=dt.date(1990, 1, 1))
            session.add_all([horse, rider])
            await session.flush()
            pairs.append((str(horse.id), str(rider.id)))
    return pairs


async def count_rows(db: Database, model: type[SQLModel]) -> int:
    async with db.session_factory() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def rows(db: Database, model: type[SQLModel], *where: Any) -> list[Any]:
    async with db.session_factory() as session:
        return list((await session.exec(select(model).where(*where))).all())


def entries_url(festival: dict[str, Any]) -> str:
    return f"/api/v1/festivals/{festival['id']}/entries"


async def complete_payment(client: Client, payment_id: str) -> None:
    response = await client.post(pay_path(payment_id))
    assert response.status_code == 200, response.text
