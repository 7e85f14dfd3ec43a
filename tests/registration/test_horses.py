"""Horses: identity (microchip, likely duplicates), validation, who sees which."""

from events.db.engine import Database
from events.registration.models import Horse
from tests.conftest import Client
from tests.registration.conftest import (
    HorseFactory,
    OwnerFactory,
    chip,
    count_rows,
    horse_body,
    rows,
)


async def test_an_owner_registers_a_horse_with_its_identity(
    client: Client, db: Database, sign_up: OwnerFactory
) -> None:
    account = await sign_up(province="青海")
    body = horse_body(
        name_zh="追风",
        name_bo="རྟ་",
        name_en="Wind Chaser",
        sex="gelding",
        birth_year=2018,
        height_cm=138,
        colour="枣红",
        markings="额星",
        breed="藏马",
        microchip="956 000 012 345 678",
        passport_number="QH-2018-07",
    )

    response = await client.post("/api/v1/horses", json=body, headers=account.headers)

    assert response.status_code == 201, response.text
    horse = response.json()
    assert horse["microchip"] == "956000012345678"
    assert horse["origin_province"] == "QH"  # the owner's, by default
    [stored] = await rows(db, Horse)
    assert (stored.name_zh, stored.name_bo, stored.sex, stored.height_cm, stored.owner_id) == (
        "追风",
        "རྟ་",
        "gelding",
        138,
        stored.owner_id,
    )
    assert str(stored.owner_id) == account.id


async def test_a_second_horse_with_the_same_microchip_is_409_microchip_taken(
    client: Client, db: Database, sign_up: OwnerFactory, add_horse: HorseFactory
) -> None:
    first, second = await sign_up(), await sign_up()
    number = chip()
    await add_horse(first, microchip=number)
    response = await client.post(
        "/api/v1/horses", json=horse_body(microchip=number), headers=second.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "microchip_taken"
    assert await count_rows(db, Horse) == 1


async def test_same_owner_name_and_birth_year_is_a_possible_duplicate_unless_confirmed(
    client: Client, db: Database, sign_up: OwnerFactory, add_horse: HorseFactory
) -> None:
    account = await sign_up()
    original = await add_horse(account, name_zh="白云", birth_year=2017)
    body = horse_body(name_zh="白云", birth_year=2017)

    refused = await client.post("/api/v1/horses", json=body, headers=account.headers)
    confirmed = await client.post(
        "/api/v1/horses", json={**body, "confirm_duplicate": True}, headers=account.headers
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "possible_duplicate"
    assert refused.json()["horse_id"] == original["id"]
    assert confirmed.status_code == 201
    assert await count_rows(db, Horse) == 2


async def test_bad_horse_fields_are_each_named_and_nothing_is_stored(
    client: Client, db: Database, sign_up: OwnerFactory
) -> None:
    account = await sign_up()
    body = horse_body(
        microchip="95600001234567",
        height_cm=0,
        birth_year=2999,
        sex="unicorn",
        origin_province="Narnia",
    )

    response = await client.post("/api/v1/horses", json=body, headers=account.headers)

    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(fields) == {"microchip", "height_cm", "birth_year", "sex", "origin_province"}
    assert "15 digits" in fields["microchip"]
    assert "future" in fields["birth_year"]
    assert await count_rows(db, Horse) == 0


async def test_owners_see_their_own_horses_organisers_all_with_filters(
    client: Client, organiser: dict[str, str], sign_up: OwnerFactory, add_horse: HorseFactory
) -> None:
    tibet, sichuan = await sign_up(province="西藏"), await sign_up(province="四川")
    await add_horse(tibet, name_zh="雪山")
    await add_horse(sichuan, name_zh="草原")
    await add_horse(sichuan, name_zh="草原之星", microchip="156000000000001")

    mine = (await client.get("/api/v1/horses", headers=tibet.headers)).json()
    everyone = (await client.get("/api/v1/horses", headers=organiser)).json()
    from_sichuan = (await client.get("/api/v1/horses?province=Sichuan", headers=organiser)).json()
    by_chip = (await client.get("/api/v1/horses?q=156000", headers=organiser)).json()
    of_owner = (await client.get(f"/api/v1/horses?owner_id={tibet.id}", headers=organiser)).json()

    assert [h["name_zh"] for h in mine["items"]] == ["雪山"]
    assert everyone["total"] == 3
    assert {h["name_zh"] for h in from_sichuan["items"]} == {"草原", "草原之星"}
    assert [h["name_zh"] for h in by_chip["items"]] == ["草原之星"]
    assert [h["name_zh"] for h in of_owner["items"]] == ["雪山"]
    other = from_sichuan["items"][0]["id"]
    assert (await client.get(f"/api/v1/horses/{other}", headers=tibet.headers)).status_code == 404
    assert (await client.get(f"/api/v1/horses/{other}", headers=organiser)).status_code == 200


async def test_organisers_register_horses_for_an_owner(
    client: Client, organiser: dict[str, str], sign_up: OwnerFactory
) -> None:
    account = await sign_up()
    missing = await client.post("/api/v1/horses", json=horse_body(), headers=organiser)
    done = await client.post(
        "/api/v1/horses", json=horse_body(owner_id=account.id), headers=organiser
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "owner_id"
    assert done.status_code == 201
    assert done.json()["owner_id"] == account.id
    assert (await client.post("/api/v1/horses", json=horse_body())).status_code == 401
