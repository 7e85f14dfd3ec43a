"""CSV and XLSX files that accountants and delegations open in Excel or WPS.

CSV is UTF-8 with a byte-order mark and CRLF line ends, so the Chinese text shows right;
XLSX has a bold, frozen header row on every sheet.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[Any]


def csv_bytes(header: Row, rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Row
    rows: Iterable[Row]
    date_columns: Sequence[int] = ()
    """0-based columns holding datetimes: shown as ``yyyy-mm-dd hh:mm:ss``."""


def xlsx_bytes(*sheets: Sheet) -> bytes:
    from openpyxl import Workbook  # heavy: imported only when a spreadsheet is asked for
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for spec in sheets:
        sheet = book.create_sheet(spec.title[:31])
        sheet.append(list(spec.header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
        for column in spec.date_columns:
            letter = sheet.cell(row=1, column=column + 1).column_letter
            sheet.column_dimensions[letter].width = 22
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
