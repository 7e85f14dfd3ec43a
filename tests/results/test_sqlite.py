"""The results flow on SQLite (aiosqlite), the zero-setup default of `make run`: the demo's
start lists, results and prize money, read and amended through the API."""

from events.access.models import Role
from events.access.services import UserService
from events.awards.demo import load_demo_awards
from events.db.engine import Database
from events.demo import DEMO_FESTIVAL
from events.festivals.services import FestivalService
from events.registration.demo import demo_entries
from events.results.demo import demo_results
from tests.conftest import PASSWORD, Client


async def test_demo_results_and_an_amendment_on_sqlite(
    sqlite_client: Client, sqlite_url: str
) -> None:
    database = Database(sqlite_url)
    try:
        async with database.transaction() as session:
            await UserService(session).create(
                username="official", password=PASSWORD, role=Role.OFFICIAL
            )
            festival = await FestivalService(session).create(DEMO_FESTIVAL)
            await load_demo_awards(session, festival)
            await demo_entries(session, festival)
            await demo_results(session, festival)
    finally:
        await database.dispose()
    login = await sqlite_client.post(
        "/api/v1/auth/login", json={"username": "official", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    body = (await sqlite_client.get(f"/api/v1/festivals/{festival.id}/results")).json()
    yak = next(r for r in body["items"] if r["code"] == "yak")
    assert yak["state"] == "official"
    detail = (
        await sqlite_client.get(f"/api/v1/races/{yak['race_id']}/results", headers=headers)
    ).json()
    rows = detail["version"]["rows"]
    starters = [
        {"entry_id": r["entry_id"], "place": r["place"], "dead_heat": r["dead_heat"]}
        if r["status"] == "finished"
        else {"entry_id": r["entry_id"], "status": r["status"]}
        for r in rows
    ]
    starters[0] = {"entry_id": rows[0]["entry_id"], "status": "dsq", "reason": "doping"}
    starters[1:] = [{**s, "place": s["place"] - 1} if "place" in s else s for s in starters[1:]]
    amended = await sqlite_client.post(
        f"/api/v1/races/{yak['race_id']}/results",
        json={"starters": starters, "reason": "winner disqualified"},
        headers=headers,
    )
    assert amended.status_code == 201, amended.text
    history = (await sqlite_client.get(f"/api/v1/races/{yak['race_id']}/results/history")).json()
    assert [v["status"] for v in history["items"]] == ["provisional", "official", "amended"]
    clawed = (
        await sqlite_client.get(
            f"/api/v1/festivals/{festival.id}/prize-money",
            params={"state": "clawback", "race_id": yak["race_id"]},
            headers=headers,
        )
    ).json()
    assert clawed["total"] > 0
