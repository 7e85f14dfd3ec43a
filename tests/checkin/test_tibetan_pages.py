"""The ticket shop and the gate scanner in Tibetan, in headless Chromium.

Shaped Tibetan is told from boxes by what the browser really drew: Chromium reports the
platform font it used for the text (DevTools ``CSS.getPlatformFontsForNode``), and on a
screenshot a stacked letter (ར over ཏ: རྟ) is as wide as one letter and taller, where boxes
or unshaped letters stand side by side, twice as wide. The screenshots are kept in the
test's temporary directory.
"""

import io
import re
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.async_api import Locator, Page, expect

from tests.browser import LiveServer
from tests.checkin.conftest import Gate, tickets_of
from tests.conftest import Client
from tests.ticketing.conftest import Catalog

TIBETAN_FONT = "Tibetan Machine Uni"
FESTIVAL_BO = "འདམ་གཞུང་རྟ་རྒྱུགས་དུས་ཆེན།"
DAY_TICKET_BO = "ཉིན་གཅིག་གི་འཛུལ་ཤོག"


async def fonts_used(page: Page, selector: str) -> dict[str, int]:
    """Font family → glyphs drawn with it, for the text of the first ``selector``."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": -1})
    found = await cdp.send(
        "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector}
    )
    assert found["nodeId"], selector
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
    await cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts["fonts"]}


def ink(shot: bytes) -> tuple[int, int]:
    """Width and height of the dark pixels of a screenshot."""
    image = Image.open(io.BytesIO(shot)).convert("L").point(lambda v: 255 if v < 50 else 0)
    box = image.getbbox()
    assert box is not None, "nothing drawn"
    return box[2] - box[0], box[3] - box[1]


async def assert_shaped(page: Page, text: Locator, selector: str, shots: Path, name: str) -> None:
    """The Tibetan ``text`` is drawn with a Tibetan font, and that font stacks letters."""
    await text.screenshot(path=shots / f"{name}.png")
    used = await fonts_used(page, selector)
    assert used.get(TIBETAN_FONT, 0) > 0, used
    # Probes in the page's own Tibetan font stack (app.css :lang(bo)), black on white.
    await page.evaluate("""() => {
        const box = document.createElement("div");
        box.id = "probe-box"; box.lang = "bo";
        box.style.cssText = "position:relative;z-index:99;padding:24px;background:#fff";
        for (const [id, text] of [["probe-one", "ར"], ["probe-stack", "རྟ"], ["probe-two", "རཏ"]]) {
            const span = document.createElement("span");
            span.id = id; span.textContent = text;
            span.style.cssText = "display:inline-block;font-size:64px;line-height:1.8;"
                + "padding:8px;margin:8px;color:#000;background:#fff";
            box.append(span);
        }
        document.body.prepend(box);
    }""")
    one, stack, two = [
        ink(await page.locator(f"#probe-{p}").screenshot(path=shots / f"{name}-probe-{p}.png"))
        for p in ("one", "stack", "two")
    ]
    assert stack[0] < 1.3 * one[0], (one, stack)  # ཏ went under ར, not beside it
    assert stack[1] > 1.3 * one[1], (one, stack)  # ...so the stack is taller
    assert two[0] > 1.6 * one[0], (one, two)  # two letters side by side are wider
    await page.evaluate("() => document.getElementById('probe-box').remove()")


async def test_the_shop_and_the_scanner_in_tibetan_show_shaped_tibetan_text(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    organiser: dict[str, str],
    on_day: Any,
    live_server: LiveServer,
    page: Page,
    tmp_path: Path,
) -> None:
    fid = catalog.festival_id
    for url, body in (
        (f"/api/v1/festivals/{fid}", {"name_bo": FESTIVAL_BO}),
        (f"/api/v1/festivals/{fid}/ticket-types/{catalog.day1['id']}", {"name_bo": DAY_TICKET_BO}),
    ):
        assert (await client.patch(url, json=body, headers=organiser)).status_code == 200

    # A spectator on a Chinese page picks བོད་ཡིག from the language links.
    await page.goto(f"{live_server.url}/festivals/{fid}/tickets")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.locator('a[hreflang="bo"]').click()
    await page.wait_for_url("**lang=bo")
    await expect(page.locator("html")).to_have_attribute("lang", "bo")
    await expect(page.locator("h1")).to_have_text(FESTIVAL_BO)
    day_ticket = page.locator(f'[data-testid="ticket-type"][data-code="{catalog.day1["code"]}"]')
    await expect(day_ticket).to_contain_text(DAY_TICKET_BO)
    # A ticket type without a Tibetan name shows its Chinese one.
    await expect(page.locator('[data-testid="ticket-type"][data-code="pass"]')).to_contain_text(
        "通票"
    )
    await expect(page.locator("header .brand")).to_have_text("རྟ་རྒྱུགས་དུས་ཆེན།")
    await expect(page.get_by_test_id("lang-switch")).to_have_text("中文")
    await assert_shaped(page, page.locator("h1"), "h1", tmp_path, "shop")
    await page.screenshot(path=tmp_path / "shop-page.png", full_page=True)
    # Buying in Tibetan works and lands on the tickets in Tibetan.
    child = page.locator('[data-testid="ticket-type"][data-code="child-d1"]')
    await child.get_by_test_id("quantity").fill("1")
    await page.get_by_test_id("phone").fill("13800138000")
    await expect(page.get_by_test_id("buy")).to_have_text("འཛུལ་ཤོག་ལེན།")
    await page.get_by_test_id("buy").click()
    await page.wait_for_url(re.compile(r"/orders/"))
    await expect(page.locator("h1")).to_have_text("ངའི་འཛུལ་ཤོག")
    await expect(page.get_by_test_id("order-status")).to_have_text("དངུལ་སྤྲོད་ཟིན།")
    await expect(page.get_by_test_id("ticket")).to_have_count(1)

    # The gate phone, in Tibetan (the cookie set above keeps the language).
    moment = on_day(catalog.days[0]["date"], 10)
    [ticket] = await tickets_of(client, catalog, catalog.day1, 1)
    await page.clock.set_fixed_time(moment)
    token = gates[0].headers["Authorization"].removeprefix("Device ")
    await page.goto(f"{live_server.url}/scan#token={token}")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-keys", "ready")
    await expect(page.locator("html")).to_have_attribute("lang", "bo")
    await expect(page.get_by_test_id("kind-entry")).to_have_text("ནང་འཛུལ།")
    await expect(page.get_by_test_id("net")).to_have_text("དྲ་ཐོག")
    await expect(page.get_by_test_id("camera-toggle")).to_have_text("པར་ཆས་ཀྱིས་ཞིབ་བཤེར།")

    answer = page.get_by_test_id("answer")
    await page.keyboard.type(ticket["token"])
    await page.keyboard.press("Enter")
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(page.get_by_test_id("answer-local")).to_have_text("ནང་དུ་ཕེབས།")
    # The crowd at the gate still reads Chinese and English below it.
    await expect(page.get_by_test_id("answer-zh")).to_have_text("请通行")
    await expect(page.get_by_test_id("answer-en")).to_have_text("Welcome, go ahead")
    await page.get_by_test_id("answer-local").screenshot(path=tmp_path / "scanner-answer.png")
    assert (await fonts_used(page, "#answer-local")).get(TIBETAN_FONT, 0) > 0
    await page.screenshot(path=tmp_path / "scanner-answer-page.png")
    await answer.click()
    await expect(answer).to_be_hidden()
    await assert_shaped(
        page, page.get_by_test_id("kind-entry"), '[data-testid="kind-entry"]', tmp_path, "scanner"
    )
    await page.keyboard.type(ticket["token"])  # the same ticket again: refused, in Tibetan
    await page.keyboard.press("Enter")
    await expect(answer).to_have_attribute("data-reason", "already_redeemed")
    await expect(page.get_by_test_id("answer-local")).to_have_text("འཛུལ་ཤོག་འདི་དེ་རིང་འཛུལ་ཟིན།")
    await expect(page.get_by_test_id("recent-item").first).to_contain_text("འཛུལ་ཤོག་འདི་དེ་རིང་འཛུལ་ཟིན།")
