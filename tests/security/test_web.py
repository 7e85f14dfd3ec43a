"""Pages: security headers on every HTML answer; no cross-site sign-in, sign-out or form."""

from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from litestar import Litestar

from tests.conftest import Client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_html_pages_send_security_headers(client: Client) -> None:
    for path in ("/", "/owners/login", "/scan"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers  # plain HTTP here
    api = await client.get("/health")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers


async def test_hsts_behind_https(app: Litestar, client: Client) -> None:
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="https://events.example"
    ) as secure:
        response = await secure.get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ],
)
@pytest.mark.parametrize("path", ["/owners/login", "/owners/logout", "/owners/signup"])
async def test_cross_site_form_posts_are_refused(
    client: Client, headers: dict[str, str], path: str
) -> None:
    response = await client.post(path, content=b"login=a&password=b", headers={**FORM, **headers})
    assert response.status_code == 403
    assert response.json()["code"] == "cross_site_request"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://testserver"}, {"Sec-Fetch-Site": "same-origin"}, {}]
)
async def test_same_site_form_posts_go_through(client: Client, headers: dict[str, Any]) -> None:
    response = await client.post("/owners/logout", headers={**FORM, **headers})
    assert response.status_code == 303


async def test_api_routes_are_not_origin_checked(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": "a", "password": "b"},
        headers={"Origin": "https://app.example"},
    )
    assert response.status_code == 401


async def test_microchip_taken_does_not_name_another_owners_horse(
    client: Client, sign_up: Any, add_horse: Any
) -> None:
    from tests.registration.conftest import chip, horse_body

    first, second = await sign_up(), await sign_up()
    number = chip()
    mine = await add_horse(first, microchip=number)
    theirs = await client.post(
        "/api/v1/horses", json=horse_body(microchip=number), headers=second.headers
    )
    assert theirs.status_code == 409
    assert theirs.json()["code"] == "microchip_taken"
    assert "horse_id" not in theirs.json()
    assert mine["id"] not in theirs.text
    again = await client.post(
        "/api/v1/horses", json=horse_body(microchip=number), headers=first.headers
    )
    assert again.json()["horse_id"] == mine["id"]
