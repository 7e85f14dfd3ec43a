"""The officials' results page in headless Chromium: pick the race, tap the finishing
order, mark a DSQ, submit over a network that loses the first answer, retry (stored once),
see the provisional result and declare it official."""

from typing import Any

from playwright.async_api import Dialog, Page, Route, expect
from sqlmodel import col, select

from events.access.models import Role
from events.db.engine import Database
from events.results.models import ResultVersion
from tests.browser import LiveServer
from tests.conftest import PASSWORD, Client, UserFactory
from tests.results.conftest import RaceFactory, auth, draw


async def test_an_official_enters_a_race_and_declares_it_official(
    client: Client,
    make_race: RaceFactory,
    make_user: UserFactory,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    official = await make_user(Role.OFFICIAL)
    race = await make_race(horses=4, objection_minutes=0)
    await draw(client, race, official, seed=8)
    await client.post(f"/api/v1/races/{race.race_id}/start-list/publish", headers=auth(official))

    await page.goto(f"{live_server.url}/festivals/{race.festival_id}/officials")
    await expect(page.get_by_test_id("login")).to_be_visible()
    await page.get_by_test_id("username").fill(official["username"])
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("board")).to_be_visible()
    await page.get_by_test_id("race").select_option(race.race_id)
    starters = page.get_by_test_id("starter")
    await expect(starters).to_have_count(4)

    for name in ("马03", "马01", "马04"):
        await page.get_by_test_id("horse").filter(has_text=name).click()

    async def reason(dialog: Dialog) -> None:
        await dialog.accept("crossed the inside rail")

    page.once("dialog", reason)
    await starters.filter(has_text="马02").get_by_test_id("dsq").click()
    await expect(starters.filter(has_text="马02").get_by_test_id("horse")).to_contain_text("DSQ")
    await expect(starters.nth(0)).to_contain_text("马03")

    lost: list[str] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
        elif not lost:
            lost.append(route.request.headers.get("idempotency-key", ""))
            await route.fetch()  # the server stores it; the phone never hears back
            await route.abort("connectionreset")
        else:
            assert route.request.headers.get("idempotency-key") == lost[0]
            await route.continue_()

    await page.route(f"**/api/v1/races/{race.race_id}/results", lose_first_answer)
    await page.get_by_test_id("submit").click()
    retry = page.get_by_test_id("retry")
    await expect(retry).to_be_visible()
    await retry.click()
    rows = page.get_by_test_id("result-row")
    await expect(rows).to_have_count(4)
    await expect(rows.nth(0)).to_contain_text("1 马03")
    await expect(rows.nth(3)).to_contain_text("DSQ 马02 (crossed the inside rail)")
    await expect(page.get_by_test_id("race-state")).to_have_text("临时成绩")
    async with db.transaction() as session:
        versions = (
            await session.exec(
                select(ResultVersion).where(col(ResultVersion.race_id) == race.race_id)
            )
        ).all()
    assert len(versions) == 1
    assert lost[0]

    await page.get_by_test_id("declare").click()
    await expect(page.get_by_test_id("race-state")).to_have_text("正式成绩")
    await expect(rows.nth(0)).to_contain_text("奖金 ¥80,000")


async def test_an_owner_cannot_use_the_page(
    make_user: UserFactory, festival: dict[str, Any], live_server: LiveServer, page: Page
) -> None:
    owner = await make_user(Role.OWNER)
    await page.goto(f"{live_server.url}/festivals/{festival['id']}/officials?lang=en")
    await page.get_by_test_id("username").fill(owner["username"])
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text(
        "This needs a race official's or organiser's account."
    )
