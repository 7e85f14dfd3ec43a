"""Prize money owed and paid: payee split, withholding, holds, payouts and the funding seam."""

import io
import uuid
from typing import Any

from openpyxl import load_workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.db.engine import Database
from events.registration.models import Owner
from events.results import services
from events.results.payouts import PayoutPaid, unregister_payout_listener
from tests.conftest import Client, UserFactory, headers_of
from tests.results.conftest import RaceFactory, RaceSetup, auth, draw, order, submit


async def _official(
    client: Client, make_race: RaceFactory, official: dict[str, str], **kwargs: Any
) -> RaceSetup:
    race = await make_race(objection_minutes=0, **kwargs)
    await draw(client, race, official, seed=3)
    names = sorted(race.entries)
    assert (await submit(client, race, official, order(race, *names))).status_code == 201
    response = await client.post(
        f"/api/v1/races/{race.race_id}/official", json={}, headers=auth(official)
    )
    assert response.status_code == 200, response.text
    return race


async def _owed(
    client: Client, race: RaceSetup, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/festivals/{race.festival_id}/prize-money", params=params, headers=auth(headers)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_rider_share_and_withholding_are_split_off(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    organiser: dict[str, str],
    festival: dict[str, Any],
) -> None:
    response = await client.patch(
        f"/api/v1/festivals/{festival['id']}/awards/settings",
        json={"withholding_enabled": True},
        headers=organiser,
    )
    assert response.status_code == 200, response.text
    race = await _official(
        client, make_race, official, horses=2, prizes=(15_000_000, 500_000), rider_share=2_000_000
    )
    items = await _owed(client, race, official, race_id=race.race_id)
    got = sorted(
        (i["horse_name"], i["payee"], i["gross_fen"], i["withheld_fen"], i["net_fen"])
        for i in items
    )
    assert got == [
        ("马01", "owner", 13_000_000, 2_600_000, 10_400_000),
        ("马01", "rider", 2_000_000, 400_000, 1_600_000),
        ("马02", "owner", 500_000, 0, 500_000),
    ]


async def test_mark_paid_calls_the_listener_once_and_a_retry_changes_nothing(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    organiser: dict[str, str],
    db: Database,
) -> None:
    heard: list[PayoutPaid] = []

    async def listener(session: AsyncSession, payout: PayoutPaid) -> None:
        assert session.in_transaction()
        heard.append(payout)

    services.register_payout_listener(listener)
    try:
        race = await _official(client, make_race, official, horses=2)
        winner = next(i for i in await _owed(client, race, official) if i["horse_name"] == "马01")
        url = f"/api/v1/prize-entitlements/{winner['id']}/paid"
        first = await client.post(url, json={"reference": "BANK-0001"}, headers=organiser)
        again = await client.post(url, json={"reference": "BANK-0001"}, headers=organiser)
        assert first.status_code == again.status_code == 200
        assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
        other = await client.post(url, json={"reference": "BANK-0002"}, headers=organiser)
        assert other.status_code == 409
        assert other.json()["code"] == "already_paid"
        assert len(heard) == 1
        assert heard[0].amount == 8_000_000
        assert heard[0].reference == "BANK-0001"
        assert str(heard[0].entitlement_id) == winner["id"]
        async with db.transaction() as session:
            totals = await services.prize_money_totals(session, race.festival_id)
        assert (totals.owed, totals.paid, totals.held, totals.currency) == (
            13_000_000,
            8_000_000,
            0,
            "CNY",
        )
        paid = await _owed(client, race, official, state="paid")
        assert [(i["reference"], i["net_fen"]) for i in paid] == [("BANK-0001", 8_000_000)]
    finally:
        unregister_payout_listener(listener)


async def test_a_failing_listener_rolls_the_payout_back(
    client: Client, make_race: RaceFactory, official: dict[str, str], organiser: dict[str, str]
) -> None:
    async def broken(session: AsyncSession, payout: PayoutPaid) -> None:
        raise RuntimeError("ledger down")

    services.register_payout_listener(broken)
    try:
        race = await _official(client, make_race, official, horses=1)
        item = (await _owed(client, race, official))[0]
        response = await client.post(
            f"/api/v1/prize-entitlements/{item['id']}/paid",
            json={"reference": "X"},
            headers=organiser,
        )
        assert response.status_code == 500
    finally:
        unregister_payout_listener(broken)
    assert (await _owed(client, race, official))[0]["state"] == "owed"


async def test_an_inquiry_after_official_holds_the_prize_money(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    organiser: dict[str, str],
    db: Database,
) -> None:
    race = await _official(client, make_race, official, horses=2)
    lodged = await client.post(
        f"/api/v1/races/{race.race_id}/objections",
        json={"grounds": "drug test pending"},
        headers=auth(official),
    )
    assert lodged.status_code == 201
    items = await _owed(client, race, official)
    assert {i["state"] for i in items} == {"held"}
    refused = await client.post(
        f"/api/v1/prize-entitlements/{items[0]['id']}/paid",
        json={"reference": "B"},
        headers=organiser,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "entitlement_held"
    totals = (
        await client.get(
            f"/api/v1/festivals/{race.festival_id}/prize-money/totals", headers=auth(official)
        )
    ).json()
    assert totals == {"owed": 13_000_000, "paid": 0, "held": 13_000_000, "currency": "CNY"}


async def test_prize_money_exports_per_award_horse_owner_and_province(
    client: Client, make_race: RaceFactory, official: dict[str, str]
) -> None:
    race = await _official(client, make_race, official, horses=3)
    base = f"/api/v1/festivals/{race.festival_id}/prize-money"
    csv = await client.get(f"{base}/export.csv", headers=auth(official))
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "80000.00" in text
    assert "马01" in text
    by_province = await client.get(
        f"{base}/export.csv", params={"group": "province"}, headers=auth(official)
    )
    lines = by_province.content.decode("utf-8-sig").splitlines()
    assert lines == ["province,net_yuan,paid_yuan,unpaid_yuan", "XZ,170000.00,0.00,170000.00"]
    xlsx = await client.get(f"{base}/export.xlsx", headers=auth(official))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["entitlements", "by award", "by horse", "by owner", "by province"]
    anonymous = await client.get(f"{base}/export.csv")
    assert anonymous.status_code == 401


async def test_an_owner_sees_only_their_own_prize_money(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    make_user: UserFactory,
    db: Database,
) -> None:
    race = await _official(client, make_race, official, horses=3)
    user = await make_user(Role.OWNER)
    async with db.transaction() as session:
        owner = await session.get_one(Owner, uuid.UUID(race.owners["马02"]))
        owner.user_id = uuid.UUID(user["user_id"])
        session.add(owner)
    items = await _owed(client, race, headers_of(user))
    assert [(i["horse_name"], i["net_fen"]) for i in items] == [("马02", 5_000_000)]
