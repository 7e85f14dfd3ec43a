"""Console fixtures: staff accounts, signing them in (httpx and Chromium), CSRF tokens.

- ``make_staff(role)``: a user of that role created through ``UserService``; returns
  ``Staff`` (username, password, id).
- ``console_client``: the ``client`` fixture; ``await console_sign_in(client, staff)``
  signs it in through ``POST /console/login`` (it then holds the console cookie).
- ``csrf_of(html)``: the token a console page's forms carry (for posts from httpx).
- Chromium: ``tablet`` is a 768×1024 page; ``sign_in_as(role)`` creates a staff user of
  that role and signs the ``tablet`` page in through the login form, on the
  ``live_server``: ``staff = await sign_in_as(Role.ORGANISER)``.
"""

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, expect

from events.access.models import Role
from events.access.services import UserService
from events.db.engine import Database
from tests.browser import LiveServer
from tests.conftest import PASSWORD, Client


@dataclass(frozen=True)
class Staff:
    username: str
    password: str
    id: str
    role: Role


StaffFactory = Callable[..., Awaitable[Staff]]


@pytest.fixture
def make_staff(db: Database) -> StaffFactory:
    async def make(role: Role | str = Role.ORGANISER, username: str | None = None) -> Staff:
        role = Role(role)
        name = username or f"{role.value}-{os.urandom(3).hex()}"
        async with db.transaction() as session:
            user = await UserService(session).create(username=name, password=PASSWORD, role=role)
        return Staff(username=name, password=PASSWORD, id=str(user.id), role=role)

    return make


_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


async def console_sign_in(client: Client, staff: Staff) -> str:
    """Sign ``client`` in to the console; returns the CSRF token for its next posts."""
    page = await client.get("/console/login")
    token = csrf_of(page.text)
    response = await client.post(
        "/console/login",
        data={"username": staff.username, "password": staff.password, "_csrf_token": token},
    )
    assert response.status_code == 303, response.text
    return token


@pytest.fixture
async def tablet(browser: Browser) -> AsyncIterator[Page]:
    """A tablet-sized page (768×1024), the console's smallest target, in Chinese."""
    context = await browser.new_context(
        viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True
    )
    tab = await context.new_page()
    yield tab
    await context.close()


async def sign_in_page(page: Page, base_url: str, staff: Staff) -> None:
    """Sign ``page`` in through the console's login form."""
    await page.goto(f"{base_url}/console/login")
    await page.get_by_label(re.compile("用户名|Username")).fill(staff.username)
    await page.get_by_label(re.compile("密码|Password")).fill(staff.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("signed-in-role")).to_have_attribute(
        "data-role", staff.role.value
    )


SignInAs = Callable[..., Awaitable[Staff]]


@pytest.fixture
def sign_in_as(make_staff: StaffFactory, live_server: LiveServer, tablet: Page) -> SignInAs:
    async def sign_in(role: Role | str = Role.ORGANISER) -> Staff:
        staff = await make_staff(role)
        await sign_in_page(tablet, live_server.url, staff)
        return staff

    return sign_in
