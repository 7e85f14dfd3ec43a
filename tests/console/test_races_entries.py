# ruff: noqa: F401, F811 - the registration fixtures are imported, then asked for by name
"""Races and entries in the console: add a race (Chromium), a bad race form (the problem
next to its field, nothing saved), find an entry by microchip and withdraw it with the
refund previewed first, refuse an entry with a reason, the entries export and import."""

import uuid
from typing import Any

from playwright.async_api import Page, expect

from events.access.models import Role
from events.db.engine import Database
from events.payments.models import PaymentRefund
from events.registration.models import Entry, Race
from tests.browser import LiveServer
from tests.conftest import FESTIVAL_BODY, Client
from tests.console.conftest import SignInAs, StaffFactory, console_sign_in
from tests.registration.conftest import (
    HorseFactory,
    OwnerFactory,
    RaceFactory,
    add_horse,
    chip,
    complete_payment,
    count_rows,
    make_race,
    rows,
    sign_up,
)


async def paid_entry(
    client: Client,
    festival: dict[str, Any],
    race: dict[str, Any],
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    microchip: str,
) -> dict[str, Any]:
    """An owner's entry in ``race`` with its fee paid (registration 100 + start 200 yuan)."""
    owner = await sign_up()
    horse = await add_horse(owner, microchip=microchip)
    response = await client.post(
        f"/api/v1/festivals/{festival['id']}/entries",
        headers=owner.headers,
        json={"race_id": race["id"], "horse_id": horse["id"], "rider_id": owner.rider_id},
    )
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    await complete_payment(client, entry["payment_id"])
    return entry


async def test_an_organiser_adds_a_race(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}/races")
    form = tablet.get_by_test_id("race-form")
    await form.get_by_label("代码").fill("yak-5k")
    await form.get_by_label("中文名称").fill("牦牛五公里")
    await form.get_by_label("英文名称").fill("Yak 5 km")
    await form.get_by_label("类别").select_option("yak")
    await form.get_by_label("距离（米）").fill("5000")
    await form.locator("#f-field_size").fill("12")
    await form.get_by_label("报名开始").fill("2026-06-01T09:00")
    await form.get_by_label("报名截止").fill("2026-07-01T18:00")
    await form.get_by_label("报名费（元）").fill("50")
    await form.get_by_label("参赛费（元）").fill("150.50")
    await form.get_by_label("马龄下限").fill("4")
    await form.get_by_label("限产地省份（逗号分隔）").fill("西藏, 青海")
    await tablet.get_by_test_id("race-save").click()
    await expect(tablet.get_by_test_id("race-yak-5k")).to_be_visible()

    [race] = await rows(db, Race)
    assert (race.code, race.species, race.distance_m, race.field_size) == (
        "yak-5k",
        "yak",
        5000,
        12,
    )
    assert (race.registration_fee, race.start_fee, race.late_fee) == (5000, 15050, 0)
    assert race.age_min == 4
    assert race.local_provinces == ["QH", "XZ"]
    # 09:00 festival time (Asia/Shanghai) is 01:00 UTC
    assert race.entries_open_at.isoformat() == "2026-06-01T01:00:00+00:00"


async def test_a_bad_race_form_shows_the_problem_next_to_its_field_and_saves_nothing(
    client: Client,
    festival: dict[str, Any],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    day_id = festival["meetings"][0]["days"][0]["id"]
    form = {
        "_csrf_token": token,
        "code": "r1",
        "name_zh": "长跑",
        "name_en": "Long",
        "day_id": day_id,
        "species": "horse",
        "distance_m": "10000",
        "field_size": "10",
        "entries_open_at": "2026-07-01T09:00",
        "entries_close_at": "2026-06-01T09:00",
        "registration_fee": "abc",
    }
    response = await client.post(f"/console/festivals/{festival['id']}/races", data=form)
    assert response.status_code == 422
    assert 'data-testid="error-registration_fee"' in response.text
    assert 'value="abc"' in response.text  # what was typed is kept
    assert await count_rows(db, Race) == 0

    form["registration_fee"] = "100"  # now only the window is wrong: the service says so
    response = await client.post(f"/console/festivals/{festival['id']}/races", data=form)
    assert response.status_code == 422
    assert 'data-testid="error-entries_close_at"' in response.text
    assert 'value="长跑"' in response.text
    assert await count_rows(db, Race) == 0


async def test_an_edited_race_refuses_a_stale_form(
    client: Client,
    festival: dict[str, Any],
    make_staff: StaffFactory,
    make_race: RaceFactory,
    db: Database,
) -> None:
    race = await make_race(field_size=10)
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/races/{race['id']}"
    page = await client.get(url)
    assert page.status_code == 200
    version = page.text.split('name="version" value="')[1].split('"')[0]
    fields = {
        "_csrf_token": token,
        "version": version,
        "name_zh": race["name_zh"],
        "name_en": "Renamed",
        "day_id": race["day_id"],
        "distance_m": "10000",
        "field_size": "20",
        "entries_open_at": "2026-01-01T09:00",
        "entries_close_at": "2026-12-01T09:00",
        "registration_fee": "100",
        "start_fee": "200",
        "late_fee": "0",
    }
    saved = await client.post(url, data=fields)
    assert saved.status_code == 303, saved.text
    [stored] = await rows(db, Race)
    assert (stored.name_en, stored.field_size) == ("Renamed", 20)

    again = await client.post(url, data={**fields, "name_en": "Second"})  # the old version
    assert again.status_code == 409
    assert 'data-code="stale_form"' in again.text
    [stored] = await rows(db, Race)
    assert stored.name_en == "Renamed"


async def test_an_entry_found_by_microchip_is_withdrawn_with_the_previewed_refund(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    race = await make_race()
    microchip = chip()
    entry = await paid_entry(client, festival, race, sign_up, add_horse, microchip)
    await paid_entry(client, festival, race, sign_up, add_horse, chip())  # another horse

    await sign_in_as(Role.ORGANISER)
    await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}/entries")
    await expect(tablet.get_by_test_id("entry-row")).to_have_count(2)
    await tablet.get_by_label("芯片号").fill(microchip)
    await tablet.get_by_test_id("entry-search").click()
    await expect(tablet.get_by_test_id("entry-row")).to_have_count(1)
    await expect(tablet.get_by_test_id("entry-row")).to_have_attribute("data-entry-id", entry["id"])
    await tablet.get_by_test_id("open-entry").click()
    await tablet.get_by_test_id("withdraw").click()

    preview = tablet.get_by_test_id("refund-preview")
    await expect(preview).to_be_visible()
    previewed = int(await preview.get_attribute("data-amount") or "-1")
    assert previewed == 20_000  # all but the 100-yuan registration fee, before the close
    await expect(tablet.get_by_test_id("refund-rule")).to_have_attribute(
        "data-rule", "before_close"
    )
    await tablet.get_by_label("原因").fill("horse lame")
    await tablet.get_by_test_id("withdraw-confirm").click()
    await expect(tablet.get_by_test_id("entry")).to_have_attribute("data-status", "withdrawn")

    [stored] = await rows(db, Entry, Entry.id == uuid.UUID(entry["id"]))
    assert (stored.status, stored.amount_refunded) == ("withdrawn", previewed)
    refunds = await rows(
        db, PaymentRefund, PaymentRefund.payment_id == uuid.UUID(entry["payment_id"])
    )
    assert [r.amount for r in refunds] == [previewed]


async def test_a_withdrawal_whose_refund_changed_is_refused_and_nothing_is_done(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    race = await make_race()
    entry = await paid_entry(client, festival, race, sign_up, add_horse, chip())
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/entries/{entry['id']}/withdraw"
    response = await client.post(url, data={"_csrf_token": token, "expected_refund": "30000"})
    assert response.status_code == 409
    assert 'data-code="refund_changed"' in response.text
    assert 'data-amount="20000"' in response.text  # the refund as it is now, to confirm
    [stored] = await rows(db, Entry, Entry.id == uuid.UUID(entry["id"]))
    assert (stored.status, stored.amount_refunded) == ("confirmed", 0)
    assert await count_rows(db, PaymentRefund) == 0


async def test_refusing_an_entry_needs_a_reason_and_then_scratches_it(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    race = await make_race()
    entry = await paid_entry(client, festival, race, sign_up, add_horse, chip())
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/entries/{entry['id']}/refuse"
    blank = await client.post(
        url, data={"_csrf_token": token, "expected_refund": "20000", "reason": " "}
    )
    assert blank.status_code == 422
    assert 'data-testid="error-reason"' in blank.text
    [stored] = await rows(db, Entry, Entry.id == uuid.UUID(entry["id"]))
    assert stored.status == "confirmed"

    done = await client.post(
        url, data={"_csrf_token": token, "expected_refund": "20000", "reason": "vet: lame"}
    )
    assert done.status_code == 303, done.text
    [stored] = await rows(db, Entry, Entry.id == uuid.UUID(entry["id"]))
    assert (stored.status, stored.amount_refunded) == ("scratched", 20_000)


async def test_the_entries_export_keeps_the_filters(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    make_staff: StaffFactory,
) -> None:
    race = await make_race()
    microchip = chip()
    await paid_entry(client, festival, race, sign_up, add_horse, microchip)
    await paid_entry(client, festival, race, sign_up, add_horse, chip())
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    base = f"/console/festivals/{festival['id']}/entries"
    everything = await client.get(f"{base}/export.csv")
    only = await client.get(f"{base}/export.csv", params={"microchip": microchip})
    assert everything.status_code == only.status_code == 200
    assert len(everything.text.strip().splitlines()) == 3  # header and two entries
    assert len(only.text.strip().splitlines()) == 2
    workbook = await client.get(f"{base}/export.xlsx")
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"
    bad = await client.get(base, params={"province": "Atlantis"})
    assert bad.status_code == 422
    assert 'data-testid="error-province"' in bad.text


async def test_the_delegation_import_reports_each_bad_row_and_saves_nothing(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    race = await make_race()
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    csv = (
        "race,owner,mobile,province,county,horse,sex,birth_year,height_cm,rider,"
        "rider_birth_date\n"
        f"{race['code']},扎西,13912345678,西藏,当雄县,追风,stallion,2018,135,次仁,1990-01-01\n"
        f"{race['code']},卓玛,not-a-phone,西藏,当雄县,白云,mare,2019,132,拉姆,1992-02-02\n"
    )
    url = f"/console/festivals/{festival['id']}/entries/import"
    response = await client.post(
        url,
        data={"_csrf_token": token, "mode": "store"},
        files={"file": ("delegation.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 422, response.text
    assert 'data-testid="import-problem" data-row="3"' in response.text, response.text[-3000:]
    assert await count_rows(db, Entry) == 0


async def test_an_entry_is_not_reached_through_another_festivals_pages(
    client: Client,
    organiser: dict[str, str],
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
    make_staff: StaffFactory,
    db: Database,
) -> None:
    race = await make_race()
    entry = await paid_entry(client, festival, race, sign_up, add_horse, chip())
    other = await client.post(
        "/api/v1/festivals", headers=organiser, json={**FESTIVAL_BODY, "slug": "other-festival"}
    )
    assert other.status_code == 201, other.text
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    base = f"/console/festivals/{other.json()['id']}/entries/{entry['id']}"
    assert (await client.get(base)).status_code == 404
    withdraw = await client.post(
        f"{base}/withdraw", data={"_csrf_token": token, "expected_refund": "20000"}
    )
    assert withdraw.status_code == 404
    [stored] = await rows(db, Entry, Entry.id == uuid.UUID(entry["id"]))
    assert stored.status == "confirmed"
