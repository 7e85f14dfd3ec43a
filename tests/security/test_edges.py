"""Edges that used to be 500s: extreme dates, deep JSON, a JWT that expires in 1e308."""

import uuid
from typing import Any

import jwt
import pytest

from events.config import Settings
from tests.checkin.conftest import Gate
from tests.conftest import FESTIVAL_BODY, Client
from tests.ticketing.conftest import Catalog

EXTREMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+23:59"]


async def test_a_jwt_that_expires_in_1e308_is_refused(client: Client, settings: Settings) -> None:
    token = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "organiser", "exp": 1e308},
        settings.signing_key(),
        algorithm="HS256",
    )
    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize("depth", [1000, 100_000])
async def test_json_nested_deep_is_400(
    client: Client, organiser: dict[str, str], depth: int
) -> None:
    body = '{"slug": ' + "[" * depth + "]" * depth + "}"
    response = await client.post(
        "/api/v1/festivals", content=body, headers={**organiser, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "json_too_deep"


async def test_ordinary_nesting_still_passes(client: Client, organiser: dict[str, str]) -> None:
    response = await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=organiser)
    assert response.status_code == 201


@pytest.mark.parametrize("moment", EXTREMES)
async def test_extreme_sales_times_are_422(
    client: Client, organiser: dict[str, str], catalog: Catalog, moment: str
) -> None:
    response = await client.patch(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-types/{catalog.day1['id']}",
        json={"sales_start": moment},
        headers=organiser,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["sales_start"]


@pytest.mark.parametrize("moment", EXTREMES)
async def test_an_extreme_scanner_clock_is_not_a_500(
    client: Client, gates: list[Gate], moment: str
) -> None:
    response = await client.post(
        "/api/v1/checkin/scan",
        headers=gates[0].headers,
        json={"secret": "x" * 40, "nonce": f"n-{moment}", "type": "entry", "scanned_at": moment},
    )
    assert response.status_code in (200, 400, 422), response.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1850-06-01"])
async def test_festival_days_outside_what_orders_accept_are_refused(
    client: Client, organiser: dict[str, str], day: str
) -> None:
    body: dict[str, Any] = {
        **FESTIVAL_BODY,
        "slug": f"edge-{day}",
        "meetings": [{"name_zh": "赛会", "name_en": "Meeting", "days": [{"date": day}]}],
    }
    response = await client.post("/api/v1/festivals", json=body, headers=organiser)
    assert response.status_code == 422, response.text
    assert "meetings.0.days.0.date" in [e["field"] for e in response.json()["errors"]]
