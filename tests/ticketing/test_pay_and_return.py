"""Paying comes back: on a server at another port than 8000 with no EVENTS_PUBLIC_BASE_URL,
every link a phone is handed points at that server, and paying in the same tab lands on
the order with its tickets."""

import re
from urllib.parse import urlsplit

from playwright.async_api import Page, Route, expect

from tests.browser import LiveServer
from tests.conftest import Client
from tests.ticketing.conftest import Catalog


async def test_a_phone_buys_pays_in_the_same_tab_and_lands_back_on_its_tickets(
    client: Client, catalog: Catalog, live_server: LiveServer, page: Page
) -> None:
    assert live_server.settings.public_base_url is None
    port = urlsplit(live_server.url).port
    assert port not in (None, 8000)
    answers: list[dict[str, str]] = []

    async def remember(route: Route) -> None:
        response = await route.fetch()
        answers.append(await response.json())
        await route.fulfill(response=response)

    await page.route(f"**/api/v1/festivals/{catalog.festival_id}/orders", remember)
    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/tickets")
    day1 = page.locator('[data-testid="ticket-type"][data-code="ground-d1"]')
    await day1.get_by_test_id("quantity").fill("1")
    await page.get_by_test_id("email").fill("yangzom@example.com")
    await page.get_by_test_id("buy").click()
    await page.wait_for_url(re.compile(r"/orders/[0-9a-f-]+\?access_token="))
    order_id = urlsplit(page.url).path.rsplit("/", 1)[1]

    [answer] = answers
    assert answer["order_url"].startswith(f"{live_server.url}/orders/{order_id}?access_token=")
    assert answer["checkout_url"].startswith(
        f"{live_server.url}/pay/test/{answer['payment_id']}?pay_token="
    )
    pay = page.get_by_test_id("pay")
    assert await pay.get_attribute("target") is None  # the same tab
    assert await pay.get_attribute("href") == answer["checkout_url"]

    pages_before = len(page.context.pages)
    await pay.click()
    await page.wait_for_url(answer["checkout_url"])
    await page.locator("#pay").click()
    # Through the result page back to the order (opened by the cookie its first visit left).
    await page.wait_for_url(f"{live_server.url}/orders/{order_id}")
    assert len(page.context.pages) == pages_before

    await expect(page.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "paid", timeout=15_000
    )
    await expect(page.get_by_test_id("ticket")).to_have_count(1)
    await expect(page.get_by_test_id("qr")).to_be_visible()
    order = (
        await client.get(
            f"/api/v1/orders/{order_id}", params={"access_token": answer["access_token"]}
        )
    ).json()
    assert order["status"] == "paid"
    assert [t["status"] for t in order["tickets"]] == ["valid"]


async def test_links_follow_the_configured_public_base_url(
    client: Client, catalog: Catalog
) -> None:
    """The in-process client talks to http://testserver: links say so, unless configured."""
    placed = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/orders",
        json={
            "email": "dawa@example.com",
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["order_url"].startswith("http://testserver/orders/")
    assert placed.json()["checkout_url"].startswith("http://testserver/pay/test/")
