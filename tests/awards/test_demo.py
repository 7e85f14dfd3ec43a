"""The demo prize list: the illustrative table of DOMAIN.md, checked through the API."""

import uuid
from typing import Any

from events.awards.demo import load_demo_awards
from events.db.engine import Database
from events.festivals.models import Festival
from tests.awards.conftest import base, stored_counts
from tests.conftest import Client


async def run_demo_step(db: Database, festival: dict[str, Any]) -> list[str]:
    async with db.transaction() as session:
        stored = await session.get(Festival, uuid.UUID(festival["id"]))
        assert stored is not None
        return await load_demo_awards(session, stored)


async def test_the_demo_has_10_categories_131_awards_and_1252000_yuan(
    client: Client, festival: dict[str, Any], db: Database
) -> None:
    await run_demo_step(db, festival)
    response = await client.get(f"{base(festival)}/awards/summary")
    assert response.status_code == 200
    summary = response.json()
    assert (summary["categories"], summary["awards"]) == (10, 131)
    assert summary["total_prize"] == 1_252_000 * 100
    assert (summary["min_prize"], summary["max_prize"]) == (2_000 * 100, 80_000 * 100)
    assert summary["currency"] == "CNY"
    assert summary["total_prize_yuan"] == "1252000.00"
    subtotals = {c["code"]: c["total_prize"] // 100 for c in summary["by_category"]}
    assert subtotals == {
        "long-10k": 315_000,
        "mid-5k": 168_000,
        "short-3k": 130_000,
        "pacing-large-10k": 168_000,
        "pacing-local-8k": 100_000,
        "youth-5k": 69_000,
        "khata": 72_000,
        "archery": 72_000,
        "yak": 41_000,
        "special": 117_000,
    }
    special = next(c for c in summary["by_category"] if c["code"] == "special")
    assert (special["places"], special["special_awards"]) == (0, 16)
    assert summary["flags"] == []


async def test_running_the_demo_step_twice_changes_nothing(
    client: Client, festival: dict[str, Any], db: Database
) -> None:
    await run_demo_step(db, festival)
    counts = await stored_counts(db)
    report = await run_demo_step(db, festival)
    assert "already there" in report[0]
    assert await stored_counts(db) == counts == (10, 131, 1)
