"""NUL, lone surrogates and bytes that are not UTF-8 are refused at the edge, never a 500."""

import json
from typing import Any

import pytest

from tests.checkin.conftest import Gate
from tests.conftest import Client
from tests.registration.conftest import sign_up_body
from tests.ticketing.conftest import Catalog

NUL = "bad\u0000text"
SURROGATE = "bad\ud800text"


async def send(
    client: Client, method: str, url: str, body: Any, headers: dict[str, str] | None = None
) -> Any:
    """JSON with \\u escapes, so that a lone surrogate can be sent at all."""
    return await client.request(
        method,
        url,
        content=json.dumps(body),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def assert_field_refused(response: Any, field: str, source: str = "body") -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"field": field, "source": source} in [
        {"field": e["field"], "source": e["source"]} for e in body["errors"]
    ]


async def test_login_username(client: Client) -> None:
    response = await send(client, "POST", "/api/v1/auth/login", {"username": NUL, "password": "x"})
    assert_field_refused(response, "username")


async def test_a_lone_surrogate_is_a_400(client: Client) -> None:
    response = await send(
        client, "POST", "/api/v1/auth/login", {"username": SURROGATE, "password": "x"}
    )
    assert response.status_code == 400
    assert response.json()["code"] in ("malformed_json", "invalid_encoding")


async def test_raw_invalid_utf8_in_json_is_400(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"username": "\xff\xfe", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_encoding"


async def test_sign_up_fields_are_each_named(client: Client) -> None:
    body = sign_up_body(name=NUL, county=NUL, riders=[{"name": NUL, "birth_date": "1995-03-01"}])
    response = await send(client, "POST", "/api/v1/owners", body)
    for field in ("name", "county", "riders.0.name"):
        assert_field_refused(response, field)


@pytest.mark.parametrize("query", ["q=%00", "q=bad%00x", "name=x%00"])
async def test_horse_search_query(client: Client, query: str) -> None:
    field = query.split("=")[0]
    response = await client.get(f"/api/v1/horses?{query}")
    assert_field_refused(response, field, source="query")


async def test_query_that_is_not_utf8_is_400(client: Client) -> None:
    for query in ("q=%FF", "q=%ED%A0%80"):  # the second: a surrogate half in CESU-8
        response = await client.get(f"/api/v1/horses?{query}")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_encoding"


async def test_festival_and_device_names(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    response = await send(
        client, "PATCH", f"/api/v1/festivals/{festival['id']}", {"name_en": NUL}, organiser
    )
    assert_field_refused(response, "name_en")
    device = await client.post(
        f"/api/v1/festivals/{festival['id']}/devices",
        headers=organiser,
        json={"gate_id": festival["gates"][0]["id"], "name": NUL},
    )
    assert_field_refused(device, "name")


async def test_order_email(client: Client, catalog: Catalog) -> None:
    response = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/orders",
        json={
            "email": f"a{NUL}@example.com",
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert_field_refused(response, "email")


async def test_scan_secret_and_nonce(client: Client, gates: list[Gate]) -> None:
    for field in ("secret", "nonce"):
        body = {"secret": "x" * 40, "nonce": "n-1", "type": "entry", field: NUL}
        response = await client.post("/api/v1/checkin/scan", headers=gates[0].headers, json=body)
        assert_field_refused(response, field)


async def test_form_fields_of_the_owner_pages(client: Client) -> None:
    response = await client.post(
        "/owners/login",
        content=b"username=a%00b&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_field_refused(response, "username")


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"username": "a\\\\u0000", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401  # an unknown user, not a refusal of the text
    paired = await client.post(
        "/api/v1/auth/login", json={"username": "horse \U0001f40e", "password": "x"}
    )
    assert paired.status_code == 401
