"""The funding demo: the coverage of the 1,252,000-yuan prize list, sponsors (two local
businesses at 100,000 yuan each, a motorcycle in kind), entry fees taken in cash at the
desk through payments; a second run changes nothing."""

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from events.awards.demo import load_demo_awards
from events.db.engine import Database
from events.demo import DEMO_FESTIVAL, DEMO_STEPS
from events.festivals.services import FestivalService
from events.funding.demo import demo_funding
from events.payments.models import Payment
from events.registration.demo import demo_entries
from events.registration.models import Entry
from tests.conftest import Client
from tests.funding.conftest import rows

YUAN = 100


async def test_the_demo_shows_the_coverage_of_the_prize_list(
    client: Client, db: Database, organiser: dict[str, str]
) -> None:
    assert DEMO_STEPS[-1] is demo_funding
    async with db.transaction() as session:
        festival = await FestivalService(session).create(DEMO_FESTIVAL)
        await load_demo_awards(session, festival)
        await demo_entries(session, festival)
        lines = await demo_funding(session, festival)
    url = f"/api/v1/festivals/{festival.id}"

    summary: dict[str, Any] = (await client.get(f"{url}/funding/summary", headers=organiser)).json()
    sponsors = (await client.get(f"{url}/sponsors", headers=organiser)).json()["items"]

    assert summary["prize_money"]["committed_fen"] == 1_252_000 * YUAN
    local = [s for s in sponsors if s["tier"] == "community"]
    assert [s["pledged_fen"] for s in local] == [100_000 * YUAN] * 2
    by_sponsor = {s["sponsor_id"]: s for s in summary["by_sponsor"]}
    assert [by_sponsor[s["id"]]["received_fen"] for s in local] == [100_000 * YUAN] * 2
    [moto] = [s for s in sponsors if s["tier"] == "in_kind"]
    assert moto["in_kind"][0]["description_en"].startswith("A motorcycle")
    assert moto["target"] == "award"
    assert moto["target_id"] is not None
    title = next(s for s in sponsors if s["tier"] == "title")
    assert title["target"] == "category"

    async with db.session_factory() as session:
        cash = (
            await session.exec(
                select(func.count(), func.sum(Payment.amount)).where(
                    Payment.provider == "cash", Payment.status == "succeeded"
                )
            )
        ).one()
        confirmed = (
            await session.exec(
                select(func.count()).select_from(Entry).where(Entry.status == "confirmed")
            )
        ).one()
    fees = next(s for s in summary["by_source"] if s["source"] == "entry_fees")
    assert cash[0] == 60 == confirmed  # the registration handler confirmed each entry
    assert fees["net_fen"] == cash[1] > 0
    assert fees["records"] == 60
    c = summary["coverage"]
    assert c["income_fen"] == (600_000 + 200_000 + 150_000 + 38_600) * YUAN + cash[1]
    assert c["pledged_outstanding_fen"] == 150_000 * YUAN
    assert c["in_kind_contributed_fen"] == 12_800 * YUAN
    assert c["cash_shortfall_fen"] == 1_252_000 * YUAN - c["cash_available_fen"] > 0
    assert [w["code"] for w in summary["warnings"]] == ["commitments_exceed_funds"]
    assert "warning commitments_exceed_funds" in lines[-1]

    before = len(await rows(db))
    async with db.transaction() as session:
        again = await FestivalService(session).get_by_slug(DEMO_FESTIVAL.slug)
        assert again is not None
        assert "already there" in (await demo_funding(session, again))[0]
    assert len(await rows(db)) == before
