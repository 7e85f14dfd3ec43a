"""Sponsors: what they sponsor ("XX Cup" naming), pledges and contributions in kind,
logos checked by decoding them, refusals that store nothing."""

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from events.db.engine import Database
from events.funding import services as funding_services
from tests.conftest import Client
from tests.funding.conftest import base, counts


def png(size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def sponsor_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_zh": "当雄县牧业合作社",
        "name_en": "Damxung Herders' Co-op",
        "contact_name": "扎西",
        "contact_phone": "13900000001",
        "tier": "community",
        "pledged_fen": 10_000_000,
        "pledged_on": "2027-01-10",
        "due_on": "2027-04-01",
    }
    body.update(overrides)
    return body


async def awards_of(
    client: Client, festival: dict[str, Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    response = await client.get(f"{base(festival)}/awards", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_sponsor_of_an_award_names_it_and_carries_its_prize_in_kind(
    client: Client, db: Database, prize_list: dict[str, Any], organiser: dict[str, str]
) -> None:
    festival = prize_list
    awards = await awards_of(client, festival, organiser)
    king = next(a for a in awards if a["name_en"].startswith("Horse king"))
    categories = (await client.get(f"{base(festival)}/award-categories", headers=organiser)).json()[
        "items"
    ]
    long_race = next(c for c in categories if c["code"] == "long-10k")

    beer = await client.post(
        f"{base(festival)}/sponsors",
        headers=organiser,
        json=sponsor_body(
            name_zh="拉萨啤酒",
            name_en="Lhasa Beer",
            tier="title",
            target="category",
            target_id=long_race["id"],
            pledged_fen=30_000_000,
        ),
    )
    moto = await client.post(
        f"{base(festival)}/sponsors",
        headers=organiser,
        json=sponsor_body(
            name_zh="高原摩托",
            name_en="Plateau Motors",
            tier="in_kind",
            target="award",
            target_id=king["id"],
            pledged_fen=0,
            in_kind=[
                {
                    "description_zh": "摩托车一辆",
                    "description_en": "A motorcycle",
                    "value_fen": 1_280_000,
                    "award_id": king["id"],
                }
            ],
        ),
    )

    assert (beer.status_code, moto.status_code) == (201, 201), (beer.text, moto.text)
    assert moto.json()["in_kind_value_fen"] == 1_280_000
    assert moto.json()["in_kind"][0]["description_en"] == "A motorcycle"
    async with db.session_factory() as session:
        names = await funding_services.sponsor_names_for(session, uuid.UUID(festival["id"]))
    assert {k: (v.name_zh, v.cup_en) for k, v in names.items()} == {
        uuid.UUID(long_race["id"]): ("拉萨啤酒", "Lhasa Beer Cup"),
        uuid.UUID(king["id"]): ("高原摩托", "Plateau Motors Cup"),
    }

    statement = (
        await client.get(
            f"{base(festival)}/sponsors/{beer.json()['id']}/statement", headers=organiser
        )
    ).json()
    [placement] = statement["placements"]
    assert placement["kind"] == "category"
    assert placement["label_zh"] == "拉萨啤酒杯 马长跑 10公里（公开组）"
    assert placement["prize_fen"] == 31_500_000  # the long race's 20 places: 315,000 yuan


@pytest.mark.parametrize(
    ("change", "field", "status", "code"),
    [
        ({"pledged_fen": -1}, "pledged_fen", 422, "validation_failed"),
        ({"tier": "platinum"}, "tier", 422, "validation_failed"),
        ({"target": "award"}, "target_id", 422, "validation_failed"),
        ({"target": "award", "target_id": str(uuid.uuid4())}, "target_id", 422, "unknown_target"),
        (
            {"target": "category", "target_id": str(uuid.uuid4())},
            "target_id",
            422,
            "unknown_target",
        ),
        ({"target_id": str(uuid.uuid4())}, "target_id", 422, "validation_failed"),
        ({"due_on": "2026-12-31"}, "due_on", 422, "validation_failed"),
        (
            {"in_kind": [{"description_zh": "马鞍", "description_en": "Saddle", "value_fen": 0}]},
            "in_kind.0.value_fen",
            422,
            "validation_failed",
        ),
        ({"name_zh": ""}, "name_zh", 422, "validation_failed"),
    ],
)
async def test_a_bad_sponsor_is_refused_and_nothing_is_stored(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    organiser: dict[str, str],
    change: dict[str, Any],
    field: str,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        f"{base(festival)}/sponsors", json=sponsor_body(**change), headers=organiser
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await counts(db) == (0, 0, 0)


async def test_the_same_sponsor_twice_is_a_conflict(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    first = await client.post(f"{base(festival)}/sponsors", json=sponsor_body(), headers=organiser)
    again = await client.post(f"{base(festival)}/sponsors", json=sponsor_body(), headers=organiser)
    assert (first.status_code, again.status_code, again.json()["code"]) == (
        201,
        409,
        "sponsor_exists",
    )
    listing = (await client.get(f"{base(festival)}/sponsors", headers=organiser)).json()
    assert (listing["total"], len(listing["items"]), listing["limit"], listing["offset"]) == (
        1,
        1,
        50,
        0,
    )


async def test_a_logo_is_decoded_before_it_is_kept(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    sponsor = (
        await client.post(f"{base(festival)}/sponsors", json=sponsor_body(), headers=organiser)
    ).json()
    url = f"{base(festival)}/sponsors/{sponsor['id']}/logo"
    truncated = png()[:-40]
    big = io.BytesIO()
    Image.frombytes("RGB", (800, 800), bytes(range(256)) * 7500).save(big, format="BMP")

    refusals = {
        "text": await client.put(url, content=b"<svg onload=alert(1)>", headers=organiser),
        "pdf": await client.put(url, content=b"%PDF-1.4 not a logo", headers=organiser),
        "truncated": await client.put(url, content=truncated, headers=organiser),
        "large": await client.put(url, content=b"\x89PNG" + b"0" * 600_000, headers=organiser),
        "bmp": await client.put(url, content=big.getvalue()[:500_000], headers=organiser),
        "empty": await client.put(url, content=b"", headers=organiser),
    }
    assert {k: (r.status_code, r.json()["code"]) for k, r in refusals.items()} == {
        "text": (422, "logo_not_an_image"),
        "pdf": (422, "logo_not_an_image"),
        "truncated": (422, "logo_not_an_image"),
        "large": (422, "logo_too_large"),
        "bmp": (422, "logo_not_an_image"),
        "empty": (422, "logo_missing"),
    }
    assert (await client.get(url)).status_code == 404

    ok = await client.put(url, content=png(), headers=organiser)
    assert ok.status_code == 200, ok.text
    assert ok.json()["logo_url"] == url
    public = await client.get(url)  # no token: logos are shown on public pages
    assert (public.status_code, public.headers["content-type"], public.content) == (
        200,
        "image/png",
        png(),
    )
