"""Owners' pages: the whole journey in headless Chromium on a phone-sized screen, and the
forms' refusals over plain HTTP."""

from typing import Any

from playwright.async_api import Page, expect

from events.access.models import User
from events.db.engine import Database
from events.registration.models import Entry, Horse, Owner
from tests.browser import LiveServer
from tests.conftest import Client
from tests.registration.conftest import OwnerFactory, RaceFactory, count_rows, mobile, rows


async def test_an_owner_signs_up_adds_a_horse_enters_a_race_and_sees_the_fee_due(
    client: Client, db: Database, make_race: RaceFactory, live_server: LiveServer, page: Page
) -> None:
    await make_race(code="long", name_zh="马长跑 10公里", name_en="Long race 10 km", field_size=20)
    number = mobile()
    await page.goto(live_server.url + "/owners/signup")
    await page.fill("#f-name", "扎西多吉")
    await page.fill("#f-mobile", number)
    await page.select_option("#f-province", "XZ")
    await page.fill("#f-county", "当雄县")
    await page.fill("#f-rider_name", "次仁")
    await page.fill("#f-rider_birth_date", "1996-04-02")
    await page.fill("#f-password", "gallop-2027")
    await page.get_by_test_id("signup-submit").click()
    await page.wait_for_url("**/my")
    await expect(page.get_by_text("扎西多吉，您好")).to_be_visible()

    await page.get_by_test_id("add-horse-link").click()
    await page.fill("#f-name_zh", "追风")
    await page.select_option("#f-sex", "gelding")
    await page.fill("#f-birth_year", "2019")
    await page.fill("#f-height_cm", "12")  # a slip of the thumb: refused, named
    await page.get_by_test_id("horse-submit").click()
    await expect(page.get_by_test_id("error-height_cm")).to_be_visible()
    await page.fill("#f-height_cm", "136")
    await page.get_by_test_id("horse-submit").click()
    await page.wait_for_url("**/my")
    await expect(page.get_by_test_id("horse")).to_contain_text("追风")

    await page.get_by_test_id("enter-link").click()
    await page.select_option(
        "#f-race", label=await page.locator("#f-race option", has_text="马长跑").inner_text()
    )
    await page.get_by_test_id("enter-submit").click()
    await page.wait_for_url("**/my?entered=*")

    entry = page.get_by_test_id("entry")
    await expect(entry).to_contain_text("马长跑 10公里")
    await expect(page.get_by_test_id("entry-status")).to_have_text("待付款")
    await expect(page.get_by_test_id("entry-fee")).to_have_text("¥300.00")
    await expect(page.get_by_test_id("pay-link")).to_have_text("去支付 ¥300.00")
    pay_url = await page.get_by_test_id("pay-link").get_attribute("href")
    assert pay_url is not None
    assert pay_url.startswith(live_server.url + "/pay/test/")

    await page.get_by_test_id("lang-switch").click()
    await expect(page.get_by_test_id("entry-status")).to_have_text("Fee due")
    await expect(page.get_by_test_id("total-due")).to_have_text("¥300.00 due in all")

    [owner] = await rows(db, Owner)
    assert (owner.name, owner.mobile, owner.province) == ("扎西多吉", number, "XZ")
    [stored] = await rows(db, Entry)
    assert (stored.status, stored.fee_due, stored.owner_id) == ("pending_payment", 30000, owner.id)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "owner_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


async def test_my_pages_need_a_signed_in_owner(client: Client) -> None:
    response = await client.get("/my")
    assert response.status_code == 303
    assert response.headers["location"] == "/owners/login?next=/my"
    client.cookies.set("owner_session", "not-a-token")
    forged = await client.get("/my")
    assert forged.status_code == 303


async def test_a_bad_sign_up_form_names_the_fields_and_stores_nothing(
    client: Client, db: Database
) -> None:
    response = await client.post(
        "/owners/signup?lang=en",
        data={
            "name": "扎西",
            "mobile": "12345",
            "province": "XZ",
            "county": "当雄县",
            "rider_name": "小次仁",
            "rider_birth_date": "2015-05-05",
            "password": "long-password",
        },
    )
    assert response.status_code == 422
    assert 'data-testid="error-mobile"' in response.text
    assert 'data-testid="error-guardian_consent"' in response.text
    assert "long-password" not in response.text
    assert await count_rows(db, User) == 0


async def test_owners_log_in_with_their_mobile_number(
    client: Client, sign_up: OwnerFactory
) -> None:
    account = await sign_up(username="norbu", password="secret-gallop")
    wrong = await client.post(
        "/owners/login", data={"login": account.owner["mobile"], "password": "nope-nope"}
    )
    right = await client.post(
        "/owners/login",
        data={
            "login": account.owner["mobile"],
            "password": "secret-gallop",
            "next": "https://evil.example/",
        },
    )
    assert wrong.status_code == 401
    assert right.status_code == 303
    assert right.headers["location"] == "/my"
    assert "httponly" in right.headers["set-cookie"].lower()
    assert "samesite=lax" in right.headers["set-cookie"].lower()
    my = await client.get("/my")  # the client keeps the cookie, as a browser does
    assert my.status_code == 200
    assert "扎西" in my.text


async def test_an_ineligible_entry_form_names_the_rules(
    client: Client, db: Database, make_race: RaceFactory, sign_up: OwnerFactory
) -> None:
    race: dict[str, Any] = await make_race(height_max_cm=130, local_provinces=["QH"])
    account = await sign_up()
    login = await client.post(
        "/owners/login", data={"login": account.owner["mobile"], "password": "horse-owner-pw"}
    )
    assert login.status_code == 303
    horse = await client.post(
        "/my/horses/new",
        data={
            "name_zh": "高个子",
            "sex": "mare",
            "birth_year": "2018",
            "height_cm": "140",
            "origin_province": "XZ",
        },
    )
    assert horse.status_code == 303
    [stored_horse] = await rows(db, Horse)

    response = await client.post(
        "/my/enter",
        data={
            "race_id": race["id"],
            "horse_id": str(stored_horse.id),
            "rider_id": account.rider_id,
            "request_key": "form-1",
        },
    )

    assert response.status_code == 422
    assert 'data-rule="horse_too_tall"' in response.text
    assert 'data-rule="not_local_horse"' in response.text
    assert await count_rows(db, Entry) == 0
