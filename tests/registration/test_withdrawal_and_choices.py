"""Owners: the races a horse and rider may enter come first, the others with their
reasons; withdrawing shows the refund the published rule gives before it happens."""

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from events.db.base import utcnow
from events.db.engine import Database
from events.payments.models import PaymentRefund
from events.registration.models import Race
from tests.browser import LiveServer
from tests.conftest import Client
from tests.registration.conftest import (
    HorseFactory,
    OwnerFactory,
    RaceFactory,
    complete_payment,
    count_rows,
    entries_url,
    rows,
    stable,
)

PASSWORD = "horse-owner-pw"


async def enter(
    client: Client,
    festival: dict[str, Any],
    headers: dict[str, str],
    race: dict[str, Any],
    horse_id: str,
    rider_id: str,
) -> dict[str, Any]:
    response = await client.post(
        entries_url(festival),
        headers=headers,
        json={"race_id": race["id"], "horse_id": horse_id, "rider_id": rider_id},
    )
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


@pytest.mark.browser
async def test_an_owner_sees_the_refund_before_withdrawing_and_gets_exactly_that(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    live_server: LiveServer,
    page: Page,
) -> None:
    open_race = await make_race(code="long", name_zh="马长跑 10公里", name_en="Long race 10 km")
    await make_race(code="small", name_zh="本地小马赛", name_en="Local ponies", height_max_cm=130)
    account = await sign_up()
    horse = await add_horse(account, height_cm=136)
    entry = await enter(client, festival, account.headers, open_race, horse["id"], account.rider_id)
    await complete_payment(client, entry["payment_id"])

    await page.goto(f"{live_server.url}/owners/login")
    await page.fill("#f-login", account.owner["mobile"])
    await page.fill("#f-password", PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url("**/my")

    # Entering: this pair's races first; the pony race listed apart, with the reason.
    await page.goto(f"{live_server.url}/my/enter")
    ineligible = page.get_by_test_id("ineligible-race")
    await expect(ineligible).to_have_count(2)  # the pony race; the long race (entered)
    pony = ineligible.filter(has_text="本地小马赛")
    await expect(pony.locator('[data-rule="horse_too_tall"]')).to_be_visible()
    long_race = ineligible.filter(has_text="马长跑")
    await expect(long_race.locator('[data-rule="horse_already_entered"]')).to_be_visible()

    await page.goto(f"{live_server.url}/my")
    await page.get_by_test_id("withdraw").click()
    await page.wait_for_url(f"**/my/entries/{entry['id']}/withdraw")
    preview = page.get_by_test_id("refund-preview")
    await expect(preview).to_contain_text("¥200.00")
    previewed = int(await preview.get_attribute("data-amount") or -1)
    assert await preview.get_attribute("data-rule") == "before_close"
    assert await count_rows(db, PaymentRefund) == 0  # nothing happened yet

    await page.get_by_test_id("withdraw-confirm").click()
    await page.wait_for_url("**/my?withdrawn=*")
    await expect(page.get_by_test_id("withdrawn")).to_contain_text("¥200.00")
    await expect(page.get_by_test_id("entry-status")).to_have_text("已退赛")
    [refund] = await rows(db, PaymentRefund)
    assert refund.amount == previewed == 20000


async def test_the_preview_route_gives_what_the_withdrawal_then_refunds(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    """After the close a refund depends on the waiting list: the preview sees it too."""
    race = await make_race(field_size=1)
    (horse, rider), (waiting_horse, waiting_rider) = await stable(db, count=2)
    first = await enter(client, festival, organiser, race, horse, rider)
    await complete_payment(client, first["payment_id"])
    async with db.transaction() as session:  # the entries close
        await session.exec(
            update(Race).values(  # type: ignore[call-overload]
                entries_close_at=utcnow() - dt.timedelta(minutes=1),
                late_close_at=utcnow() + dt.timedelta(days=1),
            )
        )
    url = f"/api/v1/entries/{first['id']}/withdrawal"

    alone = await client.get(url, headers=organiser)
    assert alone.status_code == 200, alone.text
    assert (alone.json()["amount"], alone.json()["rule"]) == (0, "after_close")

    await enter(client, festival, organiser, race, waiting_horse, waiting_rider)  # waits
    refilled = (await client.get(url, headers=organiser)).json()
    assert (refilled["amount"], refilled["rule"]) == (20000, "after_close_refilled")
    assert await count_rows(db, PaymentRefund) == 0

    done = await client.post(f"/api/v1/entries/{first['id']}/withdraw", headers=organiser)
    assert done.json()["refund"] == refilled
    [refund] = await rows(db, PaymentRefund)
    assert refund.amount == refilled["amount"]

    again = await client.get(url, headers=organiser)
    assert (again.status_code, again.json()["code"]) == (409, "entry_not_active")


async def test_another_owner_cannot_preview_an_entry(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    owner, other = await sign_up(), await sign_up()
    entry = await enter(
        client, festival, owner.headers, race, (await add_horse(owner))["id"], owner.rider_id
    )
    response = await client.get(f"/api/v1/entries/{entry['id']}/withdrawal", headers=other.headers)
    assert response.status_code == 404
