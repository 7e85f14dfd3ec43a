"""The demo step: 600+ entries from 20+ provinces over the nine race categories, once."""

from events.db.engine import Database
from events.demo import DEMO_FESTIVAL
from events.festivals.services import FestivalService
from events.registration.demo import RACES, delegation_rows, demo_entries
from events.registration.models import Entry, EntryEvent, Horse, Owner, Race, Rider
from tests.conftest import Client
from tests.registration.conftest import count_rows

TABLES = (Owner, Rider, Horse, Race, Entry, EntryEvent)


async def test_the_demo_enters_600_horses_from_20_provinces_and_a_second_run_changes_nothing(
    client: Client, db: Database
) -> None:
    async with db.transaction() as session:
        festival = await FestivalService(session).create(DEMO_FESTIVAL)
        await demo_entries(session, festival)
    counts = [await count_rows(db, table) for table in TABLES]

    summary = (await client.get(f"/api/v1/festivals/{festival.id}/entries/summary")).json()

    assert summary["entries"] >= 600
    assert summary["horses"] >= 600
    assert summary["provinces"] >= 20
    assert summary["by_province"]["西藏"] > summary["by_province"]["四川"] > 0
    assert set(summary["by_race"]) == {race.code for race in RACES}
    assert summary["by_status"]["waiting"] > 0
    races = (await client.get(f"/api/v1/festivals/{festival.id}/races")).json()["items"]
    assert all(r["entered"] <= r["field_size"] for r in races)

    async with db.transaction() as session:
        again = await FestivalService(session).get_by_slug(DEMO_FESTIVAL.slug)
        assert again is not None
        lines = await demo_entries(session, again)
    assert [await count_rows(db, table) for table in TABLES] == counts
    assert "already there" in lines[1]


def test_the_demo_delegations_are_the_same_every_time() -> None:
    first, second = delegation_rows(), delegation_rows()
    assert [r.values for r in first] == [r.values for r in second]
    assert len({r.values["province"] for r in first}) == 22
