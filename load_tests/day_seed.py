"""Seed what a festival day under load needs, on top of `events demo`, through the API.

The demo festival's races are in 2027, and a gate admits only on the festival's own date,
so the day's gates and tickets belong to a festival made here for today (Asia/Shanghai):
a paid day ticket with the day's capacity, a free ticket for tomorrow (the codes shown at
the wrong day), gate devices, and the presale (most visitors buy before the day: orders
of 100 paid with the test provider). The results side is the demo festival: its July
races have published start lists and no result yet, so officials enter them while the
crowd watches the demo's results document. Everything is written to one JSON file that
the locustfile and the invariant checks read.
"""

import datetime as dt
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

SEED_THREADS = 4

DEMO_SLUG = "dangjiren-2027"
ORGANISER = ("organiser", "organiser-demo-2027")
OFFICIAL = ("official", "official-demo-2027")
PRICE = 100
"""Fen: a paid ticket, so every live purchase goes through a payment."""


def _login(client: httpx.Client, who: tuple[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": who[0], "password": who[1]})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def pay_call(order: dict[str, Any]) -> str:
    """The test provider's pay call for an order, with the pay_token of its pay link
    (``checkout_url``), as the buyer's phone makes it."""
    query = urlsplit(order["checkout_url"]).query
    return f"/api/v1/payments/{order['payment_id']}/test-complete?{query}"


def _buy(
    client: httpx.Client,
    festival_id: str,
    type_id: str,
    quantity: int,
) -> tuple[str, list[str]]:
    """A paid (or free) order, paid with the test provider; its id and ticket tokens."""
    order = _ok(
        client.post(
            f"/api/v1/festivals/{festival_id}/orders",
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json={
                "email": "presale@example.com",
                "items": [{"ticket_type_id": type_id, "quantity": quantity}],
            },
        )
    )
    if order.get("payment_id") and order["status"] != "paid":
        _ok(client.post(pay_call(order)))
    got = _ok(
        client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        )
    )
    return order["order_id"], [t["token"] for t in got["tickets"]]


def starters(entries: list[str]) -> list[dict[str, Any]]:
    """A finishing order that every ranking method but judges' scores accepts."""
    return [
        {
            "entry_id": e,
            "place": i,
            "time_hundredths": 60_000 + i * 37,
            "gait_faults": 0,
            "count": len(entries) - i + 1,
            "points": len(entries) - i + 1,
        }
        for i, e in enumerate(entries, 1)
    ]


def _races(
    client: httpx.Client,
    festival_id: str,
    official: dict[str, str],
) -> list[dict[str, Any]]:
    """The demo races still without a result whose start list is out, each entered once
    (provisional) by the official to be sure the day's corrections will be taken."""
    document = _ok(client.get(f"/api/v1/festivals/{festival_id}/results"))
    races = []
    for race in _walk_races(document):
        if race.get("state") != "scheduled":
            continue
        start_list = client.get(f"/api/v1/races/{race['race_id']}/start-list")
        if start_list.status_code != 200:
            continue
        entries = [s["entry_id"] for s in start_list.json().get("starters", [])]
        if not entries:
            continue
        entered = client.post(
            f"/api/v1/races/{race['race_id']}/results",
            headers=official,
            json={"starters": starters(entries)},
        )
        if entered.status_code in (200, 201):
            races.append({"id": race["race_id"], "entries": entries})
    return races


def _walk_races(node: Any) -> list[dict[str, Any]]:
    """Every race in the results document (a dict with a race_id and a state)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "state" in node and "race_id" in node:
            found.append(node)
        else:
            for value in node.values():
                found += _walk_races(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk_races(value)
    return found


def seed_day(
    base_url: str, out: Path, *, visitors: int, presale_share: float = 0.8, devices: int = 4
) -> dict[str, Any]:
    client = httpx.Client(base_url=base_url, timeout=120)
    org = _login(client, ORGANISER)
    zone = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(zone).date()
    tomorrow = today + dt.timedelta(days=1)
    festival = _ok(
        client.post(
            "/api/v1/festivals",
            headers=org,
            json={
                "slug": f"day-{uuid.uuid4().hex[:8]}",
                "name_zh": "压测赛马日",
                "name_en": "Load day",
                "meetings": [
                    {
                        "name_zh": "今日",
                        "name_en": "Today",
                        "days": [{"date": str(today)}, {"date": str(tomorrow)}],
                    }
                ],
                "gates": [
                    {"code": "north", "name_zh": "北门", "name_en": "North gate"},
                    {"code": "east", "name_zh": "东门", "name_en": "East gate"},
                ],
            },
        )
    )
    fid = festival["id"]
    days = festival["meetings"][0]["days"]
    ground = _ok(
        client.post(
            f"/api/v1/festivals/{fid}/enclosures",
            headers=org,
            json={"code": "ground", "name_zh": "草原观赛区", "name_en": "Ground"},
        )
    )
    day_type = _ok(
        client.post(
            f"/api/v1/festivals/{fid}/ticket-types",
            headers=org,
            json={
                "code": "day",
                "name_zh": "当日票",
                "name_en": "Day ticket",
                "enclosure_id": ground["id"],
                "day_ids": [days[0]["id"]],
                "price": PRICE,
                "max_per_order": 100,
                "capacity": visitors,
            },
        )
    )
    other_type = _ok(
        client.post(
            f"/api/v1/festivals/{fid}/ticket-types",
            headers=org,
            json={
                "code": "tomorrow",
                "name_zh": "明日票",
                "name_en": "Tomorrow",
                "enclosure_id": ground["id"],
                "day_ids": [days[1]["id"]],
                "price": 0,
                "max_per_order": 100,
                "capacity": 1000,
            },
        )
    )
    presold: list[str] = []
    orders: list[dict[str, Any]] = []
    target = int(visitors * presale_share)
    sizes = [min(100, target - start) for start in range(0, target, 100)]
    clients = threading.local()

    def buy(quantity: int) -> tuple[str, list[str]]:
        if not hasattr(clients, "client"):  # one connection per thread
            clients.client = httpx.Client(base_url=base_url, timeout=120)
        return _buy(clients.client, fid, day_type["id"], quantity)

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:  # both workers busy
        for order_id, tokens in pool.map(buy, sizes):
            orders.append({"order_id": order_id, "tickets": len(tokens)})
            presold += tokens
    _, other_day = _buy(client, fid, other_type["id"], 50)
    made = [
        _ok(
            client.post(
                f"/api/v1/festivals/{fid}/devices",
                headers=org,
                json={
                    "gate_id": festival["gates"][i % len(festival["gates"])]["id"],
                    "name": f"gate-{i}",
                },
            )
        )
        for i in range(devices)
    ]
    demo = _ok(client.get("/api/v1/festivals", params={"q": DEMO_SLUG}))["items"][0]
    config = {
        "festival_id": fid,
        "day_type_id": day_type["id"],
        "other_type_id": other_type["id"],
        "capacity": visitors,
        "today": str(today),
        "presold": presold,
        "presale_orders": orders,
        "other_day": other_day,
        "devices": [
            {"token": d["token"], "gate_id": festival["gates"][i % 2]["id"]}
            for i, d in enumerate(made)
        ],
        "results_festival_id": demo["id"],
        "races": _races(client, demo["id"], _login(client, OFFICIAL)),
        "official": list(OFFICIAL),
        "organiser": list(ORGANISER),
    }
    out.write_text(json.dumps(config))
    return config
