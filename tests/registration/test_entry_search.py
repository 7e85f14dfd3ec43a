"""Finding entries by the horse's microchip and by the owner (name or mobile), through
the API (the console's entries list uses the same filters)."""

from typing import Any

from tests.conftest import Client
from tests.registration.conftest import (
    HorseFactory,
    OwnerFactory,
    RaceFactory,
    chip,
    entries_url,
    mobile,
)


async def enter(
    client: Client,
    festival: dict[str, Any],
    race: dict[str, Any],
    account: Any,
    horse: dict[str, Any],
) -> str:
    response = await client.post(
        entries_url(festival),
        headers=account.headers,
        json={"race_id": race["id"], "horse_id": horse["id"], "rider_id": account.rider_id},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_entries_are_found_by_microchip_and_by_owner(
    client: Client,
    organiser: dict[str, str],
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    number = mobile()
    dawa = await sign_up(name="达瓦次仁", mobile=number)
    other = await sign_up(name="卓玛")
    microchip = chip()
    wanted = await enter(client, festival, race, dawa, await add_horse(dawa, microchip=microchip))
    await enter(client, festival, race, other, await add_horse(other, microchip=chip()))

    async def found(**params: str) -> list[str]:
        response = await client.get(entries_url(festival), headers=organiser, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert await found(microchip=microchip) == [wanted]
    assert await found(microchip=f"{microchip[:5]} {microchip[5:]}") == [wanted]  # spaced
    assert await found(microchip="000000000000000") == []
    assert await found(owner="达瓦") == [wanted]
    assert await found(owner=f"+86 {number}") == [wanted]
    assert len(await found()) == 2
