"""The console's frame in Chromium at tablet size: sign-in, the nav per role, language."""

from typing import Any

from playwright.async_api import Page, expect

from events.access.models import Role
from tests.browser import LiveServer
from tests.console.conftest import SignInAs


async def test_an_organiser_signs_in_and_reaches_the_dashboard(
    festival: dict[str, Any], sign_in_as: SignInAs, tablet: Page, live_server: LiveServer
) -> None:
    await sign_in_as(Role.ORGANISER)
    await tablet.get_by_test_id(f"open-{festival['slug']}").click()
    await expect(tablet.get_by_test_id("festival-name")).to_have_text(festival["name_zh"])
    await expect(tablet.get_by_test_id("nav-console.nav.dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    await tablet.get_by_test_id("lang-switch").click()
    await expect(tablet.get_by_role("heading", level=1)).to_have_text("Dashboard")
    await tablet.get_by_test_id("logout").click()
    await expect(tablet.get_by_test_id("login-form")).to_be_visible()


async def test_a_gate_user_sees_no_organiser_page(
    festival: dict[str, Any], sign_in_as: SignInAs, tablet: Page, live_server: LiveServer
) -> None:
    await sign_in_as(Role.GATE)
    await expect(tablet.get_by_test_id("nav-console.nav.dashboard")).to_have_count(0)
    response = await tablet.goto(f"{live_server.url}/console/festivals/{festival['id']}")
    assert response is not None
    assert response.status == 403
    await expect(tablet.get_by_test_id("refused")).to_have_attribute("data-code", "forbidden")


async def test_a_wrong_password_shows_next_to_the_form(
    tablet: Page, live_server: LiveServer
) -> None:
    await tablet.goto(f"{live_server.url}/console/login")
    await tablet.get_by_label("用户名").fill("nobody")
    await tablet.get_by_label("密码").fill("wrong")
    await tablet.get_by_test_id("login-submit").click()
    await expect(tablet.get_by_test_id("form-problem")).to_have_text("用户名或密码错误。")
    await expect(tablet.get_by_label("用户名")).to_have_value("nobody")
