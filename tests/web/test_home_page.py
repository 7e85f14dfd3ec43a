from typing import Any

from playwright.async_api import Page

from tests.browser import LiveServer
from tests.conftest import FESTIVAL_BODY, Client


async def test_home_page_lists_festivals_in_chinese_then_english(
    client: Client, festival: dict[str, Any], live_server: LiveServer, page: Page
) -> None:
    await page.goto(live_server.url + "/")
    card = page.get_by_test_id("festival")
    assert await card.count() == 1
    assert FESTIVAL_BODY["name_zh"] in await card.inner_text()
    await page.get_by_test_id("lang-switch").click()
    await page.wait_for_url("**/?lang=en")
    assert FESTIVAL_BODY["name_en"] in await page.get_by_test_id("festival").inner_text()
    # The choice sticks: the cookie keeps English on the next visit.
    await page.goto(live_server.url + "/")
    assert await page.locator("html").get_attribute("lang") == "en"


async def test_home_page_is_html_with_both_languages_available(client: Client) -> None:
    zh = await client.get("/")
    en = await client.get("/?lang=en")
    assert zh.status_code == en.status_code == 200
    assert zh.headers["content-type"].startswith("text/html")
    assert "赛马节" in zh.text
    assert "Horse-racing festivals" in en.text
    assert en.cookies.get("lang") == "en"


async def test_home_page_links_each_festival_to_its_ticket_shop(
    client: Client, festival: dict[str, Any]
) -> None:
    page = await client.get("/?lang=en")
    assert f'href="/festivals/{festival["id"]}/tickets"' in page.text
    assert 'href="/scan"' in page.text


async def test_the_language_switch_keeps_the_pages_query(client: Client) -> None:
    page = await client.get("/?q=dangjiren&lang=en")
    assert 'href="/?q=dangjiren&amp;lang=zh"' in page.text
