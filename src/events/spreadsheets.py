"""CSV and XLSX files that accountants and delegations open in Excel or WPS.

CSV is UTF-8 with a byte-order mark and CRLF line ends, so the Chinese text shows right;
XLSX has a bold, frozen header row on every sheet. Every file the platform writes goes
through here, so every cell is made safe in one place:

- text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, tab or CR: a buyer's ``=HYPERLINK(...)`` e-mail) is prefixed with ``'`` (OWASP's
  advice; Excel and WPS then show it as text), and XLSX cells are written as text, never
  as formulas;
- control characters that XML 1.0 cannot hold (``\x01`` in a horse name) are replaced
  with U+FFFD in XLSX, instead of making the export fail every time.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CSV_MEDIA_TYPE = "text/csv"
"""Litestar adds ``; charset=utf-8`` to text types itself (once)."""
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[Any]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_text(value: str) -> str:
    """``value`` as a spreadsheet shows it and never runs it."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def safe_cell(value: Any) -> Any:
    """A cell value: text made safe, everything else (numbers, dates, None) as it is."""
    return safe_text(value) if isinstance(value, str) else value


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids."""
    return _ILLEGAL_XML.sub("\ufffd", value)


def csv_bytes(header: Row, rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(v) for v in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_cell(value: Any) -> Any:
    return xml_text(safe_text(value)) if isinstance(value, str) else value


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
        sheet.append([_xlsx_cell(v) for v in spec.header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            sheet.append([_xlsx_cell(v) for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # openpyxl reads any text starting "=" as one
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        for column in spec.date_columns:
            letter = sheet.cell(row=1, column=column + 1).column_letter
            sheet.column_dimensions[letter].width = 22
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX_MAGIC = b"PK\x03\x04"
"""An XLSX workbook is a zip file."""
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024


class UnreadableWorkbook(ValueError):
    """The bytes are no readable XLSX workbook (a broken zip, a zip bomb, no sheet)."""


def read_xlsx_rows(content: bytes, *, max_rows: int, max_columns: int = 64) -> list[list[Any]]:
    """The first sheet's rows, streamed (read-only) and bounded: at most ``max_rows`` rows of
    ``max_columns`` cells whatever the file declares, the unpacked size checked first.
    CPU-bound: call it in a thread (``anyio.to_thread.run_sync``)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UnreadableWorkbook(f"Not an XLSX file (a broken zip): {exc}"[:200]) from exc
    if unpacked > MAX_UNZIPPED_BYTES:
        raise UnreadableWorkbook(f"The workbook unpacks to more than {MAX_UNZIPPED_BYTES} bytes.")
    from openpyxl import load_workbook  # heavy; only for spreadsheets

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableWorkbook(f"Not a readable XLSX workbook: {exc}"[:200]) from exc
    try:
        if not workbook.worksheets:
            return []
        rows = [
            list(row)
            for row in workbook.worksheets[0].iter_rows(
                max_row=max_rows, max_col=max_columns, values_only=True
            )
        ]
    finally:
        workbook.close()
    while rows and not any(v not in (None, "") for v in rows[-1]):
        rows.pop()
    return rows
