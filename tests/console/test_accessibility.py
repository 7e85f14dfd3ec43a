"""axe-core finds no serious or critical violation on the console's pages, in both
languages, at tablet size."""

from typing import Any

from playwright.async_api import Page

from events.access.models import Role
from tests.browser import LiveServer
from tests.checkin.test_scanner_field import axe
from tests.conftest import Client
from tests.console.conftest import SignInAs


async def test_axe_finds_no_serious_violation_on_the_console(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    sign_in_as: SignInAs,
    tablet: Page,
    live_server: LiveServer,
) -> None:
    category = (
        await client.post(
            f"/api/v1/festivals/{festival['id']}/award-categories",
            headers=organiser,
            json={
                "code": "long",
                "name_zh": "长跑",
                "name_en": "Long",
                "ranked_by": "finish_order",
            },
        )
    ).json()
    base = f"/console/festivals/{festival['id']}"
    found: dict[str, list[dict[str, Any]]] = {}
    for lang in ("zh", "en"):
        for path in [
            "/console/login",
            "/console",
            base,
            f"{base}/setup",
            f"{base}/awards",
            f"{base}/awards/categories/{category['id']}",
            f"{base}/devices",
            f"{base}/attendance",
            "/console/people",
        ]:
            if path == "/console" and lang == "zh":
                await sign_in_as(Role.ORGANISER)
            await tablet.goto(f"{live_server.url}{path}?lang={lang}")
            violations = await axe(tablet)
            if violations:
                found[f"{path}?lang={lang}"] = violations
    assert found == {}
