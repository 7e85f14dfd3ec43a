"""What people notice: pages for browsers, an icon, a log line per request, /schema with
no internet, CSV types, a gate account's login token on the scan API, days in order."""

import logging
import re
from typing import Any

import pytest

from events.access.models import Role
from tests.conftest import Client, UserFactory

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_a_browser_asking_for_a_missing_page_gets_a_page(client: Client) -> None:
    response = await client.get("/no-such-page?lang=en", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert 'data-code="not_found"' in response.text
    chinese = await client.get("/no-such-page?lang=zh", headers=BROWSER)
    assert "找不到该页面" in chinese.text


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/no-such-page", {"Accept": "application/json"}),
        ("/no-such-page", {}),
        ("/api/v1/no-such-route", BROWSER),
    ],
)
async def test_api_clients_still_get_problem_json(
    client: Client, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


async def test_there_is_a_favicon(client: Client) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    home = await client.get("/")
    assert 'rel="icon"' in home.text


async def test_each_request_leaves_one_line_without_its_query(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="events.access"):
        await client.get("/api/v1/festivals")
        await client.get(
            "/orders/0b9c1d3e-0000-4000-8000-000000000000",
            params={"access_token": "SECRET-TOKEN-VALUE"},
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "events.access"]
    assert len(lines) == 2
    assert re.fullmatch(r"GET /api/v1/festivals 200 \d+\.\d ms", lines[0])
    assert re.fullmatch(
        r"GET /orders/0b9c1d3e-0000-4000-8000-000000000000 \d{3} \d+\.\d ms", lines[1]
    )
    assert "SECRET-TOKEN-VALUE" not in caplog.text


async def test_the_schema_page_needs_no_internet(client: Client) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text.replace("'", '"'))
    assert "/static/vendor/rapidoc-min.js" in sources
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))], sources
    script = await client.get("/static/vendor/rapidoc-min.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_csv_exports_say_their_charset_once(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    for path in (
        f"/api/v1/festivals/{festival['id']}/payments/export.csv",
        f"/api/v1/festivals/{festival['id']}/entries/export.csv",
        f"/api/v1/festivals/{festival['id']}/awards/export.csv",
    ):
        response = await client.get(path, headers=organiser)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "text/csv; charset=utf-8", path


async def test_a_gate_accounts_login_token_is_told_to_use_a_device_link(
    client: Client, make_user: UserFactory, festival: dict[str, Any]
) -> None:
    gate = await make_user(Role.GATE)
    response = await client.post(
        "/api/v1/checkin/scan",
        headers={"Authorization": gate["Authorization"]},
        json={
            "secret": "x",
            "gate_id": festival["gates"][0]["id"],
            "type": "entry",
            "nonce": "n-1",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "device_token_required"
    assert "Device <token>" in response.json()["detail"]
    assert "/scan#token=" in response.json()["detail"]


async def test_the_shop_lists_days_in_date_order(
    client: Client, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    added = await client.post(
        f"/api/v1/festivals/{festival['id']}/meetings",
        headers=organiser,
        json={"name_zh": "彩排", "name_en": "Rehearsal", "days": [{"date": "2027-03-01"}]},
    )
    assert added.status_code == 201, added.text
    read = (await client.get(f"/api/v1/festivals/{festival['id']}")).json()
    days = [d for m in read["meetings"] for d in m["days"]]
    assert [d["date"] for d in days] != sorted(d["date"] for d in days)  # meeting order
    base = f"/api/v1/festivals/{festival['id']}"
    ground = (
        await client.post(
            f"{base}/enclosures",
            headers=organiser,
            json={"code": "ground", "name_zh": "草原", "name_en": "Ground"},
        )
    ).json()
    made = await client.post(
        f"{base}/ticket-types",
        headers=organiser,
        json={
            "code": "every-day",
            "name_zh": "每日票",
            "name_en": "Any day",
            "price": 100,
            "enclosure_id": ground["id"],
            "day_ids": [d["id"] for d in days],
            "capacity": 10,
        },
    )
    assert made.status_code == 201, made.text

    shop = await client.get(f"/festivals/{festival['id']}/tickets")
    shown = re.findall(r'data-testid="day" data-date="([0-9-]+)"', shop.text)
    assert shown == sorted(d["date"] for d in days)
