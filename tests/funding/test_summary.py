"""The summary reconciles with the ledger to the fen, both ways; the coverage of the prize
list and its warning; exports; a sponsor's statement as JSON and PDF."""

import asyncio
import csv
import datetime as dt
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.engine import Database
from events.funding import services as funding_services
from events.funding.models import Direction
from events.payments.fulfilment import LedgerEvent, PaymentView
from tests.conftest import Client
from tests.funding.conftest import base, record, rows

YUAN = 100


async def sponsor(
    client: Client, festival: dict[str, Any], headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{base(festival)}/sponsors", headers=headers, json={"tier": "gold", **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def summary_of(
    client: Client, festival: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"{base(festival)}/funding/summary", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def mixed_ledger(
    client: Client, festival: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    """Every source, both directions, a reversal, odd fen amounts."""
    a = await sponsor(
        client,
        festival,
        headers,
        name_zh="当雄酥油茶馆",
        name_en="Damxung Tea House",
        pledged_fen=100_000 * YUAN,
    )
    b = await sponsor(
        client,
        festival,
        headers,
        name_zh="纳木错旅行社",
        name_en="Namtso Travel",
        pledged_fen=100_000 * YUAN,
    )
    await record(client, festival, headers, amount=600_000 * YUAN + 1)
    await record(
        client, festival, headers, source="sponsorship", sponsor_id=a["id"], amount=100_000 * YUAN
    )
    half = await record(
        client,
        festival,
        headers,
        source="sponsorship",
        sponsor_id=b["id"],
        amount=50_000 * YUAN + 37,
    )
    await record(client, festival, headers, source="ticket_revenue", amount=12_345)
    await record(client, festival, headers, source="entry_fees", amount=99_999)
    await record(
        client, festival, headers, source="other", direction="out", amount=7_777, note="banners"
    )
    wrong = await record(client, festival, headers, source="other", amount=123_456)
    reversal = await client.post(
        f"{base(festival)}/funding/{wrong['id']}/reversal",
        json={"reason": "not ours"},
        headers=headers,
    )
    assert reversal.status_code == 201
    return {"a": a, "b": b, "half": half}


async def test_the_summary_and_the_ledger_rows_agree_to_the_fen_both_ways(
    client: Client, db: Database, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    made = await mixed_ledger(client, festival, organiser)
    async with db.transaction() as session:  # a payout, as results would post it
        await funding_services.post_prize_payout(
            session,
            festival_id=uuid.UUID(festival["id"]),
            entitlement_id=uuid.uuid4(),
            award_id=None,
            amount=2_000 * YUAN + 3,
            currency="CNY",
            paid_at=dt.datetime.now(dt.UTC),
            reference="PAY-1",
            recorded_by=None,
        )

    summary = await summary_of(client, festival, organiser)
    stored = await rows(db)

    # From the rows to the summary.
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_sponsor: dict[str, int] = defaultdict(int)
    for row in stored:
        slot = by_source[row.source]
        slot[0 if row.direction == Direction.IN else 1] += row.amount
        slot[2] += 1
        if row.sponsor_id is not None:
            by_sponsor[str(row.sponsor_id)] += row.amount if row.direction == "in" else -row.amount
    assert {
        s["source"]: [s["received_fen"], s["paid_out_fen"], s["records"]]
        for s in summary["by_source"]
        if s["records"]
    } == dict(by_source)
    assert summary["received_fen"] == sum(r.amount for r in stored if r.direction == "in")
    assert summary["paid_out_fen"] == sum(r.amount for r in stored if r.direction == "out")
    assert summary["balance_fen"] == sum(
        r.amount if r.direction == "in" else -r.amount for r in stored
    )
    assert summary["records"] == len(stored) == 9
    assert {s["sponsor_id"]: s["received_fen"] for s in summary["by_sponsor"]} == dict(by_sponsor)

    # From the summary back to the rows: the parts add up to the whole.
    assert sum(s["net_fen"] for s in summary["by_source"]) == summary["balance_fen"]
    assert sum(s["received_fen"] for s in summary["by_source"]) == summary["received_fen"]
    sponsorship = next(s for s in summary["by_source"] if s["source"] == "sponsorship")
    assert sum(s["received_fen"] for s in summary["by_sponsor"]) == sponsorship["net_fen"]
    assert summary["balance_fen"] == (
        600_000 * YUAN
        + 1
        + 100_000 * YUAN
        + 50_000 * YUAN
        + 37
        + 12_345
        + 99_999
        - 7_777
        - (2_000 * YUAN + 3)
    )
    b = next(s for s in summary["by_sponsor"] if s["sponsor_id"] == made["b"]["id"])
    assert (b["pledged_fen"], b["received_fen"], b["outstanding_fen"]) == (
        100_000 * YUAN,
        50_000 * YUAN + 37,
        50_000 * YUAN - 37,
    )

    # The listing (what the page shows) adds up the same.
    listing = (
        await client.get(f"{base(festival)}/funding", params={"limit": 500}, headers=organiser)
    ).json()
    assert sum(i["signed_amount"] for i in listing["items"]) == summary["balance_fen"]

    # So do the exports.
    csv_file = await client.get(f"{base(festival)}/funding/export.csv", headers=organiser)
    assert csv_file.status_code == 200
    assert csv_file.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert len(table) == 9
    assert sum(int(r["signed_fen"]) for r in table) == summary["balance_fen"]
    assert {r["sponsor"] for r in table if r["sponsor_id"]} == {"当雄酥油茶馆", "纳木错旅行社"}
    xlsx = await client.get(f"{base(festival)}/funding/export.xlsx", headers=organiser)
    book = load_workbook(io.BytesIO(xlsx.content))
    ledger, totals = book.worksheets
    values = list(ledger.iter_rows(min_row=2, values_only=True))
    assert sum(int(v[5]) for v in values) == summary["balance_fen"]  # type: ignore[arg-type]
    assert list(totals.iter_rows(values_only=True))[-1][3] == summary["balance_fen"]


@pytest.fixture
def prize_money() -> Iterator[dict[str, int]]:
    """Prize money owed and paid as results would report it (the provider swapped in)."""
    figures = {"owed": 0, "paid": 0, "held": 0}

    async def provider(
        session: AsyncSession, festival_id: uuid.UUID
    ) -> funding_services.PrizeMoneyTotals:
        return funding_services.PrizeMoneyTotals(currency="CNY", **figures)

    previous = funding_services.prize_money_provider()
    funding_services.use_prize_money_provider(provider)
    yield figures
    funding_services.use_prize_money_provider(previous)


async def test_coverage_warns_when_the_prize_list_exceeds_money_received_and_pledged(
    client: Client,
    prize_list: dict[str, Any],
    organiser: dict[str, str],
    prize_money: dict[str, int],
) -> None:
    festival = prize_list
    await record(client, festival, organiser, amount=800_000 * YUAN)
    await sponsor(
        client,
        festival,
        organiser,
        name_zh="拉萨商贸",
        name_en="Lhasa Trading",
        pledged_fen=300_000 * YUAN,
    )

    short = await summary_of(client, festival, organiser)

    assert short["prize_money"]["committed_fen"] == 1_252_000 * YUAN
    assert short["coverage"]["cash_available_fen"] == 1_100_000 * YUAN
    assert short["coverage"]["cash_shortfall_fen"] == 152_000 * YUAN
    [warning] = short["warnings"]
    assert (warning["code"], warning["amount_fen"]) == ("commitments_exceed_funds", 152_000 * YUAN)
    assert short["coverage"]["covered_bp"] == 8785  # 1,100,000 / 1,252,000

    await record(client, festival, organiser, source="other", amount=152_000 * YUAN)
    prize_money.update(owed=300_000 * YUAN, paid=50_000 * YUAN)
    covered = await summary_of(client, festival, organiser)
    assert covered["coverage"]["cash_shortfall_fen"] == 0
    assert covered["coverage"]["covered_bp"] == 10_000
    assert (covered["prize_money"]["owed_fen"], covered["prize_money"]["paid_fen"]) == (
        300_000 * YUAN,
        50_000 * YUAN,
    )
    assert covered["warnings"] == []

    prize_money.update(owed=1_100_000 * YUAN)  # more owed and unpaid than the money held
    owed = await summary_of(client, festival, organiser)
    assert [w["code"] for w in owed["warnings"]] == ["owed_exceeds_balance"]
    assert owed["warnings"][0]["amount_fen"] == (1_050_000 - 952_000) * YUAN


async def test_concurrent_deliveries_of_one_payment_event_post_once(
    db: Database, festival: dict[str, Any]
) -> None:
    payment = PaymentView(
        id=uuid.uuid4(),
        festival_id=uuid.UUID(festival["id"]),
        purpose="entry_fee",
        reference_id=uuid.uuid4(),
        amount=60_000,
        amount_refunded=0,
        currency="CNY",
        status="succeeded",
        provider="stripe",
    )

    async def deliver() -> None:
        async with db.transaction() as session:
            await funding_services.post_payment(session, payment, LedgerEvent.RECEIVED, 60_000)

    await asyncio.gather(*(deliver() for _ in range(3)))

    [posted] = await rows(db)
    assert (posted.amount, posted.payment_id) == (60_000, payment.id)


async def test_a_sponsor_statement_as_json_and_as_pdf_in_both_languages(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    made = await mixed_ledger(client, festival, organiser)
    b = made["b"]["id"]

    statement = (
        await client.get(f"{base(festival)}/sponsors/{b}/statement", headers=organiser)
    ).json()
    assert (statement["pledged_fen"], statement["received_fen"], statement["outstanding_fen"]) == (
        100_000 * YUAN,
        50_000 * YUAN + 37,
        50_000 * YUAN - 37,
    )
    assert [line["amount"] for line in statement["lines"]] == [50_000 * YUAN + 37]
    assert statement["placements"][0]["kind"] == "festival"
    for lang in ("zh", "en"):
        pdf = await client.get(
            f"{base(festival)}/sponsors/{b}/statement.pdf", params={"lang": lang}, headers=organiser
        )
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    missing = await client.get(
        f"{base(festival)}/sponsors/{uuid.uuid4()}/statement", headers=organiser
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "sponsor_not_found")


async def test_the_charts_are_svg_drawn_on_the_server(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    await mixed_ledger(client, festival, organiser)
    by_source = await client.get(
        f"{base(festival)}/funding/charts/by-source.svg", params={"lang": "en"}, headers=organiser
    )
    coverage = await client.get(f"{base(festival)}/funding/charts/coverage.svg", headers=organiser)
    assert by_source.headers["content-type"].startswith("image/svg+xml")
    assert 'data-key="self_raised" data-fen="60000001"' in by_source.text
    assert "Self-raised funds" in by_source.text
    assert "承诺奖金" in coverage.text
    assert (await client.get(f"{base(festival)}/funding/charts/coverage.svg")).status_code == 401
