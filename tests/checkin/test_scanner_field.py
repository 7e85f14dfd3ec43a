"""The gate scanner as a steward meets it on the second day, in Chromium at 390×844: no
WebCrypto Ed25519, a camera first started offline, a reload without network, answers that
cannot be mistaken, a device not forgotten by accident, and accessible public pages."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, Page, async_playwright, expect

from events.access.models import Role
from events.db.engine import Database
from tests.browser import CHROMIUM_ARGS, LiveServer, chromium_path
from tests.checkin.conftest import Gate, scan, tickets_of
from tests.checkin.test_scanner_page import offline_scans, open_scanner, qr_video, read
from tests.conftest import PASSWORD, Client, UserFactory
from tests.ticketing.conftest import Catalog

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
AXE = Path(__file__).parents[2] / "src/events/web/js/node_modules/axe-core/axe.min.js"
# What an older Android WebView does: no Ed25519 in WebCrypto.
NO_WEBCRYPTO_ED25519 = """
const importKey = crypto.subtle.importKey.bind(crypto.subtle);
crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
  (algorithm === "Ed25519" || algorithm?.name === "Ed25519")
    ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
    : importKey(format, data, algorithm, ...rest);
"""


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(**PHONE)
    tab = await context.new_page()
    yield tab
    await context.close()


async def offline_copy_ready(page: Page, *urls: str) -> None:
    """The service worker controls the page and keeps ``urls`` (and the page itself)."""
    await expect(page.locator("html")).to_have_attribute(
        "data-offline-ready", "true", timeout=10_000
    )
    await page.wait_for_function(
        """async urls => {
        const cache = await caches.open("events-offline-v1");
        for (const url of [location.href.split("#")[0], ...urls]) {
            if (!(await cache.match(url))) return false;
        }
        return navigator.serviceWorker.controller !== null;
    }""",
        arg=list(urls),
        timeout=10_000,
        polling=200,
    )


async def test_without_webcrypto_ed25519_a_genuine_ticket_is_green_offline(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    live_server: LiveServer,
    phone: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    good, second = await tickets_of(client, catalog, catalog.day1, 2)
    await phone.add_init_script(NO_WEBCRYPTO_ED25519)
    await open_scanner(phone, live_server, gates[0], moment)
    assert await phone.evaluate("window.eventsScanner.engine()") == "noble"
    # Loaded while online and kept: nothing is fetched when the check is needed.
    await expect(phone.get_by_test_id("scanner")).to_have_attribute("data-tools", "ready")
    await phone.context.set_offline(True)
    await expect(phone.get_by_test_id("offline-banner")).to_be_visible()
    answer = phone.get_by_test_id("answer")
    for ticket in (good, second):
        await read(phone, ticket["token"])
        await expect(answer).to_have_attribute("data-status", "ok")
        await expect(answer).to_have_attribute("data-offline", "true")
    forged = good["token"][:-4] + ("AAAA" if not good["token"].endswith("AAAA") else "BBBB")
    await read(phone, forged)
    await expect(answer).to_have_attribute("data-reason", "invalid")


async def test_the_camera_starts_offline_on_a_page_that_never_used_it_online(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    tmp_path: Path,
    live_server: LiveServer,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    clip = qr_video(tmp_path / "qr.y4m", ticket["token"])
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={clip}",
            ],
        )
        context = await browser.new_context(**PHONE)
        await context.grant_permissions(["camera"])
        page = await context.new_page()
        await open_scanner(page, live_server, gates[0], moment)
        await expect(page.get_by_test_id("scanner")).to_have_attribute("data-tools", "ready")
        await context.set_offline(True)
        await expect(page.get_by_test_id("offline-banner")).to_be_visible()
        await page.get_by_test_id("camera-toggle").click()
        await expect(page.get_by_test_id("camera")).to_have_attribute("data-detector", "jsqr")
        answer = page.get_by_test_id("answer")
        await expect(answer).to_have_attribute("data-status", "ok", timeout=10_000)
        await expect(answer).to_have_attribute("data-offline", "true")
        assert await page.get_by_test_id("camera-error").text_content() == ""
        await browser.close()


async def test_the_scanner_and_an_order_page_reload_without_network(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
    live_server: LiveServer,
    phone: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    first = (await tickets_of(client, catalog, catalog.day1))[0]
    await open_scanner(phone, live_server, gates[0], moment)
    await offline_copy_ready(
        phone,
        "/static/scanner.js",
        "/static/checkin-decision.js",
        "/static/vendor/jsQR.js",
        "/static/vendor/noble-ed25519.js",
    )
    await phone.context.set_offline(True)
    await phone.reload()
    await expect(phone.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(phone.get_by_test_id("offline-banner")).to_be_visible()
    await read(phone, first["token"])
    answer = phone.get_by_test_id("answer")
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(answer).to_have_attribute("data-offline", "true")
    await expect(phone.get_by_test_id("queue-text")).to_have_attribute("data-count", "1")
    assert await offline_scans(db) == []
    await phone.context.set_offline(False)
    await expect(phone.get_by_test_id("offline-banner")).to_be_hidden(timeout=15_000)
    # Back online, the scan queued after the offline reload is uploaded and stored.
    await expect(phone.get_by_test_id("scanner")).to_have_attribute(
        "data-queue", "0", timeout=15_000
    )
    [uploaded] = await offline_scans(db)
    assert (uploaded.ticket_id, uploaded.result) == (first["id"], "ok")

    # A spectator's order page, opened once with signal, shows its QR codes without.
    spectator = await phone.context.new_page()
    link = await order_link(client, catalog)
    await spectator.goto(f"{live_server.url}{link}")
    qr = spectator.get_by_test_id("qr")
    await expect(qr).to_have_count(1)
    await expect(qr).to_have_js_property("complete", True)
    src = await qr.get_attribute("src")
    assert src is not None
    await offline_copy_ready(spectator, src)
    await phone.context.set_offline(True)
    await spectator.reload()
    await expect(spectator.get_by_test_id("ticket")).to_have_count(1)
    await expect(qr).to_have_js_property("complete", True)
    assert await qr.evaluate("img => img.naturalWidth") > 0


async def order_link(client: Client, catalog: Catalog) -> str:
    """A new paid order of one ticket: its page's path with the access token."""
    from tests.ticketing.conftest import buy, pay

    placed = await buy(client, catalog, [(catalog.day1, 1)])
    await pay(client, placed)
    return f"/orders/{placed['order_id']}?access_token={placed['access_token']}"


async def test_answers_differ_green_clears_itself_and_red_waits(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    live_server: LiveServer,
    phone: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    first, second = await tickets_of(client, catalog, catalog.day1, 2)
    await open_scanner(phone, live_server, gates[0], moment)
    await phone.get_by_test_id("device-settings").locator("summary").click()
    await phone.get_by_test_id("clear-after").select_option("0")  # the steward's choice
    answer = phone.get_by_test_id("answer")
    await read(phone, first["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    one_text = await phone.get_by_test_id("answer-ref").text_content()
    one = await answer.screenshot()
    await read(phone, second["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    two_text = await phone.get_by_test_id("answer-ref").text_content()
    two = await answer.screenshot()
    assert one_text
    assert two_text
    assert one_text != two_text
    assert one_text.startswith("#1 · ")
    assert two_text.startswith("#2 · ")
    assert first["id"].replace("-", "")[:8].upper() in one_text
    assert second["id"].replace("-", "")[:8].upper() in two_text
    assert one != two  # visibly different, not only in the DOM

    await answer.click()
    await phone.get_by_test_id("clear-after").select_option("2000")
    await read(phone, first["token"])  # red: already in; stays until tapped
    await expect(answer).to_have_attribute("data-status", "error")
    await expect(phone.get_by_test_id("answer-dismiss")).to_contain_text("Tap to dismiss")
    third = (await tickets_of(client, catalog, catalog.day1))[0]
    await answer.click()
    await read(phone, third["token"])  # green: clears by itself
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(answer).to_be_hidden(timeout=6000)
    await read(phone, first["token"])
    await expect(answer).to_have_attribute("data-status", "error")
    await phone.wait_for_timeout(2500)  # longer than green's 2 s: red is still shown
    await expect(answer).to_be_visible()


async def test_forgetting_the_device_asks_first(
    client: Client, gates: list[Gate], live_server: LiveServer, phone: Page
) -> None:
    await phone.goto(
        f"{live_server.url}/scan?lang=en#token="
        f"{gates[0].headers['Authorization'].removeprefix('Device ')}"
    )
    await expect(phone.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    forget = phone.get_by_test_id("forget")
    await expect(forget).to_be_hidden()  # folded away below everything else
    await phone.get_by_test_id("device-settings").locator("summary").click()
    asked: list[str] = []

    async def say_no(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    phone.once("dialog", say_no)
    await forget.click()
    await expect(phone.get_by_test_id("station")).to_be_visible()
    assert asked
    assert "Forget this device?" in asked[0]
    assert await phone.evaluate("localStorage.getItem('events.scanner.token')") is not None

    async def say_yes(dialog: Dialog) -> None:
        await dialog.accept()

    phone.once("dialog", say_yes)
    await forget.click()
    await expect(phone.get_by_test_id("setup")).to_be_visible()
    assert await phone.evaluate("localStorage.getItem('events.scanner.token')") is None


async def test_conflicts_are_counted_apart_from_refusals_and_name_the_ticket(
    client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, organiser: dict[str, str]
) -> None:
    on_day(catalog.days[0]["date"], 12)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    assert (await scan(client, gates[0], ticket["token"]))["status"] == "ok"
    assert (await scan(client, gates[0], ticket["token"]))["status"] == "error"  # refused
    day = catalog.days[0]["date"]
    synced = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[1].headers,
        json={
            "scans": [
                {"secret": ticket["token"], "nonce": "c-1", "scanned_at": f"{day}T11:00:00+08:00"}
            ]
        },
    )
    assert synced.json()["conflicts"] == 1
    body = (
        await client.get(
            f"/api/v1/festivals/{catalog.festival_id}/attendance",
            headers=organiser,
            params={"day": day},
        )
    ).json()
    assert (body["refused"], body["conflicts"]) == (1, 1)
    (conflict,) = body["conflict_scans"]
    assert conflict["ticket_id"] == ticket["id"]
    assert conflict["ticket_ref"] == ticket["id"].replace("-", "")[:8].upper()
    assert conflict["gate_id"] == gates[1].id


async def axe(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    assert AXE.exists(), "axe-core is missing: run `make assets`"
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("""async () => {
        const r = await axe.run(document);
        if (!r.passes.length) throw new Error("axe checked nothing");
        return r.violations.map(v => ({id: v.id, impact: v.impact,
                                       nodes: v.nodes.map(n => n.target.join(" "))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def test_axe_finds_no_serious_violation_on_the_public_pages(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    festival: dict[str, Any],
    on_day: Any,
    live_server: LiveServer,
    phone: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    link = await order_link(client, catalog)
    base = live_server.url
    found: dict[str, list[dict[str, Any]]] = {}
    for lang in ("zh", "en"):
        for path in [
            "/",
            f"/festivals/{festival['id']}/tickets",
            link,
            "/owners/signup",
            f"/festivals/{festival['id']}/attendance",
            "/scan",
        ]:
            url = f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"
            await phone.goto(url)
            await phone.wait_for_load_state("networkidle")
            found[url] = await axe(phone)
    # The scanning screen itself, and a green and a red answer on it.
    await open_scanner(phone, live_server, gates[0], moment)
    found["station"] = await axe(phone)
    await read(phone, ticket["token"])
    await expect(phone.get_by_test_id("answer")).to_have_attribute("data-status", "ok")
    found["green"] = await axe(phone)
    await read(phone, ticket["token"])
    await expect(phone.get_by_test_id("answer")).to_have_attribute("data-status", "error")
    found["red"] = await axe(phone)
    assert {url: v for url, v in found.items() if v} == {}
    # The scanning screen has its heading; the header links are big enough to tap.
    assert await phone.locator("h1").count() >= 1
    await phone.get_by_test_id("answer").click()
    for link_box in [await phone.locator(".bar a").nth(i).bounding_box() for i in range(2)]:
        assert link_box is not None
        assert link_box["height"] >= 40


async def test_the_attendance_page_names_conflicts_and_its_chart_is_accessible(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    festival: dict[str, Any],
    make_user: UserFactory,
    live_server: LiveServer,
    phone: Page,
) -> None:
    day = catalog.days[0]["date"]
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    on_day(day, 12)
    await scan(client, gates[0], ticket["token"])
    await scan(client, gates[0], ticket["token"])  # refused
    synced = await client.post(
        "/api/v1/checkin/sync",
        headers=gates[1].headers,
        json={
            "scans": [
                {"secret": ticket["token"], "nonce": "c-2", "scanned_at": f"{day}T12:05:00+08:00"}
            ]
        },
    )
    assert synced.json()["conflicts"] == 1
    organiser = await make_user(Role.ORGANISER)
    await phone.goto(f"{live_server.url}/festivals/{catalog.festival_id}/attendance?day={day}")
    await phone.get_by_test_id("username").fill(organiser["username"])
    await phone.get_by_test_id("password").fill(PASSWORD)
    await phone.get_by_test_id("login-submit").click()
    await expect(phone.get_by_test_id("refused")).to_have_text("1")
    await expect(phone.get_by_test_id("conflicts")).to_have_text("1")
    ref = ticket["id"].replace("-", "")[:8].upper()
    names = {g["id"]: g["name_zh"] for g in festival["gates"]}
    await expect(phone.get_by_test_id("conflict-scan")).to_have_text(
        [f"票 {ref}：12:05 在{names[gates[1].id]}离线放行，此前已于 12:00 入场"]
    )
    chart = phone.get_by_test_id("arrivals-chart")
    await expect(chart).to_have_attribute(
        "aria-label", "每 10 分钟入场人数柱状图，12:00–13:00，共 1 人"
    )
    assert await axe(phone) == []


async def test_the_guardian_consent_checkbox_is_big_enough_to_tap(
    client: Client, live_server: LiveServer, phone: Page
) -> None:
    await phone.goto(f"{live_server.url}/owners/signup")
    boxes = phone.locator("label.check")
    assert await boxes.count() >= 1
    for i in range(await boxes.count()):
        label = await boxes.nth(i).bounding_box()
        box = await boxes.nth(i).locator("input").bounding_box()
        assert label is not None
        assert box is not None
        assert label["height"] >= 40
        assert box["width"] >= 24


async def test_the_service_worker_is_served_for_the_whole_site(client: Client) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert '"/static/checkin-decision.js"' in response.text
    manifest = await client.get("/static/scanner.webmanifest")
    assert manifest.status_code == 200
    assert manifest.json()["start_url"] == "/scan"
    for icon in manifest.json()["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
