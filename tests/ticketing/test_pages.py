"""The spectators' pages in headless Chromium: choose, pay, see the QR tickets, get the PDF."""

import io
import re

import anyio
import zxingcpp
from PIL import Image
from playwright.async_api import Page, expect

from tests.browser import LiveServer
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, buy


async def test_a_spectator_buys_pays_and_gets_scannable_tickets_on_the_phone(
    client: Client, catalog: Catalog, live_server: LiveServer, page: Page
) -> None:
    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/tickets")
    await expect(page.locator("h1")).to_have_text("测试赛马节")
    days = page.get_by_test_id("day")
    await expect(days).to_have_count(3)
    await expect(days.first).to_have_attribute("aria-current", "page")
    day1 = page.locator('[data-testid="ticket-type"][data-code="ground-d1"]')
    await expect(day1).to_contain_text("普通票第一天")
    await expect(day1).to_contain_text("余票 100")
    await day1.get_by_test_id("quantity").fill("2")
    await page.get_by_test_id("email").fill("tashi@example.com")
    await expect(page.get_by_test_id("total")).to_have_text("¥160.00")
    await page.get_by_test_id("buy").click()

    await page.wait_for_url(re.compile(r"/orders/[0-9a-f-]+\?access_token="))
    order_id = page.url.split("/orders/")[1].split("?")[0]
    access_token = page.url.split("access_token=")[1]
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "pending")
    # Paying happens in this tab and comes back to the order.
    await page.get_by_test_id("pay").click()
    await page.wait_for_url(re.compile(r"/pay/test/"))
    await page.locator("#pay").click()
    await page.wait_for_url(re.compile(rf"/orders/{order_id}$"))

    await expect(page.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "paid", timeout=15_000
    )
    tickets = page.get_by_test_id("ticket")
    await expect(tickets).to_have_count(2)
    order = (
        await client.get(f"/api/v1/orders/{order_id}", params={"access_token": access_token})
    ).json()
    qr = tickets.first.get_by_test_id("qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    shot = Image.open(io.BytesIO(await qr.screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [order["tickets"][0]["token"]]

    async with page.expect_download() as download_info:
        await tickets.first.get_by_test_id("pdf").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    assert (await anyio.Path(path).read_bytes())[:5] == b"%PDF-"

    await page.get_by_test_id("lang-switch").click()
    await expect(page.locator("h1")).to_have_text("My tickets")
    await expect(page.get_by_test_id("order-status")).to_have_text("Paid")


async def test_the_shop_says_why_an_order_was_refused_and_free_tickets_need_no_payment(
    client: Client, catalog: Catalog, live_server: LiveServer, page: Page
) -> None:
    await buy(client, catalog, [(catalog.stand1, 9)])
    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/tickets?lang=en")
    stand = page.locator('[data-testid="ticket-type"][data-code="stand-d1"]')
    await expect(stand).to_contain_text("1 left")
    # Someone else takes the last one while this page is open.
    await buy(client, catalog, [(catalog.stand1, 1)])
    await stand.get_by_test_id("quantity").fill("1")
    await page.get_by_test_id("phone").fill("13800138000")
    await page.get_by_test_id("buy").click()
    await expect(page.get_by_test_id("message")).to_contain_text("Not enough tickets left")

    await stand.get_by_test_id("quantity").fill("0")
    child = page.locator('[data-testid="ticket-type"][data-code="child-d1"]')
    await child.get_by_test_id("quantity").fill("2")
    await expect(page.get_by_test_id("buy")).to_have_text("Get tickets")
    await page.get_by_test_id("buy").click()
    await page.wait_for_url(re.compile(r"/orders/"))
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    await expect(page.get_by_test_id("ticket")).to_have_count(2)


async def test_a_wrong_link_shows_a_page_not_the_order(
    client: Client, catalog: Catalog, live_server: LiveServer, page: Page
) -> None:
    placed = await buy(client, catalog, [(catalog.child1, 1)])
    response = await page.goto(f"{live_server.url}/orders/{placed['order_id']}?access_token=wrong")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_test_id("error")).to_have_attribute(
        "data-code", "invalid_access_token"
    )
    assert await page.get_by_test_id("ticket").count() == 0
