"""Registration on SQLite (the zero-setup default of `make run`): the main flow works."""

import datetime as dt

from tests.conftest import FESTIVAL_BODY, Client, pay_path
from tests.registration.conftest import horse_body, race_body, sign_up_body


async def test_sign_up_horse_race_entry_payment_withdrawal_and_summary_on_sqlite(
    sqlite_client: Client, sqlite_organiser: dict[str, str]
) -> None:
    organiser = sqlite_organiser
    festival = (
        await sqlite_client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=organiser)
    ).json()
    race = await sqlite_client.post(
        f"/api/v1/festivals/{festival['id']}/races",
        headers=organiser,
        json=race_body(
            festival["meetings"][0]["days"][0]["id"], field_size=1, local_provinces=["XZ"]
        ),
    )
    assert race.status_code == 201, race.text
    signed_up = (await sqlite_client.post("/api/v1/owners", json=sign_up_body())).json()
    owner = {"Authorization": f"Bearer {signed_up['access_token']}"}
    horses = [
        (await sqlite_client.post("/api/v1/horses", json=horse_body(), headers=owner)).json()
        for _ in range(2)
    ]
    rider = signed_up["owner"]["riders"][0]["id"]
    second_rider = (
        await sqlite_client.post(
            "/api/v1/owners/me/riders",
            headers=owner,
            json={"name": "达瓦", "birth_date": "1990-01-01"},
        )
    ).json()["id"]

    first = await sqlite_client.post(
        f"/api/v1/festivals/{festival['id']}/entries",
        headers={**owner, "Idempotency-Key": "a"},
        json={"race_id": race.json()["id"], "horse_id": horses[0]["id"], "rider_id": rider},
    )
    replay = await sqlite_client.post(
        f"/api/v1/festivals/{festival['id']}/entries",
        headers={**owner, "Idempotency-Key": "a"},
        json={"race_id": race.json()["id"], "horse_id": horses[0]["id"], "rider_id": rider},
    )
    second = await sqlite_client.post(
        f"/api/v1/festivals/{festival['id']}/entries",
        headers=owner,
        json={"race_id": race.json()["id"], "horse_id": horses[1]["id"], "rider_id": second_rider},
    )

    assert first.status_code == 201, first.text
    assert replay.json() == first.json()
    assert second.json()["status"] == "waiting"
    paid = await sqlite_client.post(pay_path(first.json()["payment_id"]))
    assert paid.status_code == 200, paid.text
    withdrawn = await sqlite_client.post(
        f"/api/v1/entries/{first.json()['id']}/withdraw", headers=owner
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["refund"]["amount"] == 20000
    assert withdrawn.json()["moved_up_entry_id"] == second.json()["id"]
    summary = (
        await sqlite_client.get(f"/api/v1/festivals/{festival['id']}/entries/summary")
    ).json()
    assert summary["by_status"] == {"pending_payment": 1, "withdrawn": 1}
    assert dt.date.fromisoformat(withdrawn.json()["entry"]["race_date"])
