"""Results and funding together: a payout marked paid is in the ledger once, and the
summary's owed and paid prize money are the results' own figures."""

from typing import Any

from tests.conftest import Client
from tests.results.conftest import RaceFactory, auth, draw, order, submit


async def test_a_payout_marked_paid_posts_once_and_the_summary_agrees_with_results(
    client: Client, make_race: RaceFactory, official: dict[str, str], organiser: dict[str, str]
) -> None:
    race = await make_race(objection_minutes=0, horses=2)
    await draw(client, race, official, seed=3)
    assert (await submit(client, race, official, order(race, "马01", "马02"))).status_code == 201
    declared = await client.post(
        f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
    )
    assert declared.status_code == 200, declared.text
    owed = (
        await client.get(
            f"/api/v1/festivals/{race.festival_id}/prize-money", headers=auth(official)
        )
    ).json()["items"]
    winner: dict[str, Any] = next(i for i in owed if i["horse_name"] == "马01")
    url = f"/api/v1/prize-entitlements/{winner['id']}/paid"
    for _ in range(2):  # a retried click records one payout
        paid = await client.post(url, json={"reference": "BANK-7"}, headers=organiser)
        assert paid.status_code == 200, paid.text

    ledger = (
        await client.get(f"/api/v1/festivals/{race.festival_id}/funding", headers=organiser)
    ).json()["items"]
    payouts = [r for r in ledger if r["source"] == "prize_payout"]
    assert len(payouts) == 1
    assert (payouts[0]["direction"], payouts[0]["amount"]) == ("out", winner["net_fen"])
    assert payouts[0]["entitlement_id"] == winner["id"]

    summary = (
        await client.get(f"/api/v1/festivals/{race.festival_id}/funding/summary", headers=organiser)
    ).json()
    assert summary["prize_money"]["owed_fen"] == 8_000_000 + 5_000_000
    assert summary["prize_money"]["paid_fen"] == winner["net_fen"]
