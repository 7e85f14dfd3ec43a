"""The demo step: start lists for every race, the first April days official (a dead heat,
a DSQ), prize money owed; a second run changes nothing."""

from events.access.models import Role
from events.access.services import UserService
from events.awards.demo import load_demo_awards
from events.db.engine import Database
from events.demo import DEMO_FESTIVAL
from events.festivals.services import FestivalService
from events.registration.demo import demo_entries
from events.results import services
from events.results.demo import demo_results
from events.results.models import PrizeEntitlement, ResultVersion, StartList
from tests.conftest import Client
from tests.registration.conftest import count_rows

TABLES = (StartList, ResultVersion, PrizeEntitlement)


async def test_the_demo_has_start_lists_official_results_and_prize_money_owed(
    client: Client, db: Database
) -> None:
    async with db.transaction() as session:
        await UserService(session).create(
            username="official", password="x" * 12, role=Role.OFFICIAL
        )
        festival = await FestivalService(session).create(DEMO_FESTIVAL)
        await load_demo_awards(session, festival)
        await demo_entries(session, festival)
        await demo_results(session, festival)
    counts = [await count_rows(db, table) for table in TABLES]
    body = (await client.get(f"/api/v1/festivals/{festival.id}/results")).json()
    states = {r["code"]: r["state"] for r in body["items"]}
    assert states["yak"] == states["youth-5k"] == states["pacing-local-8k"] == "official"
    assert states["khata"] == "provisional"
    assert states["long-10k"] == "scheduled"
    assert all(r["start_list"] and r["draw"]["seed"] is not None for r in body["items"])
    yak = next(r for r in body["items"] if r["code"] == "yak")
    tied = [row for row in yak["results"] if row["dead_heat"]]
    assert [row["place"] for row in tied] == [2, 2]
    assert tied[0]["prize"] == tied[1]["prize"] == (800_000 + 600_000) // 2
    youth = next(r for r in body["items"] if r["code"] == "youth-5k")
    assert [row["status"] for row in youth["results"]].count("dsq") == 1
    async with db.transaction() as session:
        totals = await services.prize_money_totals(session, festival.id)
        assert totals.owed > 0
        await demo_results(session, festival)
    assert [await count_rows(db, table) for table in TABLES] == counts
