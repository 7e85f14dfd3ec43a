"""Awards in the console, in Chromium at tablet size: a category and an award typed in, a
prize list imported with a dry run that shows the bad row in place and stores nothing."""

from typing import Any

from playwright.async_api import Page, expect
from sqlmodel import select

from events.access.models import Role
from events.awards.models import Award, AwardCategory
from events.db.engine import Database
from tests.awards.conftest import stored_counts
from tests.browser import LiveServer
from tests.console.conftest import SignInAs

BAD_CSV = """category,category_name_zh,category_name_en,ranked_by,place,prize_yuan
yak,赛牦牛,Yak race,finish_order,1,10000
yak,赛牦牛,Yak race,finish_order,2,5000
yak,赛牦牛,Yak race,finish_order,3,-3000
"""
GOOD_CSV = BAD_CSV.replace("-3000", "3000")


async def awards_page(tablet: Page, live_server: LiveServer, festival: dict[str, Any]) -> None:
    await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}")
    await tablet.get_by_test_id("nav-console.nav.awards").click()
    await expect(tablet.get_by_role("heading", level=1)).to_have_text("奖项与奖金")


async def test_an_organiser_adds_a_category_and_an_award(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await awards_page(tablet, live_server, festival)
    await tablet.get_by_text("添加类别").first.click()
    form = tablet.get_by_test_id("category-form")
    await form.get_by_label("类别代码").fill("bad code!")
    await form.get_by_label("中文名称").fill("马长跑 10公里")
    await form.get_by_label("英文名称").fill("Long race 10 km")
    await form.get_by_test_id("category-submit").click()
    # refused next to the field, what was typed kept, nothing stored
    await expect(tablet.get_by_test_id("error-code")).to_be_visible()
    await expect(form.get_by_label("中文名称")).to_have_value("马长跑 10公里")
    assert (await stored_counts(db))[0] == 0

    await form.get_by_label("类别代码").fill("long-10k")
    await form.get_by_test_id("category-submit").click()
    await expect(tablet.get_by_test_id("category-title")).to_have_text("long-10k · 马长跑 10公里")

    award_form = tablet.get_by_test_id("award-form")
    await expect(award_form.get_by_label("名次")).to_have_value("1")
    await award_form.get_by_label("奖金（元）").fill("80,000")
    await award_form.get_by_test_id("award-submit").click()
    await expect(tablet.get_by_test_id("award-row")).to_have_count(1)
    await expect(tablet.get_by_test_id("award-row")).to_contain_text("¥80,000")

    async with db.session_factory() as session:
        category = (await session.exec(select(AwardCategory))).one()
        award = (await session.exec(select(Award))).one()
    assert (category.code, category.name_en) == ("long-10k", "Long race 10 km")
    assert (award.category_id, award.place, award.prize_fen) == (category.id, 1, 8_000_000)


async def test_an_import_shows_the_bad_row_in_place_and_stores_nothing_until_confirmed(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await awards_page(tablet, live_server, festival)
    chooser = tablet.get_by_label("文件")
    await chooser.set_input_files(
        files=[{"name": "prizes.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
    )
    await tablet.get_by_test_id("import-check").click()

    await expect(tablet.get_by_test_id("import-rejected")).to_be_visible()
    rows = tablet.get_by_test_id("import-row")
    await expect(rows).to_have_count(3)
    bad = tablet.locator('[data-testid="import-row"][data-bad="true"]')
    await expect(bad).to_have_count(1)
    await expect(bad).to_have_attribute("data-line", "4")
    await expect(bad.get_by_test_id("row-problem")).to_contain_text("prize_yuan")
    await expect(tablet.get_by_test_id("import-save")).to_have_count(0)
    assert await stored_counts(db) == (0, 0, 0)

    await tablet.get_by_label("文件").set_input_files(
        files=[{"name": "prizes.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()}]
    )
    await tablet.get_by_test_id("import-check").click()
    await expect(tablet.get_by_test_id("import-ok")).to_contain_text("¥18,000")
    await expect(tablet.locator('[data-bad="true"]')).to_have_count(0)
    assert await stored_counts(db) == (0, 0, 0)  # the dry run stored nothing

    await tablet.get_by_test_id("import-save").click()
    await expect(tablet.get_by_test_id("imported")).to_be_visible()
    await expect(tablet.get_by_test_id("summary-awards")).to_have_text("3")
    await expect(tablet.get_by_test_id("summary-total")).to_have_text("¥18,000")
    async with db.session_factory() as session:
        prizes = [
            (a.place, a.prize_fen)
            for a in (await session.exec(select(Award).order_by(Award.place))).all()
        ]  # type: ignore[arg-type]
    assert prizes == [(1, 1_000_000), (2, 500_000), (3, 300_000)]


async def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(
    festival: dict[str, Any],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
    db: Database,
) -> None:
    await sign_in_as(Role.ORGANISER)
    await awards_page(tablet, live_server, festival)
    await tablet.get_by_text("添加类别").first.click()
    form = tablet.get_by_test_id("category-form")
    await form.get_by_label("类别代码").fill("long-10k")
    await form.get_by_label("中文名称").fill("马长跑")
    await form.get_by_label("英文名称").fill("Long race")
    await form.locator('input[name="_csrf_token"]').evaluate("input => input.remove()")
    await form.get_by_test_id("category-submit").click()
    await expect(tablet.get_by_test_id("refused")).to_have_attribute("data-code", "csrf_failed")
    assert await stored_counts(db) == (0, 0, 0)


async def test_a_gate_user_gets_403_on_the_awards_pages(
    festival: dict[str, Any], sign_in_as: SignInAs, tablet: Page, live_server: LiveServer
) -> None:
    await sign_in_as(Role.GATE)
    await expect(tablet.get_by_test_id("nav-console.nav.awards")).to_have_count(0)
    response = await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}/awards")
    assert response is not None
    assert response.status == 403
