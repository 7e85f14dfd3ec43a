"""The gate scanner and the attendance page in headless Chromium.

The server's check-in clock is set with ``on_day`` (it patches the module the live server
runs too); the page's clock is set to the same moment with Playwright's ``page.clock``, so
the phone's own offline date check sees the festival day.
"""

import datetime as dt
import io
from pathlib import Path
from typing import Any

import qrcode
import sqlalchemy as sa
from PIL import Image
from playwright.async_api import Page, Route, expect

from events.access.models import Role
from events.checkin.pages import default_day
from events.db.engine import Database
from tests.browser import CHROMIUM_ARGS, LiveServer, chromium_path
from tests.checkin.conftest import Gate, scan, tickets_of
from tests.conftest import PASSWORD, Client, UserFactory
from tests.ticketing.conftest import Catalog, scalar

# docs/tickets.md, "Test vector"
VECTOR_TOKEN = (
    "AEAAO7BPRMPD2SSLNSHJ6CQ3FQ6U4XYAAEBACASRZBJBXD7L7UTXZOXHNEWBSWWRMFZNPTWFVVDL4GM7"
    "CDW27PSX4DATJP5HNFLQEGKULM67HMLJEZATOOBYSD7ALECVII7WC7O4PB6P2AICPEFQ"
)
VECTOR_KEYS = {
    "festival_id": "0f5e6a52-6a0b-4c1e-9d55-2a3c6c0d7e01",
    "keys": [{"kid": 7, "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="}],
}


def device_token(gate: Gate) -> str:
    return gate.headers["Authorization"].removeprefix("Device ")


async def open_scanner(
    page: Page, live_server: LiveServer, gate: Gate, moment: dt.datetime
) -> None:
    """The phone's clock at ``moment``; the device set up from an organiser's link."""
    await page.clock.set_fixed_time(moment)
    await page.goto(f"{live_server.url}/scan#token={device_token(gate)}")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-keys", "ready")


async def read(page: Page, code: str) -> None:
    """A handheld scanner: the code typed into whatever has focus, then Enter."""
    answer = page.get_by_test_id("answer")
    before = int(await answer.get_attribute("data-seq") or 0)
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")
    await expect(answer).to_have_attribute("data-seq", str(before + 1))


async def offline_scans(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.text(
                        "SELECT ticket_id::text AS ticket_id, raw, result, reason, conflict FROM "
                        "checkin_scan "
                        "WHERE offline ORDER BY client_time, id"
                    )
                )
            ).all()
        )


async def test_a_gate_phone_admits_refuses_goes_offline_and_uploads_when_back(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    festival: dict[str, Any],
    on_day: Any,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    first, second = await tickets_of(client, catalog, catalog.day1, 2)
    gate = next(g for g in festival["gates"] if g["id"] == gates[0].id)
    await open_scanner(page, live_server, gates[0], moment)
    await expect(page.get_by_test_id("gate-name")).to_contain_text(gate["name_zh"])
    assert "token" not in page.url  # the device token does not stay in the address bar
    answer = page.get_by_test_id("answer")

    await read(page, first["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(answer).to_have_attribute("data-offline", "false")
    await expect(page.get_by_test_id("answer-zh")).to_have_text("请通行")
    await expect(page.get_by_test_id("answer-en")).to_have_text("Welcome, go ahead")

    await read(page, first["token"])  # the next scan replaces the panel
    await expect(answer).to_have_attribute("data-status", "error")
    await expect(answer).to_have_attribute("data-reason", "already_redeemed")
    await expect(page.get_by_test_id("answer-en")).to_have_text(
        f"Already entered today at 10:00 via {gate['name_en']}"
    )
    await expect(page.get_by_test_id("answer-detail")).to_contain_text(gate["name_zh"])
    await answer.click()  # a tap dismisses it
    await expect(answer).to_be_hidden()

    await page.context.set_offline(True)
    banner = page.get_by_test_id("offline-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("OFFLINE")
    await read(page, second["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(answer).to_have_attribute("data-offline", "true")
    await expect(page.get_by_test_id("answer-offline")).to_be_visible()
    await expect(page.get_by_test_id("queue-text")).to_have_attribute("data-count", "1")
    await expect(banner).to_contain_text("待上传 1 条")
    # Offline, the phone remembers what it admitted online: no second entry.
    await read(page, first["token"])
    await expect(answer).to_have_attribute("data-reason", "already_redeemed")
    await expect(answer).to_have_attribute("data-offline", "true")
    await expect(page.get_by_test_id("queue-text")).to_have_attribute("data-count", "2")
    assert await offline_scans(db) == []

    await page.context.set_offline(False)
    await expect(banner).to_be_hidden(timeout=10_000)
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-queue", "0")
    rows = {r.ticket_id: r for r in await offline_scans(db)}  # recorded in time order
    assert {(r.ticket_id, r.result, r.reason, r.conflict) for r in rows.values()} == {
        (second["id"], "ok", None, False),
        (first["id"], "error", "already_redeemed", False),
    }
    assert rows[first["id"]].raw is None  # a genuine ticket the phone refused: by its id
    assert (
        await scalar(
            db, "SELECT COUNT(*) FROM checkin_presence WHERE ticket_id = :t", t=second["id"]
        )
        == 1
    )
    assert await page.evaluate("localStorage.getItem('events.scanner.queue')") == "[]"


async def test_a_scan_without_an_answer_is_retried_with_its_nonce_then_decided_offline(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 10)
    lost, busy, cut_off = await tickets_of(client, catalog, catalog.day1, 3)
    await open_scanner(page, live_server, gates[0], moment)
    sent: list[dict[str, Any]] = []

    async def lose_the_first_answer(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            await route.fetch()  # the server decides and records; the answer is lost
            await route.abort("connectionreset")
        elif len(sent) == 3:
            await route.fulfill(status=503, json={"code": "unavailable"})
        else:
            await route.continue_()

    await page.route("**/api/v1/checkin/scan", lose_the_first_answer)
    answer = page.get_by_test_id("answer")
    await read(page, lost["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(answer).to_have_attribute("data-offline", "false")
    assert sent[0]["nonce"] == sent[1]["nonce"]  # the retry replays the stored answer
    await read(page, busy["token"])
    await expect(answer).to_have_attribute("data-status", "ok")
    assert len(sent) == 4
    assert sent[2]["nonce"] == sent[3]["nonce"] != sent[0]["nonce"]
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 2

    # No answer at all within 2.5 s: the phone decides by itself and queues the scan.
    await page.unroute("**/api/v1/checkin/scan")
    await page.route("**/api/v1/checkin/scan", lambda route: route.abort("timedout"))
    await read(page, cut_off["token"])
    await expect(answer).to_have_attribute("data-offline", "true")
    await expect(answer).to_have_attribute("data-status", "ok")
    await expect(page.get_by_test_id("offline-banner")).to_be_visible()
    await page.unroute("**/api/v1/checkin/scan")
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.get_by_test_id("offline-banner")).to_be_hidden(timeout=10_000)
    assert [(r.ticket_id, r.result) for r in await offline_scans(db)] == [(cut_off["id"], "ok")]


async def test_an_offline_admission_of_a_ticket_already_in_is_shown_as_a_conflict(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    festival: dict[str, Any],
    on_day: Any,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 11)
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    await open_scanner(page, live_server, gates[0], moment)
    await page.context.set_offline(True)
    await expect(page.get_by_test_id("offline-banner")).to_be_visible()
    # Meanwhile the same ticket enters through the other gate, online.
    assert (await scan(client, gates[1], ticket["token"]))["status"] == "ok"
    await read(page, ticket["token"])
    await expect(page.get_by_test_id("answer")).to_have_attribute("data-status", "ok")
    await page.get_by_test_id("answer").click()
    await page.context.set_offline(False)
    conflicts = page.get_by_test_id("conflicts")
    await expect(conflicts).to_be_visible(timeout=10_000)
    other = next(g for g in festival["gates"] if g["id"] == gates[1].id)
    await expect(conflicts).to_contain_text(f"11:00 从{other['name_zh']}入场")
    assert [(r.ticket_id, r.conflict) for r in await offline_scans(db)] == [(ticket["id"], True)]


async def test_offline_the_phone_refuses_canceled_wrong_day_and_forged_codes(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    moment = on_day(catalog.days[0]["date"], 9, 30)
    refunded, good = await tickets_of(client, catalog, catalog.day1, 2)
    tomorrow = (await tickets_of(client, catalog, catalog.day2))[0]
    response = await client.post(
        f"/api/v1/tickets/{refunded['id']}/refund",
        headers=organiser,
        json={"reason": "changed plans"},
    )
    assert response.status_code == 200, response.text
    await open_scanner(page, live_server, gates[0], moment)
    await page.context.set_offline(True)
    await expect(page.get_by_test_id("offline-banner")).to_be_visible()
    answer = page.get_by_test_id("answer")
    forged = good["token"][:-4] + ("AAAA" if not good["token"].endswith("AAAA") else "BBBB")
    for code, reason in [
        (refunded["token"], "canceled"),
        (tomorrow["token"], "wrong_day"),
        (forged, "invalid"),
        ("not a ticket", "invalid"),
    ]:
        await read(page, code)
        await expect(answer).to_have_attribute("data-status", "error")
        await expect(answer).to_have_attribute("data-reason", reason)
    await answer.click()
    await page.get_by_test_id("kind-exit").click()
    await read(page, good["token"])
    await expect(page.get_by_test_id("answer-en")).to_have_text("Exit recorded")
    await expect(page.get_by_test_id("queue-text")).to_have_attribute("data-count", "5")
    await page.context.set_offline(False)
    await expect(page.get_by_test_id("offline-banner")).to_be_hidden(timeout=10_000)
    rows = await offline_scans(db)
    assert sorted(r.reason or "exit" for r in rows) == [
        "canceled",
        "exit",
        "invalid",
        "invalid",
        "wrong_day",
    ]
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_presence") == 0


async def test_the_offline_verifier_checks_the_test_vector_with_webcrypto_and_noble(
    client: Client, live_server: LiveServer, page: Page
) -> None:
    await page.goto(f"{live_server.url}/scan")
    await expect(page.get_by_test_id("setup")).to_be_visible()
    assert await page.evaluate("window.eventsScanner.engine()") == "webcrypto"
    tampered = VECTOR_TOKEN[:-8] + ("A" * 8 if not VECTOR_TOKEN.endswith("A" * 8) else "B" * 8)
    for engine in ("webcrypto", "noble"):
        claims = await page.evaluate(
            "([token, keys, engine]) => window.eventsScanner.verifyToken(token, keys, engine)",
            [VECTOR_TOKEN, VECTOR_KEYS, engine],
        )
        assert claims["ticketId"] == "7c2f8b1e-3d4a-4b6c-8e9f-0a1b2c3d4e5f", engine
        assert (claims["kid"], claims["serial"], claims["enclosure"], claims["flags"]) == (
            7,
            1,
            2,
            1,
        )
        assert claims["days"] == [20936, 21019]
        refused = await page.evaluate(
            "([token, keys, engine]) => window.eventsScanner.verifyToken(token, keys, engine)",
            [tampered, VECTOR_KEYS, engine],
        )
        assert refused == "bad_signature", engine
    unknown = await page.evaluate(
        "([token, keys]) => window.eventsScanner.verifyToken(token, keys)",
        [VECTOR_TOKEN, {**VECTOR_KEYS, "keys": []}],
    )
    assert unknown == "unknown_key"


async def test_setting_up_by_pasting_a_token_and_forgetting_the_device(
    client: Client, gates: list[Gate], live_server: LiveServer, page: Page
) -> None:
    await page.goto(f"{live_server.url}/scan?lang=en")
    await page.get_by_test_id("device-token").fill("dev_not-a-real-token")
    await page.get_by_test_id("device-save").click()
    await expect(page.get_by_test_id("setup-error")).to_have_text(
        "This device token is not valid or was revoked."
    )
    await page.get_by_test_id("device-token").fill(gates[1].headers["Authorization"])
    await page.get_by_test_id("device-save").click()
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("gate-name")).to_contain_text(gates[1].name_en)
    await expect(page.get_by_test_id("wedge")).to_be_focused()
    await page.reload()  # kept on the phone
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await page.get_by_test_id("device-settings").locator("summary").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_test_id("forget").click()
    await expect(page.get_by_test_id("setup")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('events.scanner.token')") is None
    # An organiser's link opened while the page is open (only the #fragment changes).
    await page.goto(f"{live_server.url}/scan?lang=en#token={device_token(gates[0])}")
    await expect(page.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("gate-name")).to_contain_text(gates[0].name_en)


def qr_video(path: Path, text: str) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) of a QR code on white."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(text)
    qr = code.make_image().get_image().convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (320 * 240)
    buffer = io.BytesIO()
    buffer.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
    for _ in range(5):
        buffer.write(b"FRAME\n" + luma + chroma + chroma)
    path.write_bytes(buffer.getvalue())
    return path


async def test_the_camera_reads_a_ticket_with_jsqr(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    tmp_path: Path,
    live_server: LiveServer,
) -> None:
    from playwright.async_api import async_playwright

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
        context = await browser.new_context(
            viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        await context.grant_permissions(["camera"])
        page = await context.new_page()
        await open_scanner(page, live_server, gates[0], moment)
        await page.get_by_test_id("camera-toggle").click()
        await expect(page.get_by_test_id("camera")).to_have_attribute("data-detector", "jsqr")
        answer = page.get_by_test_id("answer")
        await expect(answer).to_have_attribute("data-status", "ok", timeout=10_000)
        # The code stays in front of the camera: it is not scanned again.
        await page.wait_for_timeout(1000)
        assert await answer.get_attribute("data-seq") == "1"
        await browser.close()


async def test_the_attendance_page_signs_in_and_shows_the_figures(
    client: Client,
    catalog: Catalog,
    gates: list[Gate],
    festival: dict[str, Any],
    on_day: Any,
    make_user: UserFactory,
    live_server: LiveServer,
    page: Page,
) -> None:
    day = catalog.days[0]["date"]
    tickets = await tickets_of(client, catalog, catalog.day1, 3)
    on_day(day, 9, 1)
    await scan(client, gates[0], tickets[0]["token"])
    await scan(client, gates[0], tickets[0]["token"])  # refused: already in
    on_day(day, 9, 12)
    await scan(client, gates[1], tickets[1]["token"])
    await scan(client, gates[1], tickets[2]["token"])
    await scan(client, gates[1], tickets[2]["token"], kind="exit")
    owner = await make_user(Role.OWNER)
    organiser = await make_user(Role.ORGANISER)

    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/attendance?day={day}")
    await expect(page.get_by_test_id("login")).to_be_visible()
    await page.get_by_test_id("username").fill(owner["username"])
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("需要主办方账号。")
    await page.get_by_test_id("username").fill(organiser["username"])
    await page.get_by_test_id("password").fill("wrong password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误。")
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()

    await expect(page.get_by_test_id("admitted")).to_have_text("3")
    await expect(page.get_by_test_id("inside-now")).to_have_text("2")
    await expect(page.get_by_test_id("refused")).to_have_text("1")
    await expect(page.get_by_test_id("conflicts")).to_have_text("0")
    await expect(page.get_by_test_id("scans")).to_have_text("5")
    shown = dt.date.fromisoformat(day)
    await expect(page.get_by_test_id("shown-day")).to_contain_text(f"{shown.month}/{shown.day}")
    names = {g["id"]: g["name_zh"] for g in festival["gates"]}
    await expect(page.get_by_test_id("by-gate").locator("tr")).to_have_text(
        [f"{names[gates[1].id]}2", f"{names[gates[0].id]}1"]
    )
    await expect(page.get_by_test_id("by-enclosure").locator("tr")).to_have_text(["草原观赛区32"])
    bars = page.get_by_test_id("arrivals-chart").locator("rect.bar")
    assert [await b.get_attribute("data-count") for b in await bars.all()] == ["1", "2"]
    await expect(page.locator(f'[data-day="{day}"]')).to_have_attribute("aria-pressed", "true")

    # Another day: nobody yet. The sign-in is kept for the tab.
    await page.locator(f'[data-day="{catalog.days[1]["date"]}"]').click()
    await expect(page.get_by_test_id("admitted")).to_have_text("0")
    await expect(page.get_by_test_id("arrivals")).to_contain_text("这一天还没有人入场。")
    await page.reload()
    await expect(page.get_by_test_id("board")).to_be_visible()
    await expect(page.locator(f'[data-day="{catalog.days[1]["date"]}"]')).to_have_attribute(
        "aria-pressed", "true"
    )


async def test_the_pages_render_and_an_unknown_festival_is_a_404(client: Client) -> None:
    scanner = await client.get("/scan?lang=en")
    assert scanner.status_code == 200
    assert "Set up this gate device" in scanner.text
    assert scanner.headers["cache-control"] == "no-store"
    missing = await client.get("/festivals/nope/attendance?lang=zh")
    assert missing.status_code == 404
    assert "找不到该活动" in missing.text


def test_the_default_day_is_today_else_the_nearest_festival_day() -> None:
    days = [dt.date(2027, 4, 28), dt.date(2027, 4, 29), dt.date(2027, 7, 20)]
    assert default_day(days, dt.date(2027, 4, 29)) == dt.date(2027, 4, 29)
    assert default_day(days, dt.date(2027, 5, 10)) == dt.date(2027, 4, 29)
    assert default_day(days, dt.date(2027, 7, 15)) == dt.date(2027, 7, 20)  # 5 days ahead
    assert default_day(days, dt.date(2027, 1, 1)) == dt.date(2027, 4, 28)
    assert default_day([dt.date(2027, 7, 1), dt.date(2027, 7, 3)], dt.date(2027, 7, 2)) == (
        dt.date(2027, 7, 1)
    )  # as near either way: the earlier
    assert default_day([], dt.date(2027, 1, 1)) is None
