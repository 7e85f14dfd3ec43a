"""Gate devices and attendance in the console: a gate account gets its scanner link,
organisers see each device's last scan and scans today, and revoke it."""

import re
from typing import Any

from playwright.async_api import Page, expect
from sqlmodel import select

from events.access.models import Device, Role
from events.db.engine import Database
from tests.browser import LiveServer
from tests.conftest import Client
from tests.console.conftest import SignInAs, StaffFactory, console_sign_in, csrf_of


async def test_a_gate_account_creates_its_device_and_gets_the_scanner_link(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.GATE)
    await tablet.get_by_test_id(f"open-{festival['slug']}").click()  # lands on devices
    await expect(tablet.get_by_role("heading", level=1)).to_have_text("检票设备")
    form = tablet.get_by_test_id("device-form")
    await form.get_by_label("设备名称").fill("   ")
    await form.get_by_test_id("device-submit").click()  # a blank name: refused next to it
    await expect(tablet.get_by_test_id("error-name")).to_be_visible()
    east = next(g for g in festival["gates"] if g["code"] == "east")
    await form.get_by_label("入口").select_option(east["id"])
    await form.get_by_label("设备名称").fill("东门 1 号手机")
    await form.get_by_test_id("device-submit").click()

    link = tablet.get_by_test_id("device-link")
    await expect(link).to_have_text(
        re.compile(rf"^{re.escape(live_server.url)}/scan#token=dev_[\w-]+$")
    )
    await expect(tablet.get_by_test_id("qr-code")).to_be_visible()
    await expect(tablet.get_by_test_id("device-row")).to_have_count(1)
    await expect(tablet.get_by_test_id("device-revoke")).to_have_count(0)  # organisers only
    async with db.session_factory() as session:
        device = (await session.exec(select(Device))).one()
    assert (device.name, str(device.gate_id)) == ("东门 1 号手机", east["id"])
    # the link's token is the device's (only its hash is stored)
    from events.access.security import hash_device_token

    assert hash_device_token((await link.inner_text()).split("#token=")[1]) == device.token_hash

    await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}/devices")
    await expect(tablet.get_by_test_id("device-link")).to_have_count(0)  # shown only once


async def test_organisers_see_scans_today_and_revoke_a_device(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    east = next(g for g in festival["gates"] if g["code"] == "east")
    made = (
        await client.post(
            f"/api/v1/festivals/{festival['id']}/devices",
            headers=organiser,
            json={"gate_id": east["id"], "name": "east-1"},
        )
    ).json()
    for n in range(2):
        scan = await client.post(
            "/api/v1/checkin/scan",
            headers={"Authorization": made["authorization"]},
            json={"secret": "not-a-ticket", "nonce": f"n-{n}"},
        )
        assert scan.status_code == 200, scan.text
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/devices"
    page = await client.get(url)
    assert re.search(r'data-testid="device-scans-today">2<', page.text)
    assert 'data-testid="device-last-seen">从未' not in page.text

    revoked = await client.post(
        f"{url}/{made['device_id']}/revoke", data={"_csrf_token": csrf_of(page.text)}
    )
    assert revoked.status_code == 303
    async with db.session_factory() as session:
        assert (await session.exec(select(Device))).one().revoked_at is not None
    scan = await client.post(
        "/api/v1/checkin/scan",
        headers={"Authorization": made["authorization"]},
        json={"secret": "not-a-ticket", "nonce": "n-9"},
    )
    assert scan.status_code == 401
    assert token


async def test_gate_staff_may_not_revoke(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    east = next(g for g in festival["gates"] if g["code"] == "east")
    made = (
        await client.post(
            f"/api/v1/festivals/{festival['id']}/devices",
            headers=organiser,
            json={"gate_id": east["id"], "name": "east-1"},
        )
    ).json()
    token = await console_sign_in(client, await make_staff(Role.GATE))
    response = await client.post(
        f"/console/festivals/{festival['id']}/devices/{made['device_id']}/revoke",
        data={"_csrf_token": token},
    )
    assert response.status_code == 403
    async with db.session_factory() as session:
        assert (await session.exec(select(Device))).one().revoked_at is None
    attendance = await client.get(f"/console/festivals/{festival['id']}/attendance")
    assert attendance.status_code == 403


async def test_the_attendance_page_shows_the_day(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory
) -> None:
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(f"/console/festivals/{festival['id']}/attendance?lang=en")
    assert page.status_code == 200
    assert 'data-testid="admitted">0<' in page.text
    assert 'hx-trigger="every 30s"' in page.text


async def test_organisers_add_staff_accounts(
    client: Client, make_staff: StaffFactory, db: Database
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    short = await client.post(
        "/console/people",
        data={"_csrf_token": token, "username": "gate-east", "password": "short", "role": "gate"},
    )
    assert short.status_code == 422
    assert 'data-testid="error-password"' in short.text
    assert 'value="gate-east"' in short.text
    assert 'value="short"' not in short.text  # a password is never written back
    made = await client.post(
        "/console/people",
        data={
            "_csrf_token": token,
            "username": "gate-east",
            "password": "long enough pw",
            "role": "gate",
            "display_name": "东门",
        },
    )
    assert made.status_code == 303
    listed = await client.get("/console/people?role=gate")
    assert 'data-username="gate-east"' in listed.text
    again = await client.post(
        "/console/people",
        data={
            "_csrf_token": token,
            "username": "GATE-east",
            "password": "long enough pw",
            "role": "gate",
        },
    )
    assert again.status_code == 422
    assert 'data-code="username_taken"' in again.text
