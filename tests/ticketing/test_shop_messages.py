"""The shop says what is wrong with an order before sending it: which per-order limit, and
that an email address or a mobile number is needed (the tickets are sent there)."""

from playwright.async_api import Page, expect

from tests.browser import LiveServer
from tests.ticketing.conftest import Catalog


async def test_twelve_tickets_name_the_limit_and_a_missing_contact_is_named(
    catalog: Catalog, live_server: LiveServer, page: Page
) -> None:
    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/tickets?lang=en")
    day1 = page.locator('[data-testid="ticket-type"][data-code="ground-d1"]')
    message = page.locator("#message")
    await day1.get_by_test_id("quantity").fill("12")
    await page.get_by_test_id("buy").click()
    await expect(message).to_have_text(
        "At most 10 of “Ground day 1” per order: choose fewer or place a second order."
    )
    await day1.get_by_test_id("quantity").fill("2")
    await page.get_by_test_id("buy").click()
    await expect(message).to_have_text(
        "Enter an email address or a mobile number (either one): your tickets are sent there."
    )
    await page.get_by_test_id("phone").fill("13800138000")
    await page.get_by_test_id("buy").click()
    await page.wait_for_url("**/orders/**")
