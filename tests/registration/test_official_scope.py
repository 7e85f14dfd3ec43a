"""Officials see every entry they may act on (issue 17 item 12: one scope rule for the
list, the detail and the inspect/scratch actions)."""

from typing import Any

from events.access.models import Role
from tests.conftest import Client, UserFactory, headers_of
from tests.registration.conftest import (
    RaceFactory,
    complete_payment,
    entries_url,
    stable,
)


async def test_an_official_lists_reads_and_inspects_the_same_entries(
    client: Client,
    db: Any,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
    make_user: UserFactory,
) -> None:
    official = headers_of(await make_user(Role.OFFICIAL))
    gate = headers_of(await make_user(Role.GATE))
    race = await make_race()
    [(horse, rider)] = await stable(db, count=1)
    entry = (
        await client.post(
            entries_url(festival),
            headers=organiser,
            json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
        )
    ).json()
    await complete_payment(client, entry["payment_id"])

    listed = await client.get(entries_url(festival), headers=official)
    detail = await client.get(f"/api/v1/entries/{entry['id']}", headers=official)
    inspected = await client.post(
        f"/api/v1/entries/{entry['id']}/inspect", headers=official, json={"passed": True}
    )

    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [entry["id"]]
    assert detail.status_code == 200, detail.text
    assert inspected.status_code == 200, inspected.text
    for denied in (
        await client.get(entries_url(festival), headers=gate),
        await client.get(f"/api/v1/entries/{entry['id']}", headers=gate),
        await client.post(
            f"/api/v1/entries/{entry['id']}/inspect", headers=gate, json={"passed": True}
        ),
    ):
        assert denied.status_code == 403
