"""Every route × every principal, against the table in ``role_matrix.py``.

The routes come from the app itself: a new route without a row fails here first.
"""

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from events.access.models import Role
from events.access.services import UserService
from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, PASSWORD, Client, UserFactory, headers_of
from tests.console.conftest import Staff, console_sign_in, csrf_of
from tests.registration.conftest import horse_body, sign_up_body
from tests.security.role_matrix import (
    ANONYMOUS,
    DEVICE_Y,
    GATE,
    MATRIX,
    OFF,
    ORG,
    OWNER_A,
    OWNER_B,
    PRINCIPALS,
    Row,
)

UNKNOWN = "00000000-0000-4000-8000-000000000001"
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def operations(app: Litestar) -> list[tuple[str, str, str]]:
    """(operation id, method, path) of every route the app serves."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            if not isinstance(handler.operation_id, str):
                continue  # static files and the OpenAPI pages
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                found.append((handler.operation_id, method, route.path))
    return found


def test_every_route_has_a_row(app: Litestar) -> None:
    served = {op for op, _, _ in operations(app)}
    assert sorted(served - set(MATRIX)) == [], "routes without a row in role_matrix.py"
    assert sorted(set(MATRIX) - served) == [], "rows for routes that are gone"


async def principals(
    client: Client, make_user: UserFactory, festival: dict[str, Any]
) -> tuple[dict[str, dict[str, str]], str]:
    """Headers of each principal, and owner A's horse id."""
    headers: dict[str, dict[str, str]] = {ANONYMOUS: {}}
    for name, role in ((ORG, Role.ORGANISER), (OFF, Role.OFFICIAL), (GATE, Role.GATE)):
        headers[name] = headers_of(await make_user(role))
    for name in (OWNER_A, OWNER_B):
        signed_up = await client.post("/api/v1/owners", json=sign_up_body())
        assert signed_up.status_code == 201, signed_up.text
        headers[name] = {"Authorization": f"Bearer {signed_up.json()['access_token']}"}
    other = await client.post(
        "/api/v1/festivals",
        headers=headers[ORG],
        json={**FESTIVAL_BODY, "slug": "another-festival"},
    )
    assert other.status_code == 201, other.text
    device = await client.post(
        f"/api/v1/festivals/{other.json()['id']}/devices",
        headers=headers[ORG],
        json={"gate_id": other.json()["gates"][0]["id"], "name": "Y"},
    )
    assert device.status_code == 201, device.text
    headers[DEVICE_Y] = {"Authorization": f"Device {device.json()['token']}"}
    horse = await client.post("/api/v1/horses", json=horse_body(), headers=headers[OWNER_A])
    assert horse.status_code == 201, horse.text
    return headers, horse.json()["id"]


ConsoleClients = dict[str, tuple[Client, str]]


@pytest.fixture
async def consoles(app: Litestar, db: Database) -> AsyncIterator[ConsoleClients]:
    """A client per staff role signed in to the console by its cookie, and one signed in
    as nobody, each with the CSRF token its posts carry."""
    async with AsyncExitStack() as stack:
        found: ConsoleClients = {}
        for name, role in (
            (ANONYMOUS, None),
            (ORG, Role.ORGANISER),
            (OFF, Role.OFFICIAL),
            (GATE, Role.GATE),
        ):
            browser = await stack.enter_async_context(
                AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")
            )
            if role is None:
                token = csrf_of((await browser.get("/console/login")).text)
            else:
                async with db.transaction() as session:
                    user = await UserService(session).create(
                        username=f"console-{name}", password=PASSWORD, role=role
                    )
                token = await console_sign_in(
                    browser, Staff(f"console-{name}", PASSWORD, str(user.id), role)
                )
            found[name] = (browser, token)
        yield found


def sent_to_sign_in(response: Any) -> bool:
    return response.status_code == 303 and response.headers.get("location", "").startswith(
        "/console/login"
    )


async def console_wrong(
    row: Row, operation_id: str, method: str, path: str, consoles: ConsoleClients
) -> list[str]:
    """What a console route answered against its row, as each cookie principal."""
    wrong = []
    # The console's own sign-in and sign-out are tried signed in as nobody (signing one of
    # the staff clients out would change the principal the next rows are checked as).
    callers = [ANONYMOUS] if row.kind == "console_open" else list(consoles)
    for principal in callers:
        browser, token = consoles[principal]
        data = {"_csrf_token": token} if method == "POST" else None
        response = await browser.request(method, path, data=data)
        status = response.status_code
        if row.kind == "console_open":
            ok = status < 500
        elif principal in row.allowed:
            ok = status < 500 and status not in (401, 403) and not sent_to_sign_in(response)
        elif principal == ANONYMOUS:
            ok = sent_to_sign_in(response)
        else:
            ok = status == 403
        if not ok:
            wrong.append(
                f"{operation_id} {method} {path} as console {principal}: {status} "
                f"(row {row.kind} {sorted(row.allowed)})"
            )
    return wrong


async def test_each_principal_gets_what_its_row_says(
    app: Litestar,
    client: Client,
    make_user: UserFactory,
    festival: dict[str, Any],
    consoles: ConsoleClients,
) -> None:
    headers, horse_id = await principals(client, make_user, festival)
    values = {"festival_id": festival["id"], "horse_id": horse_id}
    wrong: list[str] = []
    for operation_id, method, template in operations(app):
        row = MATRIX[operation_id]
        if not row.run:
            continue
        path = PARAM.sub(lambda m: values.get(m.group(1), UNKNOWN), template)
        if row.kind in ("console", "console_open"):
            wrong += await console_wrong(row, operation_id, method, path, consoles)
            continue
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        for principal in PRINCIPALS:
            response = await client.request(method, path, headers=headers[principal], **body)
            status = response.status_code
            if row.allows(principal):
                ok = status < 500 and status not in (401, 403)
            elif row.kind == "credential":
                ok = status in (400, 401, 403, 404, 429, 503)
            elif row.kind == "owned" and principal == OWNER_B:
                ok = status in (403, 404)
            elif principal == DEVICE_Y:
                ok = status in (401, 403)  # a device is no user: some routes say 401
            else:
                ok = status == (401 if principal == ANONYMOUS else 403)
            if not ok:
                wrong.append(
                    f"{operation_id} {method} {path} as {principal}: {status} "
                    f"(row {row.kind} {sorted(row.allowed)})"
                )
    assert wrong == [], "\n".join(wrong)
