"""Races take a Tibetan name (``name_bo``), shown on the owners' pages in Tibetan."""

from tests.conftest import Client
from tests.registration.conftest import HorseFactory, OwnerFactory, RaceFactory

RACE_BO = "རྟ་རྒྱུགས་རིང་པོ།"


async def test_a_race_with_a_tibetan_name_is_shown_in_tibetan_to_owners(
    client: Client, make_race: RaceFactory, sign_up: OwnerFactory, add_horse: HorseFactory
) -> None:
    race = await make_race(code="long", name_zh="马长跑", name_en="Long race", name_bo=RACE_BO)
    assert race["name_bo"] == RACE_BO
    plain = await make_race(code="short", name_zh="马短跑", name_en="Short race")
    assert plain["name_bo"] == ""
    account = await sign_up(mobile="13900000417")
    await add_horse(account)
    login = await client.post(
        "/owners/login", data={"login": "13900000417", "password": "horse-owner-pw", "next": "/my"}
    )
    assert login.status_code == 303, login.text
    assert account.owner["name"] == "扎西"

    page = await client.get("/my/enter?lang=bo")
    assert page.status_code == 200
    assert RACE_BO in page.text
    assert "马短跑" in page.text  # no Tibetan name: the Chinese one
    assert "འགྲན་བསྡུར་ལ་ཞུགས།" in page.text  # reg.enter
    english = await client.get("/my/enter?lang=en")
    assert "Long race" in english.text
    assert RACE_BO not in english.text


async def test_a_race_name_in_tibetan_is_edited_and_a_too_long_one_is_a_422(
    client: Client, make_race: RaceFactory, organiser: dict[str, str]
) -> None:
    race = await make_race(code="long")
    url = f"/api/v1/races/{race['id']}"
    changed = await client.patch(url, json={"name_bo": RACE_BO}, headers=organiser)
    assert changed.status_code == 200, changed.text
    assert changed.json()["name_bo"] == RACE_BO
    response = await client.patch(url, json={"name_bo": "ཀ" * 201}, headers=organiser)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name_bo"
