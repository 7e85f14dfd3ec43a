"""The organisers' gate devices page in headless Chromium: add a device, hand its link to a
gate phone as a QR code, revoke it."""

import io
import re
from typing import Any

import zxingcpp
from PIL import Image
from playwright.async_api import Page, expect

from events.access.models import Role
from events.db.engine import Database
from tests.browser import LiveServer
from tests.conftest import PASSWORD, Client, UserFactory
from tests.ticketing.conftest import scalar


async def sign_in(page: Page, username: str) -> None:
    await expect(page.get_by_test_id("login")).to_be_visible()
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("board")).to_be_visible()


async def test_an_organiser_adds_a_gate_device_hands_over_its_qr_and_revokes_it(
    client: Client,
    festival: dict[str, Any],
    make_user: UserFactory,
    db: Database,
    live_server: LiveServer,
    page: Page,
) -> None:
    organiser = await make_user(Role.ORGANISER)
    east = next(g for g in festival["gates"] if g["code"] == "east")
    await page.goto(f"{live_server.url}/festivals/{festival['id']}/devices")
    await sign_in(page, organiser["username"])
    await expect(page.get_by_test_id("empty")).to_be_visible()

    await page.get_by_test_id("add-submit").click()  # a name is needed
    await expect(page.get_by_test_id("add-error")).to_have_text("请填写设备名称。")
    await page.get_by_test_id("gate").select_option(east["id"])
    await page.get_by_test_id("device-name").fill("东门 1 号手机")
    await page.get_by_test_id("add-submit").click()

    link = page.get_by_test_id("link")
    await expect(link).to_have_text(
        re.compile(rf"^{re.escape(live_server.url)}/scan#token=dev_[\w-]+$")
    )
    url = await link.inner_text()
    token = url.split("#token=", 1)[1]
    qr = page.get_by_test_id("qr-code")
    await expect(qr).to_be_visible()
    image = Image.open(io.BytesIO(await qr.screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]
    devices = page.get_by_test_id("device")
    await expect(devices).to_have_count(1)
    await expect(devices.get_by_test_id("device-state")).to_have_text("使用中")
    await expect(devices.get_by_test_id("device-facts")).to_contain_text("东门 · 创建于")

    await page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.url
    )
    await page.get_by_test_id("copy").click()
    await expect(page.get_by_test_id("copied")).to_have_text("已复制。")
    assert await page.evaluate("navigator.clipboard.readText()") == url

    # The gate phone opens the link: the scanner asks who it is and shows its gate.
    phone = await page.context.new_page()
    async with phone.expect_response(lambda r: "/api/v1/devices/me" in r.url) as answer:
        await phone.goto(url)
    assert (await answer.value).status == 200
    await expect(phone.get_by_test_id("scanner")).to_have_attribute("data-state", "ready")
    await expect(phone.get_by_test_id("gate-name")).to_contain_text(east["name_zh"])
    await phone.close()

    # The link is shown once: "Done" removes it, and a reload does not bring it back.
    await page.get_by_test_id("created-done").click()
    await expect(page.get_by_test_id("created")).to_be_hidden()
    assert await link.inner_text() == ""
    await page.reload()
    await expect(devices).to_have_count(1)
    await expect(page.get_by_test_id("created")).to_be_hidden()
    assert token not in await page.content()

    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.get_by_test_id("revoke").click()
    await expect(devices).to_have_attribute("data-state", "active")
    assert await scalar(db, "SELECT revoked_at FROM device") is None
    messages: list[str] = []

    async def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.get_by_test_id("revoke").click()
    await expect(devices).to_have_attribute("data-state", "revoked")
    await expect(devices.get_by_test_id("device-state")).to_have_text("已停用")
    await expect(devices.get_by_test_id("device-facts")).to_contain_text("停用于")
    await expect(page.get_by_test_id("revoke")).to_have_count(0)
    assert "东门 1 号手机" in messages[0]
    assert await scalar(db, "SELECT revoked_at FROM device") is not None
    refused = await client.get("/api/v1/devices/me", headers={"Authorization": f"Device {token}"})
    assert refused.status_code == 401

    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('events.organiser.token')") is None


async def test_the_devices_page_renders_in_english_and_is_linked(
    client: Client, festival: dict[str, Any]
) -> None:
    page = await client.get(f"/festivals/{festival['id']}/devices?lang=en")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Gate devices" in page.text
    for gate in festival["gates"]:
        assert f'<option value="{gate["id"]}">{gate["name_en"]}</option>' in page.text
    missing = await client.get("/festivals/nope/devices?lang=zh")
    assert missing.status_code == 404
    assert "找不到该活动" in missing.text
    devices = f'href="/festivals/{festival["id"]}/devices"'
    assert devices in (await client.get("/?lang=en")).text
    assert devices in (await client.get(f"/festivals/{festival['id']}/attendance")).text
