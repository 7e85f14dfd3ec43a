"""Funding fixtures: Stripe pointed at the in-process fake (as in the payments tests), the
demo prize list loaded through the awards import, helpers for the ledger's rows."""

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from events.awards import importing
from events.awards.demo import demo_prize_list
from events.awards.prize_list import PrizeListService
from events.db.engine import Database
from events.funding.models import FundingRecord, Sponsor, SponsorInKind
from tests.conftest import Client
from tests.payments.conftest import fake_stripe, handler, settings
from tests.results.conftest import make_race, official

__all__ = ["fake_stripe", "handler", "make_race", "official", "settings"]


def base(festival: dict[str, Any]) -> str:
    return f"/api/v1/festivals/{festival['id']}"


def receipt(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "self_raised",
        "amount": 50_000_000,
        "occurred_on": "2027-03-01",
        "reference": "BANK-0001",
        "note": "组委会自筹 first instalment",
    }
    body.update(overrides)
    return body


async def record(
    client: Client, festival: dict[str, Any], headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{base(festival)}/funding", json=receipt(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def rows(db: Database, *conditions: Any) -> list[FundingRecord]:
    async with db.session_factory() as session:
        return list((await session.exec(select(FundingRecord).where(*conditions))).all())


async def counts(db: Database) -> tuple[int, int, int]:
    """(ledger records, sponsors, contributions in kind) stored."""
    found = []
    async with db.session_factory() as session:
        for model in (FundingRecord, Sponsor, SponsorInKind):
            found.append(int((await session.exec(select(func.count()).select_from(model))).one()))
    return found[0], found[1], found[2]


@pytest.fixture
async def prize_list(db: Database, festival: dict[str, Any]) -> dict[str, Any]:
    """The demo prize list (131 awards, 1,252,000 yuan) imported into the festival."""
    async with db.transaction() as session:
        parsed = importing.parse_json(json.dumps(demo_prize_list()).encode())
        report = await PrizeListService(session).import_prize_list(
            uuid.UUID(festival["id"]), parsed, dry_run=False
        )
        assert report.summary.total_prize == 125_200_000
    return festival
