"""Owner sign-up (public), the owner's profile and riders."""

from typing import Any

from events.access.models import Role, User
from events.db.engine import Database
from events.registration.models import Owner, Rider
from tests.conftest import Client
from tests.registration.conftest import (
    OwnerFactory,
    count_rows,
    mobile,
    rows,
    sign_up_body,
)


async def test_sign_up_creates_an_owner_account_profile_and_riders(
    client: Client, db: Database
) -> None:
    body = sign_up_body(
        mobile="+86 138-1234-5678",
        province="Sichuan",
        username="tashi",
        riders=[
            {"name": "次仁", "birth_date": "1995-03-01"},
            {
                "name": "小达娃",
                "birth_date": "2014-06-01",
                "guardian_name": "卓玛",
                "guardian_consent": True,
            },
        ],
    )

    response = await client.post("/api/v1/owners", json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "tashi"
    assert created["owner"]["mobile"] == "13812345678"
    assert created["owner"]["province"] == "SC"
    assert created["owner"]["province_zh"] == "四川"
    [user] = await rows(db, User, User.username == "tashi")
    assert user.role == Role.OWNER
    [owner] = await rows(db, Owner)
    assert (owner.user_id, owner.mobile, owner.county) == (user.id, "13812345678", "当雄县")
    riders = await rows(db, Rider)
    assert {r.name for r in riders} == {"次仁", "小达娃"}
    me = await client.get(
        "/api/v1/owners/me", headers={"Authorization": f"Bearer {created['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == str(owner.id)


async def test_the_username_defaults_to_the_mobile_number(client: Client) -> None:
    number = mobile()
    response = await client.post("/api/v1/owners", json=sign_up_body(mobile=number))
    assert response.status_code == 201
    assert response.json()["username"] == number


async def test_a_taken_username_is_409_username_taken_and_nothing_is_stored(
    client: Client, db: Database, sign_up: OwnerFactory
) -> None:
    await sign_up(username="dorje")
    response = await client.post("/api/v1/owners", json=sign_up_body(username="dorje"))
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    assert await count_rows(db, Owner) == 1


async def test_a_registered_mobile_is_409_mobile_taken(
    client: Client, db: Database, sign_up: OwnerFactory
) -> None:
    account = await sign_up()
    response = await client.post(
        "/api/v1/owners", json=sign_up_body(mobile=account.owner["mobile"])
    )
    assert response.status_code == 409
    assert response.json()["code"] == "mobile_taken"
    assert await count_rows(db, User) == 1


async def test_every_bad_field_is_named_and_nothing_is_half_saved(
    client: Client, db: Database
) -> None:
    body = sign_up_body(
        mobile="12345678901",
        province="Atlantis",
        county="",
        riders=[
            {"name": "小扎西", "birth_date": "2015-01-01"},
            {"name": "未来", "birth_date": "2999-01-01"},
        ],
    )

    response = await client.post("/api/v1/owners", json=body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(messages) == {
        "mobile",
        "province",
        "county",
        "riders.0.guardian_consent",
        "riders.1.birth_date",
    }
    assert "11 digits" in messages["mobile"]
    assert "Unknown province" in messages["province"]
    assert "guardian" in messages["riders.0.guardian_consent"]
    assert "future" in messages["riders.1.birth_date"]
    assert await count_rows(db, User) == 0
    assert await count_rows(db, Owner) == 0


async def test_provinces_are_accepted_in_chinese_english_or_by_code(client: Client) -> None:
    for spelling, code in (("四川省", "SC"), ("Tibet", "XZ"), ("gs", "GS"), ("内蒙古", "NM")):
        response = await client.post("/api/v1/owners", json=sign_up_body(province=spelling))
        assert response.status_code == 201, (spelling, response.text)
        assert response.json()["owner"]["province"] == code
    listing = (await client.get("/api/v1/provinces")).json()
    assert (listing["total"], len(listing["items"]), listing["offset"]) == (34, 34, 0)
    assert {
        "code": "XZ",
        "zh": "西藏",
        "zh_full": "西藏自治区",
        "en": "Xizang",
        "kind": "autonomous_region",
    } in listing["items"]
    second = (await client.get("/api/v1/provinces?limit=10&offset=30")).json()
    assert (second["total"], len(second["items"])) == (34, 4)


async def test_an_owner_adds_riders_minors_only_with_consent(
    client: Client, db: Database, sign_up: OwnerFactory
) -> None:
    account = await sign_up()
    minor: dict[str, Any] = {"name": "达娃", "birth_date": "2013-05-05"}

    refused = await client.post("/api/v1/owners/me/riders", json=minor, headers=account.headers)
    accepted = await client.post(
        "/api/v1/owners/me/riders",
        headers=account.headers,
        json={**minor, "guardian_consent": True, "guardian_name": "卓玛"},
    )
    again = await client.post(
        "/api/v1/owners/me/riders",
        headers=account.headers,
        json={**minor, "guardian_consent": True},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "guardian_consent"
    assert accepted.status_code == 201
    assert again.status_code == 409
    assert again.json()["code"] == "rider_exists"
    assert await count_rows(db, Rider) == 2


async def test_owner_routes_need_an_owner(client: Client, organiser: dict[str, str]) -> None:
    assert (await client.get("/api/v1/owners/me")).status_code == 401
    assert (await client.get("/api/v1/owners/me", headers=organiser)).status_code == 403
