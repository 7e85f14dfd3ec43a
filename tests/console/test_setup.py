"""Festival setup in the console: details (stale forms refused), meetings and days, gates,
enclosures and the gates that admit to them."""

from typing import Any

from playwright.async_api import Page, expect
from sqlmodel import select

from events.access.models import Role
from events.db.engine import Database
from events.festivals.models import Festival, FestivalDay, Gate
from events.ticketing.models import Enclosure, EnclosureGate
from tests.browser import LiveServer
from tests.conftest import Client
from tests.console.conftest import SignInAs, StaffFactory, console_sign_in, csrf_of


async def test_an_organiser_adds_a_gate_and_an_enclosure_it_admits_to(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}")
    await tablet.get_by_test_id("nav-console.nav.setup").click()
    gate_form = tablet.get_by_test_id("gate-form")
    await gate_form.get_by_label("入口代码").fill("west")
    await gate_form.get_by_label("中文名称").fill("西门")
    await gate_form.get_by_label("英文名称").fill("West gate")
    await gate_form.get_by_test_id("gate-submit").click()
    await expect(tablet.locator('[data-testid="gate-row"][data-code="west"]')).to_be_visible()

    enclosure_form = tablet.get_by_test_id("enclosure-form")
    await enclosure_form.get_by_label("场区代码").fill("vip")
    await enclosure_form.get_by_label("中文名称").fill("贵宾区")
    await enclosure_form.get_by_label("英文名称").fill("VIP")
    await enclosure_form.get_by_label("西门").check()
    await enclosure_form.get_by_test_id("enclosure-submit").click()
    row = tablet.locator('[data-testid="enclosure-row"][data-code="vip"]')
    await expect(row.get_by_test_id("enclosure-gate-west")).to_be_checked()
    await expect(row.get_by_test_id("enclosure-gate-east")).not_to_be_checked()

    await row.get_by_test_id("enclosure-gate-east").check()
    await row.get_by_test_id("enclosure-save").click()
    await expect(
        tablet.locator('[data-testid="enclosure-row"][data-code="vip"]').get_by_test_id(
            "enclosure-gate-east"
        )
    ).to_be_checked()
    async with db.session_factory() as session:
        enclosure = (await session.exec(select(Enclosure).where(Enclosure.code == "vip"))).one()
        admitting = {
            g.code
            for g in (
                await session.exec(
                    select(Gate)
                    .join(EnclosureGate, EnclosureGate.gate_id == Gate.id)
                    .where(  # type: ignore[arg-type]
                        EnclosureGate.enclosure_id == enclosure.id
                    )
                )
            ).all()
        }
    assert admitting == {"west", "east"}


async def test_a_meeting_with_a_taken_day_is_refused_next_to_the_days(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory, db: Database
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/setup/meetings"
    taken = festival["meetings"][0]["days"][0]["date"]
    async with db.session_factory() as session:
        before = len((await session.exec(select(FestivalDay))).all())
    response = await client.post(
        url,
        data={
            "_csrf_token": token,
            "name_zh": "秋季赛会",
            "name_en": "Autumn",
            "days": f"2031-09-01\n{taken}",
        },
    )
    assert response.status_code == 422
    assert 'data-testid="error-days"' in response.text
    assert "2031-09-01" in response.text  # what was typed stays
    bad = await client.post(
        url,
        data={
            "_csrf_token": token,
            "name_zh": "秋季赛会",
            "name_en": "Autumn",
            "days": "2031-13-01",
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="error-days"' in bad.text
    good = await client.post(
        url,
        data={
            "_csrf_token": token,
            "name_zh": "秋季赛会",
            "name_en": "Autumn",
            "days": "2031-09-01\n2031-09-02",
        },
    )
    assert good.status_code == 303
    async with db.session_factory() as session:
        assert len((await session.exec(select(FestivalDay))).all()) == before + 2


async def test_stale_festival_details_are_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(f"/console/festivals/{festival['id']}/setup")
    version = page.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    changed = await client.patch(
        f"/api/v1/festivals/{festival['id']}",
        headers=organiser,
        json={"venue_en": "Changed elsewhere"},
    )
    assert changed.status_code == 200, changed.text
    response = await client.post(
        f"/console/festivals/{festival['id']}/setup/details",
        data={
            "_csrf_token": csrf_of(page.text),
            "version": version,
            "name_zh": "新名字",
            "name_en": festival["name_en"],
            "venue_en": "Mine",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 409
    assert 'data-code="stale_form"' in response.text
    async with db.session_factory() as session:
        stored = (await session.exec(select(Festival))).one()
    assert (stored.name_zh, stored.venue_en) == (festival["name_zh"], "Changed elsewhere")
