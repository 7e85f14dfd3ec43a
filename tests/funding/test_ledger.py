"""The funding ledger: receipts by hand, refusals that store nothing, reversals, and the
database refusing UPDATE and DELETE."""

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from events.db.engine import Database
from events.funding.models import FundingRecord
from tests.conftest import Client
from tests.funding.conftest import base, counts, receipt, record, rows


async def test_a_receipt_is_stored_with_who_recorded_it(
    client: Client, db: Database, festival: dict[str, Any], make_user: Any
) -> None:
    user = await make_user("organiser")
    headers = {"Authorization": user["Authorization"]}

    body = await record(client, festival, headers)

    assert (
        body["source"],
        body["direction"],
        body["amount"],
        body["signed_amount"],
        body["currency"],
        body["origin"],
    ) == ("self_raised", "in", 50_000_000, 50_000_000, "CNY", "manual")
    [stored] = await rows(db)
    assert (stored.amount, stored.recorded_by, stored.reference, str(stored.occurred_on)) == (
        50_000_000,
        uuid.UUID(user["user_id"]),
        "BANK-0001",
        "2027-03-01",
    )


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amount": 0}, "amount", "validation_failed"),
        ({"amount": -100}, "amount", "validation_failed"),
        ({"amount": 1.5}, "amount", "validation_failed"),
        ({"source": "lottery"}, "source", "validation_failed"),
        ({"direction": "sideways"}, "direction", "validation_failed"),
        ({"source": "prize_payout", "direction": "out"}, "source", "invalid_source"),
        ({"source": "sponsorship"}, "sponsor_id", "validation_failed"),
        (
            {"source": "sponsorship", "sponsor_id": str(uuid.uuid4())},
            "sponsor_id",
            "unknown_sponsor",
        ),
        ({"award_id": str(uuid.uuid4())}, "award_id", "unknown_award"),
    ],
)
async def test_bad_input_is_refused_by_field_and_nothing_is_stored(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    organiser: dict[str, str],
    change: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = await client.post(
        f"{base(festival)}/funding", json=receipt(**change), headers=organiser
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await counts(db) == (0, 0, 0)


async def test_only_organisers_see_or_write_the_ledger(
    client: Client, festival: dict[str, Any], make_user: Any
) -> None:
    owner = await make_user("owner")
    url = f"{base(festival)}/funding"
    assert (await client.get(url)).status_code == 401
    assert (
        await client.get(url, headers={"Authorization": owner["Authorization"]})
    ).status_code == 403
    assert (
        await client.post(url, json=receipt(), headers={"Authorization": owner["Authorization"]})
    ).status_code == 403


async def test_a_reversal_corrects_a_wrong_record_without_deleting_it(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    wrong = await record(client, festival, organiser, amount=5_000_000)  # typed 50,000 yuan
    url = f"{base(festival)}/funding/{wrong['id']}/reversal"

    response = await client.post(url, json={"reason": "typed 50,000 for 5,000"}, headers=organiser)
    right = await record(client, festival, organiser, amount=500_000)

    assert response.status_code == 201, response.text
    reversal = response.json()
    assert (
        reversal["direction"],
        reversal["amount"],
        reversal["source"],
        reversal["reverses_id"],
        reversal["origin"],
    ) == ("out", 5_000_000, "self_raised", wrong["id"], "reversal")
    stored = {r.id: r for r in await rows(db)}
    assert len(stored) == 3
    assert stored[uuid.UUID(wrong["id"])].amount == 5_000_000  # still there, unchanged
    listing = (await client.get(f"{base(festival)}/funding", headers=organiser)).json()
    assert listing["total"] == 3
    by_id = {item["id"]: item for item in listing["items"]}
    assert by_id[wrong["id"]]["reversed_by_id"] == reversal["id"]
    summary = (await client.get(f"{base(festival)}/funding/summary", headers=organiser)).json()
    assert summary["balance_fen"] == right["amount"] == 500_000

    again = await client.post(url, json={"reason": "twice"}, headers=organiser)
    assert (again.status_code, again.json()["code"]) == (409, "already_reversed")
    of_reversal = await client.post(
        f"{base(festival)}/funding/{reversal['id']}/reversal",
        json={"reason": "undo"},
        headers=organiser,
    )
    assert (of_reversal.status_code, of_reversal.json()["code"]) == (409, "reversal_not_reversible")
    assert len(await rows(db)) == 3


async def test_a_reversal_of_a_missing_record_is_a_404_and_stores_nothing(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    for missing in (str(uuid.uuid4()), "not-an-id"):
        response = await client.post(
            f"{base(festival)}/funding/{missing}/reversal", json={"reason": "?"}, headers=organiser
        )
        assert response.status_code == 404, response.text
    assert response.json()["code"] in ("record_not_found", "not_found")
    assert await counts(db) == (0, 0, 0)


async def test_concurrent_reversals_of_one_record_reverse_it_once(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    wrong = await record(client, festival, organiser)
    url = f"{base(festival)}/funding/{wrong['id']}/reversal"

    responses = await asyncio.gather(
        *(client.post(url, json={"reason": f"try {i}"}, headers=organiser) for i in range(3))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    assert len(await rows(db, FundingRecord.reverses_id == uuid.UUID(wrong["id"]))) == 1


async def test_the_ledger_has_no_update_or_delete_route(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    wrong = await record(client, festival, organiser)
    url = f"{base(festival)}/funding/{wrong['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(method, url, json=receipt(), headers=organiser)
        assert response.status_code in (404, 405), (method, response.status_code)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE funding_record SET amount = 1",
        "UPDATE funding_record SET note = 'edited'",
        "DELETE FROM funding_record",
    ],
)
async def test_postgresql_refuses_update_and_delete_on_the_ledger(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    organiser: dict[str, str],
    statement: str,
) -> None:
    await record(client, festival, organiser)
    assert db.engine.dialect.name == "postgresql"

    with pytest.raises(DBAPIError, match="append-only"):
        async with db.engine.begin() as conn:
            await conn.execute(text(statement))

    [stored] = await rows(db)
    assert (stored.amount, stored.note) == (50_000_000, "组委会自筹 first instalment")


async def test_the_list_filters_and_pages(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    await record(client, festival, organiser, occurred_on="2027-03-01")
    await record(client, festival, organiser, source="other", amount=100, occurred_on="2027-04-01")
    await record(
        client,
        festival,
        organiser,
        source="other",
        direction="out",
        amount=40,
        occurred_on="2027-05-01",
    )
    url = f"{base(festival)}/funding"

    async def ids(**query: Any) -> tuple[int, list[int]]:
        body = (await client.get(url, params=query, headers=organiser)).json()
        return body["total"], [item["amount"] for item in body["items"]]

    assert await ids() == (3, [40, 100, 50_000_000])  # newest first
    assert await ids(source="other") == (2, [40, 100])
    assert await ids(direction="out") == (1, [40])
    assert await ids(**{"from": "2027-03-15", "to": "2027-04-30"}) == (1, [100])
    assert await ids(limit=1, offset=1) == (3, [100])
    bad = await client.get(url, params={"source": "lottery"}, headers=organiser)
    assert bad.status_code == 400 or bad.status_code == 422
