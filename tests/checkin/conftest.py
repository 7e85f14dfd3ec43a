"""Check-in fixtures: a festival with tickets sold and paid, gate devices, a fixed clock."""

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Client
from tests.ticketing.conftest import Catalog, buy, catalog, pay  # noqa: F401 (fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")
_nonces = itertools.count(1)


def nonce() -> str:
    return f"n-{next(_nonces)}"


@dataclass
class Gate:
    id: str
    device_id: str
    headers: dict[str, str]
    name_en: str = ""


async def make_device(
    client: Client,
    organiser: dict[str, str],
    festival_id: str,
    gate_id: str,
    name: str = "phone",
    name_en: str = "",
) -> Gate:
    response = await client.post(
        f"/api/v1/festivals/{festival_id}/devices",
        headers=organiser,
        json={"gate_id": gate_id, "name": name},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Gate(
        id=gate_id,
        device_id=body["device_id"],
        headers={"Authorization": body["authorization"]},
        name_en=name_en,
    )


@pytest.fixture
async def gates(
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,  # noqa: F811
    festival: dict[str, Any],
) -> list[Gate]:
    """One device at each of the festival's gates (east, north)."""
    return [
        await make_device(client, organiser, festival["id"], g["id"], g["code"], g["name_en"])
        for g in festival["gates"]
    ]


async def tickets_of(
    client: Client,
    catalog: Catalog,  # noqa: F811 - the fixture, asked for by name
    ticket_type: dict[str, Any],
    quantity: int = 1,
) -> list[dict[str, Any]]:
    """Buy and pay ``quantity`` tickets of a type; their rows, each with its ``token``."""
    order = await pay(client, await buy(client, catalog, [(ticket_type, quantity)]))
    tickets: list[dict[str, Any]] = order["tickets"]
    return tickets


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the check-in clock to a local time on a festival day."""

    def set_clock(date: str, hour: int = 10, minute: int = 0) -> dt.datetime:
        moment = dt.datetime.combine(
            dt.date.fromisoformat(date), dt.time(hour, minute), SHANGHAI
        ).astimezone(dt.UTC)
        monkeypatch.setattr("events.checkin.services.utcnow", lambda: moment)
        return moment

    return set_clock


async def scan(
    client: Client,
    gate: Gate,
    secret: str,
    *,
    kind: str = "entry",
    nonce_value: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/checkin/scan",
        headers=gate.headers,
        json={"secret": secret, "nonce": nonce_value or nonce(), "type": kind, **extra},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
