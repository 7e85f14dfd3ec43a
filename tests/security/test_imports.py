"""Hostile spreadsheets: a declared dimension, a fake zip, NUL in a CSV. A 422, never a 500,
and never a worker stuck parsing."""

import io
import zipfile
from typing import Any

from openpyxl import Workbook

from events.registration import importing
from tests.awards.test_import import CSV_ZH, import_csv
from tests.conftest import Client
from tests.registration.conftest import RaceFactory
from tests.registration.test_import import ZH_HEADER, import_url, to_csv, zh_row


def workbook(rows: list[list[Any]], dimension: str | None = None, extra_rows: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None and not extra_rows:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                if dimension is not None:
                    start = xml.index('<dimension ref="') + len('<dimension ref="')
                    xml = xml[:start] + dimension + xml[xml.index('"', start) :]
                xml = xml.replace("</sheetData>", extra_rows + "</sheetData>")
                data = xml.encode()
            target.writestr(info, data)
    return out.getvalue()


def test_a_declared_dimension_is_not_trusted() -> None:
    bomb = workbook([ZH_HEADER, zh_row(0, "long")], dimension="A1:XFD3000")
    assert len(bomb) < 10_000
    rows = importing._cells(bomb)
    assert len(rows) == 2
    assert all(len(row) <= importing.MAX_COLUMNS for row in rows)


def test_a_far_cell_does_not_widen_every_row() -> None:
    far = '<row r="3000"><c r="XFD3000" t="inlineStr"><is><t>x</t></is></c></row>'
    rows = importing._cells(workbook([ZH_HEADER], dimension="A1:XFD3000", extra_rows=far))
    assert all(len(row) <= importing.MAX_COLUMNS for row in rows)
    assert len(rows) <= importing.MAX_ROWS + 2


def test_a_million_rows_are_not_all_read() -> None:
    many = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>x</t></is></c></row>'
        for i in range(2, 20_000)
    )
    rows = importing._cells(workbook([ZH_HEADER], extra_rows=many))
    assert len(rows) == importing.MAX_ROWS + 2
    sheet = importing.read_sheet(workbook([ZH_HEADER], extra_rows=many))
    assert any("At most" in p.message for p in sheet.problems)


async def test_an_xlsx_that_is_not_a_zip_is_422(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    response = await client.post(
        import_url(festival, dry_run=True),
        headers=organiser,
        content=b"PK\x03\x04 this is not a zip at all" * 10,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "file"


async def test_a_csv_with_nul_is_refused_by_the_dry_run(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], make_race: RaceFactory
) -> None:
    await make_race(code="long", field_size=3)
    body = to_csv(ZH_HEADER, [zh_row(0, "long", 马名="bad\x00horse")])
    for dry_run in (True, False):
        response = await client.post(
            import_url(festival, dry_run=dry_run), headers=organiser, content=body
        )
        assert response.status_code == 422, response.text


async def test_an_awards_csv_with_nul_is_refused(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    body = CSV_ZH.replace("赛牦牛", "赛\x00牦牛")
    for dry_run in ("true", "false"):
        response = await import_csv(client, festival, organiser, body, dry_run=dry_run)
        assert response.status_code == 422, response.text
