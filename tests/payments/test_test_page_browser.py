"""The test provider's checkout page in a real browser: Pay and Cancel work on a phone."""

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Page

from events.config import Settings
from events.db.engine import Database
from tests.browser import LiveServer
from tests.conftest import make_settings
from tests.payments.conftest import RecordingHandler, load_payment, start_payment


def pay_link(checkout_url: str | None) -> str:
    """The pay link's path and query (its pay_token), as the buyer's phone opens it."""
    assert checkout_url is not None
    parts = urlsplit(checkout_url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def settings(pg_url: str) -> Settings:
    """No Stripe key: the test provider is on."""
    return make_settings(pg_url)


@pytest.mark.browser
async def test_pay_on_the_test_page_goes_back_to_what_was_paid_for(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    live_server: LiveServer,
    page: Page,
    handler: RecordingHandler,
) -> None:
    reference = uuid.uuid4()
    checkout = await start_payment(db, settings, festival, amount=60000, reference_id=reference)

    await page.goto(live_server.url + pay_link(checkout.checkout_url))
    assert "¥600.00" in await page.locator(".amount").inner_text()
    await page.get_by_role("button", name="支付 / Pay").click()
    # The result page sends a paid entry fee on to the owner's entry (signing in first,
    # this browser not being signed in).
    await page.wait_for_url(re.compile(r"/owners/login\?next="))
    assert parse_qs(urlsplit(page.url).query)["next"] == [f"/my?paid={reference}"]
    assert (await load_payment(db, checkout.payment_id)).status == "succeeded"
    assert handler.kinds() == ["succeeded"]


@pytest.mark.browser
async def test_cancel_on_the_test_page_releases_the_purchase(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    live_server: LiveServer,
    page: Page,
    handler: RecordingHandler,
) -> None:
    checkout = await start_payment(db, settings, festival)

    await page.goto(live_server.url + pay_link(checkout.checkout_url))
    await page.get_by_role("button", name="取消 / Cancel").click()
    await page.wait_for_url(f"**/pay/{checkout.payment_id}/result")

    assert await page.locator(".status").inner_text() == "已取消 / Cancelled"
    reference = (await load_payment(db, checkout.payment_id)).reference_id
    assert await page.get_by_test_id("back").get_attribute("href") == (
        f"/my?paid={reference}#entry-{reference}"
    )
    assert (await load_payment(db, checkout.payment_id)).status == "canceled"
    assert handler.kinds() == ["failed"]
