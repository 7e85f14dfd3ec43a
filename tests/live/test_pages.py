"""The spectators' results page and the overlay in headless Chromium, fed by the stream."""

import io

import httpx
from PIL import Image
from playwright.async_api import Page, expect

from tests.browser import LiveServer
from tests.conftest import Client
from tests.results.conftest import RaceFactory, RaceSetup, auth, draw, order


async def published_race(
    client: Client, make_race: RaceFactory, official: dict[str, str], horses: int
) -> RaceSetup:
    """A race whose start list is drawn and published, declared official without a wait."""
    race = await make_race(horses=horses, objection_minutes=0)
    await draw(client, race, official, seed=horses)
    published = await client.post(
        f"/api/v1/races/{race.race_id}/start-list/publish", headers=auth(official)
    )
    assert published.status_code == 200, published.text
    return race


async def test_the_results_page_updates_itself_from_provisional_to_official(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    live_server: LiveServer,
    page: Page,
) -> None:
    race = await published_race(client, make_race, official, horses=3)

    await page.goto(f"{live_server.url}/festivals/{race.festival_id}/results?lang=en")
    card = page.locator(f"[data-race-id='{race.race_id}']")
    await expect(card).to_have_attribute("data-state", "scheduled")
    await expect(card.get_by_test_id("start-row")).to_have_count(3)
    await expect(page.get_by_test_id("live-status")).to_have_text("Live")
    await page.evaluate("window.notReloaded = true")

    # The officials enter the result through the server the page is connected to.
    async with httpx.AsyncClient(base_url=live_server.url, headers=auth(official)) as http:
        entered = await http.post(
            f"/api/v1/races/{race.race_id}/results",
            json={"starters": order(race, "马02", "马01", "马03")},
        )
        assert entered.status_code in (200, 201), entered.text
        await expect(card).to_have_attribute("data-state", "provisional")
        await expect(card.get_by_test_id("state")).to_have_text("Provisional")
        await expect(card.get_by_test_id("result-row").first).to_contain_text("马02")
        declared = await http.post(f"/api/v1/races/{race.race_id}/official", json={})
        assert declared.status_code == 200, declared.text
    await expect(card).to_have_attribute("data-state", "official")
    await expect(card.get_by_test_id("state")).to_have_text("Official")
    await expect(card.get_by_test_id("result-row").first).to_contain_text("¥80,000")
    assert await page.evaluate("window.notReloaded") is True


async def test_the_results_page_polls_when_streams_are_blocked(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    live_server: LiveServer,
    page: Page,
) -> None:
    race = await published_race(client, make_race, official, horses=2)
    await page.route("**/results/stream*", lambda route: route.abort("blockedbyclient"))
    await page.goto(f"{live_server.url}/festivals/{race.festival_id}/results?lang=en")
    card = page.locator(f"[data-race-id='{race.race_id}']")
    await expect(card).to_have_attribute("data-state", "scheduled")
    async with httpx.AsyncClient(base_url=live_server.url, headers=auth(official)) as http:
        entered = await http.post(
            f"/api/v1/races/{race.race_id}/results", json={"starters": order(race, "马01", "马02")}
        )
        assert entered.status_code in (200, 201), entered.text
    # The stream fails three times (the browser retries every few seconds), then the page
    # polls with If-None-Match, and its first poll brings the result.
    await expect(page.get_by_test_id("live-status")).to_contain_text("15 s", timeout=30_000)
    await expect(card).to_have_attribute("data-state", "provisional", timeout=30_000)


async def test_the_overlay_draws_over_a_transparent_background(
    client: Client,
    make_race: RaceFactory,
    official: dict[str, str],
    live_server: LiveServer,
    page: Page,
) -> None:
    race = await published_race(client, make_race, official, horses=3)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(f"{live_server.url}/festivals/{race.festival_id}/overlay?lang=en")
    await expect(page.get_by_test_id("overlay-start").locator("li")).to_have_count(3)
    async with httpx.AsyncClient(base_url=live_server.url, headers=auth(official)) as http:
        await http.post(
            f"/api/v1/races/{race.race_id}/results",
            json={"starters": order(race, "马03", "马02", "马01")},
        )
    await expect(page.get_by_test_id("overlay-result").locator("li").first).to_contain_text("马03")
    shot = Image.open(io.BytesIO(await page.screenshot(omit_background=True)))
    assert shot.size == (1920, 1080)
    assert shot.mode == "RGBA"
    assert shot.getpixel((1800, 40))[3] == 0  # the broadcast shows through
    card = await page.locator(".ov-card").bounding_box()
    assert card is not None
    inside = shot.getpixel((int(card["x"]) + 20, int(card["y"]) + 20))
    assert inside[3] > 200  # the card itself is opaque enough to read
