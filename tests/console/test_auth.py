"""Staff sign-in, the console cookie and where it counts (``/console`` only), CSRF."""

from typing import Any

from httpx import ASGITransport, AsyncClient
from litestar import Litestar

from events.access.models import Role
from tests.conftest import Client
from tests.console.conftest import StaffFactory, console_sign_in, csrf_of


def cookie_header(response: Any, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(name + "="))


async def test_signing_in_sets_an_httponly_lax_console_only_cookie(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    token = csrf_of((await client.get("/console/login")).text)
    response = await client.post(
        "/console/login",
        data={
            "username": staff.username,
            "password": staff.password,
            "_csrf_token": token,
            "next": "/console/festivals/x",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/festivals/x"
    cookie = cookie_header(response, "console_session").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # plain http here
    home = await client.get("/console")
    assert home.status_code == 200
    assert 'data-role="organiser"' in home.text


async def test_the_cookie_is_secure_over_https(app: Litestar, make_staff: StaffFactory) -> None:
    staff = await make_staff(Role.GATE)
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="https://testserver"
    ) as https:
        page = await https.get("/console/login")
        assert "secure" in cookie_header(page, "console_csrf").lower()
        response = await https.post(
            "/console/login",
            data={
                "username": staff.username,
                "password": staff.password,
                "_csrf_token": csrf_of(page.text),
            },
        )
    assert response.status_code == 303
    assert "secure" in cookie_header(response, "console_session").lower()


async def test_the_console_cookie_does_not_authenticate_the_api(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    await console_sign_in(client, staff)
    session = client.cookies.get("console_session")
    assert session
    me = await client.get("/api/v1/auth/me", headers={"Cookie": f"console_session={session}"})
    assert me.status_code == 401
    users = await client.get("/api/v1/users", headers={"Cookie": f"console_session={session}"})
    assert users.status_code == 401
    # nor is the cookie's token a bearer token: its audience is the console's
    as_bearer = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"})
    assert as_bearer.status_code == 401


async def test_a_bearer_token_in_the_cookie_signs_nobody_in(client: Client, make_user: Any) -> None:
    organiser = await make_user(Role.ORGANISER)
    bearer = organiser["Authorization"].removeprefix("Bearer ")
    client.cookies.set("console_session", bearer, path="/console")
    response = await client.get("/console")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console"


async def test_a_wrong_password_is_refused_and_sets_no_cookie(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    token = csrf_of((await client.get("/console/login")).text)
    response = await client.post(
        "/console/login",
        data={"username": staff.username, "password": "wrong", "_csrf_token": token},
    )
    assert response.status_code == 401
    assert 'value="' + staff.username + '"' in response.text  # what was typed stays
    assert "console_session" not in response.headers.get("set-cookie", "")


async def test_an_owner_cannot_sign_in_to_the_console(
    client: Client, make_staff: StaffFactory
) -> None:
    owner = await make_staff(Role.OWNER)
    token = csrf_of((await client.get("/console/login")).text)
    response = await client.post(
        "/console/login",
        data={"username": owner.username, "password": owner.password, "_csrf_token": token},
    )
    assert response.status_code == 403
    assert "console_session" not in response.headers.get("set-cookie", "")


async def test_a_form_without_its_csrf_token_is_refused(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    await client.get("/console/login")  # the CSRF cookie, but no token in the form
    response = await client.post(
        "/console/login", data={"username": staff.username, "password": staff.password}
    )
    assert response.status_code == 403
    assert 'data-code="csrf_failed"' in response.text
    assert "console_session" not in response.headers.get("set-cookie", "")
    forged = await client.post(
        "/console/login",
        data={"username": staff.username, "password": staff.password, "_csrf_token": "0" * 128},
    )
    assert forged.status_code == 403


async def test_htmx_requests_send_the_token_as_a_header(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    token = await console_sign_in(client, staff)
    response = await client.post(
        "/console/logout", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 303
    assert 'console_session=""' in response.headers["set-cookie"]


async def test_signed_out_pages_lead_to_the_login(client: Client) -> None:
    response = await client.get("/console/festivals/abc")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/festivals/abc"
    htmx = await client.get("/console/festivals/abc", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/console/login?next=/console/festivals/abc"


async def test_a_gate_user_is_refused_the_organisers_pages(
    client: Client, make_staff: StaffFactory, festival: dict[str, Any]
) -> None:
    gate = await make_staff(Role.GATE)
    await console_sign_in(client, gate)
    response = await client.get(f"/console/festivals/{festival['id']}")
    assert response.status_code == 403
    assert 'data-code="forbidden"' in response.text


async def test_signing_out_forgets_the_cookie(client: Client, make_staff: StaffFactory) -> None:
    staff = await make_staff(Role.OFFICIAL)
    token = await console_sign_in(client, staff)
    response = await client.post("/console/logout", data={"_csrf_token": token})
    assert response.status_code == 303
    assert (await client.get("/console")).status_code == 303


async def test_the_next_page_is_never_another_site(
    client: Client, make_staff: StaffFactory
) -> None:
    staff = await make_staff(Role.ORGANISER)
    token = csrf_of((await client.get("/console/login")).text)
    response = await client.post(
        "/console/login",
        data={
            "username": staff.username,
            "password": staff.password,
            "_csrf_token": token,
            "next": "//evil.example/console",
        },
    )
    assert response.headers["location"] == "/console"


async def test_the_api_needs_no_csrf_token(client: Client, organiser: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/festivals/nope/gates",
        headers=organiser,
        json={"code": "x", "name_zh": "x", "name_en": "x"},
    )
    assert response.status_code == 404  # reached the handler: no CSRF refusal


async def test_a_malformed_form_is_a_page_not_a_json_problem(
    client: Client, make_staff: StaffFactory
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    response = await client.post(
        "/console/people",
        content=(f"_csrf_token={token}&username=a&username=b").encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert 'data-code="validation_failed"' in response.text
