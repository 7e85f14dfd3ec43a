"""Funding on SQLite, the zero-setup database of ``make run``: the ledger, a cash payment
posted by the hook, the summary, and the triggers refusing UPDATE and DELETE."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, Client


@pytest.fixture(autouse=True)
def fake_stripe() -> None:
    """No Stripe here (and no PostgreSQL): replaces the package's fixture."""


@pytest.mark.sqlite
async def test_the_ledger_on_sqlite(
    sqlite_client: Client, sqlite_url: str, sqlite_organiser: dict[str, str]
) -> None:
    festival = (
        await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=sqlite_organiser)
    ).json()
    url = f"/api/v1/festivals/{festival['id']}"
    sponsor = await sqlite_client.post(
        f"{url}/sponsors",
        headers=sqlite_organiser,
        json={
            "name_zh": "当雄县卡巴藏式酒店",
            "name_en": "Kaba Tibetan Hotel",
            "tier": "community",
            "pledged_fen": 10_000_000,
        },
    )
    receipt = await sqlite_client.post(
        f"{url}/funding",
        headers=sqlite_organiser,
        json={
            "source": "sponsorship",
            "sponsor_id": sponsor.json()["id"],
            "amount": 10_000_000,
            "occurred_on": "2027-03-01",
        },
    )
    reversal = await sqlite_client.post(
        f"{url}/funding/{receipt.json()['id']}/reversal",
        headers=sqlite_organiser,
        json={"reason": "twice"},
    )
    again = await sqlite_client.post(
        f"{url}/funding/{receipt.json()['id']}/reversal",
        headers=sqlite_organiser,
        json={"reason": "twice"},
    )
    summary = (await sqlite_client.get(f"{url}/funding/summary", headers=sqlite_organiser)).json()

    assert (sponsor.status_code, receipt.status_code, reversal.status_code) == (201, 201, 201)
    assert (again.status_code, again.json()["code"]) == (409, "already_reversed")
    assert (summary["received_fen"], summary["paid_out_fen"], summary["balance_fen"]) == (
        10_000_000,
        10_000_000,
        0,
    )
    database = Database(sqlite_url)
    try:
        for statement in ("UPDATE funding_record SET amount = 1", "DELETE FROM funding_record"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with database.engine.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        await database.dispose()
