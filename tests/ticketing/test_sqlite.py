"""Ticketing on SQLite (aiosqlite), the zero-setup default of `make run`: buy, pay, refund."""

import io

import zxingcpp
from PIL import Image

from tests.conftest import FESTIVAL_BODY, Client, pay_path

KEY = {"Idempotency-Key": "k1-0f5e6a52-6a0b-4c1e"}


async def test_buy_pay_scan_and_refund_on_sqlite(
    sqlite_client: Client, sqlite_organiser: dict[str, str]
) -> None:
    auth = sqlite_organiser
    festival = (
        await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=auth)
    ).json()
    base = f"/api/v1/festivals/{festival['id']}"
    day = festival["meetings"][0]["days"][0]["id"]
    ground = (
        await sqlite_client.post(
            f"{base}/enclosures",
            headers=auth,
            json={"code": "ground", "name_zh": "草原", "name_en": "Ground"},
        )
    ).json()
    ticket_type = (
        await sqlite_client.post(
            f"{base}/ticket-types",
            headers=auth,
            json={
                "code": "d1",
                "name_zh": "第一天",
                "name_en": "Day 1",
                "enclosure_id": ground["id"],
                "day_ids": [day],
                "price": 8000,
                "capacity": 3,
            },
        )
    ).json()
    assert ticket_type["remaining"] == 3

    placed = await sqlite_client.post(
        f"{base}/orders",
        headers=KEY,
        json={
            "email": "a@example.com",
            "items": [{"ticket_type_id": ticket_type["id"], "quantity": 2}],
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    again = await sqlite_client.post(
        f"{base}/orders",
        headers=KEY,
        json={
            "email": "a@example.com",
            "items": [{"ticket_type_id": ticket_type["id"], "quantity": 2}],
        },
    )
    assert again.json()["order_id"] == order["order_id"]
    too_many = await sqlite_client.post(
        f"{base}/orders",
        json={
            "email": "b@example.com",
            "items": [{"ticket_type_id": ticket_type["id"], "quantity": 2}],
        },
    )
    assert (too_many.status_code, too_many.json()["code"]) == (409, "sold_out")

    paid = await sqlite_client.post(pay_path(order["payment_id"]))
    assert paid.status_code == 200, paid.text
    got = (
        await sqlite_client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        )
    ).json()
    assert got["status"] == "paid"
    ticket = got["tickets"][0]
    png = await sqlite_client.get(
        f"/api/v1/tickets/{ticket['id']}/qr.png", params={"access_token": order["access_token"]}
    )
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [
        ticket["token"]
    ]

    refund = await sqlite_client.post(
        f"/api/v1/tickets/{ticket['id']}/refund", headers=auth, json={"reason": "ill"}
    )
    assert refund.json()["status"] == "refunded"
    keys = (await sqlite_client.get(f"{base}/ticket-keys", headers=auth)).json()
    assert [r["ticket_id"] for r in keys["revocations"]] == [ticket["id"]]
    listed = (await sqlite_client.get(f"{base}/ticket-types")).json()
    assert listed["items"][0]["remaining"] == 2
