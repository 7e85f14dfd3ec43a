"""Reading and writing whole prize lists: CSV (Chinese or English headers), JSON, XLSX.

Reading turns a file into rows that each carry where they came from (``lines.3`` in a CSV,
``awards.2`` in JSON) plus every error found; ``events.awards.prize_list`` checks the rows
against each other and the database, and stores all or nothing.

CSV: one row per award; the first line names the columns (any order, English or Chinese;
see ``COLUMNS``). Amounts are whole yuan in the ``*_yuan`` columns, or fen in the ``*_fen``
columns (one unit per file). The category columns other than ``category`` are needed only
to create a category the festival does not have yet (or to rename one). ``payee_split``
reads ``rider:20000; trainer:5000`` (or ``骑手:20000``): fixed parts for others than the
owner, in the file's unit. Encoding: UTF-8 (with or without BOM) or GB18030.

JSON: ``{"categories": [CategoryCreate...], "awards": [ImportAward...]}`` with amounts in
fen, as in the rest of the API.
"""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

from events.awards import schemas
from events.awards.models import Award, AwardCategory, AwardPayeeShare, Payee, RankingMethod
from events.spreadsheets import (
    XLSX_MAGIC,
    Sheet,
    UnreadableWorkbook,
    csv_bytes,
    read_xlsx_rows,
    xlsx_bytes,
)

MAX_ROWS = 5000

ImportFormat = Literal["csv", "json", "xlsx"]


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    aliases: tuple[str, ...] = ()


# The canonical English header, the Chinese header, and other spellings accepted.
COLUMNS: tuple[Column, ...] = (
    Column("category", "category", "类别代码", ("category_code", "类别", "类别编号")),
    Column("category_name_zh", "category_name_zh", "类别名称", ("类别中文名称",)),
    Column("category_name_en", "category_name_en", "类别英文名称"),
    Column("category_ranked_by", "ranked_by", "排名方式", ("category_ranked_by",)),
    Column("sponsor_label_zh", "sponsor_label_zh", "冠名", ("冠名赞助", "sponsor")),
    Column("sponsor_label_en", "sponsor_label_en", "冠名英文"),
    Column("place", "place", "名次"),
    Column("name_zh", "award_name_zh", "奖项名称", ("name_zh", "奖项")),
    Column("name_en", "award_name_en", "奖项英文名称", ("name_en",)),
    Column("award_ranked_by", "award_ranked_by", "奖项评定方式"),
    Column("prize_yuan", "prize_yuan", "奖金(元)", ("奖金", "prize")),
    Column("prize_fen", "prize_fen", "奖金(分)"),
    Column("in_kind_zh", "in_kind_zh", "实物奖品", ("实物奖品名称",)),
    Column("in_kind_en", "in_kind_en", "实物奖品英文"),
    Column("in_kind_value_yuan", "in_kind_value_yuan", "实物价值(元)", ("实物价值",)),
    Column("in_kind_value_fen", "in_kind_value_fen", "实物价值(分)"),
    Column("payee_split_yuan", "payee_split_yuan", "奖金分配(元)", ("奖金分配",)),
    Column("payee_split_fen", "payee_split_fen", "奖金分配(分)"),
)
_AMOUNT_KEYS = ("prize", "in_kind_value", "payee_split")
_CATEGORY_FIELDS = {
    "category_name_zh": "name_zh",
    "category_name_en": "name_en",
    "category_ranked_by": "ranked_by",
    "sponsor_label_zh": "sponsor_label_zh",
    "sponsor_label_en": "sponsor_label_en",
}

RANKING_LABELS: dict[str, RankingMethod] = {
    **{m.value: m for m in RankingMethod},
    "finish order": RankingMethod.FINISH_ORDER,
    "名次": RankingMethod.FINISH_ORDER,
    "完赛名次": RankingMethod.FINISH_ORDER,
    "到达顺序": RankingMethod.FINISH_ORDER,
    "用时": RankingMethod.TIME,
    "时间": RankingMethod.TIME,
    "gait-legal time": RankingMethod.GAIT_LEGAL_TIME,
    "合规用时": RankingMethod.GAIT_LEGAL_TIME,
    "走马用时": RankingMethod.GAIT_LEGAL_TIME,
    "数量": RankingMethod.COUNT,
    "计数": RankingMethod.COUNT,
    "命中数": RankingMethod.COUNT,
    "judges' score": RankingMethod.JUDGES_SCORE,
    "评分": RankingMethod.JUDGES_SCORE,
    "裁判评分": RankingMethod.JUDGES_SCORE,
    "积分": RankingMethod.POINTS,
}
RANKING_ZH = {
    RankingMethod.FINISH_ORDER: "名次",
    RankingMethod.TIME: "用时",
    RankingMethod.GAIT_LEGAL_TIME: "合规用时",
    RankingMethod.COUNT: "数量",
    RankingMethod.JUDGES_SCORE: "裁判评分",
    RankingMethod.POINTS: "积分",
}
PAYEE_LABELS: dict[str, Payee] = {
    **{p.value: p for p in Payee},
    "骑手": Payee.RIDER,
    "练马师": Payee.TRAINER,
    "驯马师": Payee.TRAINER,
    "马房": Payee.STABLE,
    "其他": Payee.OTHER,
}
PAYEE_ZH = {Payee.RIDER: "骑手", Payee.TRAINER: "练马师", Payee.STABLE: "马房", Payee.OTHER: "其他"}


def _normalise(text: str) -> str:
    """NFKC (full-width digits, brackets and commas become ASCII), trimmed, lower case,
    inner spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _spelling in {_column.key, _column.en, _column.zh, *_column.aliases}:
        assert _normalise(_spelling) not in _HEADER_INDEX, f"{_spelling} names two columns"
        _HEADER_INDEX[_normalise(_spelling)] = _column.key


@dataclass(frozen=True)
class RowRef:
    """Where a row came from: ``path`` prefixes its error fields; ``row`` is the CSV line
    number (the header is line 1) or the JSON index."""

    path: str
    row: int
    columns: Mapping[str, str] = field(default_factory=dict)
    """Model field -> the column it was read from, so errors name the file's column."""

    def field(self, name: str) -> str:
        return f"{self.path}.{self.columns.get(name, name)}"


@dataclass(frozen=True)
class RowError:
    ref: RowRef | None
    field: str
    message: str


@dataclass
class CategoryDraft:
    """A category as the file describes it; ``values`` holds only the fields given."""

    code: str
    ref: RowRef
    values: dict[str, Any]


@dataclass
class AwardRow:
    ref: RowRef
    award: schemas.ImportAward


@dataclass
class ParsedPrizeList:
    format: ImportFormat
    categories: list[CategoryDraft] = field(default_factory=list)
    awards: list[AwardRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    def error(self, ref: RowRef | None, field: str, message: str) -> None:
        self.errors.append(RowError(ref, field, message))


def parse(body: bytes, fmt: ImportFormat) -> ParsedPrizeList:
    if fmt == "json":
        return parse_json(body)
    if fmt == "xlsx":
        return parse_xlsx(body)
    return parse_csv(body)


def detect_format(content_type: str | None, body: bytes = b"") -> ImportFormat:
    """JSON for ``application/json``, CSV for ``text/csv``, XLSX for a workbook (by its
    media type or its zip signature); otherwise JSON when the body starts with ``{`` or
    ``[``."""
    media = (content_type or "").lower()
    if "json" in media:
        return "json"
    if "spreadsheetml" in media or body.startswith(XLSX_MAGIC):
        return "xlsx"
    if "csv" in media:
        return "csv"
    return "json" if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "csv"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def xlsx_as_csv(body: bytes) -> bytes:
    """The workbook's first sheet as CSV (row N of the sheet is line N of the CSV), so an
    XLSX prize list is read by exactly the CSV rules. Raises ``UnreadableWorkbook``."""
    rows = read_xlsx_rows(body, max_rows=MAX_ROWS + 2, max_columns=len(COLUMNS) + 8)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell_text(v).replace("\n", " ") for v in row])
    return out.getvalue().encode()


def parse_xlsx(body: bytes) -> ParsedPrizeList:
    try:
        text = xlsx_as_csv(body)
    except UnreadableWorkbook as exc:
        parsed = ParsedPrizeList(format="xlsx")
        parsed.error(None, "body", str(exc))
        return parsed
    parsed = parse_csv(text)
    parsed.format = "xlsx"
    return parsed


# --- JSON ----------------------------------------------------------------------------------


def _pydantic_errors(parsed: ParsedPrizeList, ref: RowRef, exc: pydantic.ValidationError) -> None:
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        name = loc[0] if loc else ""
        rest = "".join(f".{part}" for part in loc[1:])
        parsed.error(ref, (ref.field(name) if name else ref.path) + rest, err["msg"])


def parse_json(body: bytes) -> ParsedPrizeList:
    parsed = ParsedPrizeList(format="json")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        parsed.error(None, "body", "The body is not valid JSON.")
        return parsed
    if isinstance(document, list):
        document = {"awards": document}
    if not isinstance(document, dict):
        parsed.error(None, "body", 'Expected {"categories": [...], "awards": [...]}.')
        return parsed
    unknown = sorted(set(document) - {"categories", "awards"})
    for key in unknown:
        parsed.error(None, key, "Unknown member; expected categories and awards.")
    categories = document.get("categories", [])
    awards = document.get("awards")
    for key, value in (("categories", categories), ("awards", awards)):
        if not isinstance(value, list):
            parsed.error(None, key, "Expected a list.")
    if parsed.errors:
        return parsed
    assert isinstance(awards, list)
    assert isinstance(categories, list)
    if len(awards) > MAX_ROWS:
        parsed.error(None, "awards", f"At most {MAX_ROWS} awards per import.")
        return parsed
    for i, item in enumerate(categories):
        ref = RowRef(f"categories.{i}", i)
        try:
            category = schemas.CategoryCreate.model_validate(item)
        except pydantic.ValidationError as exc:
            _pydantic_errors(parsed, ref, exc)
            continue
        parsed.categories.append(
            CategoryDraft(
                category.code, ref, category.model_dump(exclude={"code"}, exclude_none=True)
            )
        )
    parsed.rows = len(awards)
    for i, item in enumerate(awards):
        ref = RowRef(f"awards.{i}", i)
        try:
            parsed.awards.append(AwardRow(ref, schemas.ImportAward.model_validate(item)))
        except pydantic.ValidationError as exc:
            _pydantic_errors(parsed, ref, exc)
    return parsed


# --- CSV -----------------------------------------------------------------------------------


def _decode(body: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+$")


def parse_amount(text: str, unit: str) -> int:
    """Whole yuan (``80000``, ``80,000``, ``¥80,000``) or whole fen, as fen."""
    value = unicodedata.normalize("NFKC", text).strip().removeprefix("¥").replace(" ", "")
    value = value.removesuffix("元") if unit == "yuan" else value.removesuffix("分")
    if value.startswith("-") and value[1:].replace(",", "").replace(".", "").isdigit():
        raise ValueError("must not be negative")
    if _GROUPED.match(value):
        value = value.replace(",", "")
    if not value.isdigit():
        if re.fullmatch(r"\d+\.\d*|\.\d+", value):
            raise ValueError(
                f"must be a whole number of {unit}"
                + ("; use the *_fen columns for fen" if unit == "yuan" else "")
            )
        raise ValueError(f"{text.strip()!r} is not a whole number of {unit}")
    amount = int(value) * (100 if unit == "yuan" else 1)
    if amount > schemas.MAX_FEN:
        raise ValueError("is too large")
    return amount


def parse_payee_split(text: str, unit: str) -> list[dict[str, Any]]:
    shares = []
    for part in re.split(r"[;；,，]\s*(?=\D)", text.strip()):
        if not part.strip():
            continue
        pieces = re.split(r"[:：=]", part, maxsplit=1)
        if len(pieces) != 2:
            raise ValueError(f"{part.strip()!r}: write payee:amount, e.g. rider:20000")
        label, amount = pieces[0].strip(), pieces[1]
        payee = PAYEE_LABELS.get(_normalise(label))
        if payee is None:
            raise ValueError(
                f"unknown payee {label!r}; use one of {', '.join(p.value for p in Payee)}"
            )
        shares.append({"payee": payee, "amount_fen": parse_amount(amount, unit)})
    return shares


def parse_ranking(text: str) -> RankingMethod:
    method = RANKING_LABELS.get(_normalise(text)) or RANKING_LABELS.get(text.strip().lower())
    if method is None:
        raise ValueError(
            f"unknown ranking {text.strip()!r}; use one of "
            f"{', '.join(m.value for m in RankingMethod)}"
        )
    return method


def _header(
    parsed: ParsedPrizeList, line: int, cells: Sequence[str]
) -> tuple[list[str | None], str]:
    """The canonical key of each column, and the amount unit of the file."""
    keys: list[str | None] = []
    ref = RowRef(f"lines.{line}", line)
    for i, cell in enumerate(cells):
        if not cell.strip():
            keys.append(None)
            continue
        key = _HEADER_INDEX.get(_normalise(cell))
        if key is None:
            parsed.error(
                ref,
                f"{ref.path}.{cell.strip()}",
                f"Unknown column {cell.strip()!r} (column {i + 1}); known: "
                + ", ".join(c.en for c in COLUMNS),
            )
        elif key in keys:
            parsed.error(
                ref, f"{ref.path}.{cell.strip()}", f"Column {cell.strip()!r} appears twice."
            )
        keys.append(key)
    units = {key.rsplit("_", 1)[1] for key in keys if key and key.startswith(_AMOUNT_KEYS)}
    if "category" not in keys:
        parsed.error(ref, f"{ref.path}.category", "The column 'category' (类别代码) is missing.")
    if "prize_yuan" not in keys and "prize_fen" not in keys:
        parsed.error(
            ref,
            f"{ref.path}.prize_yuan",
            "The column 'prize_yuan' (奖金(元)) or 'prize_fen' is missing.",
        )
    if len(units) > 1:
        parsed.error(ref, ref.path, "Use either *_yuan or *_fen amount columns, not both.")
    return keys, units.pop() if len(units) == 1 else "yuan"


def parse_csv(body: bytes) -> ParsedPrizeList:
    parsed = ParsedPrizeList(format="csv")
    text = _decode(body)
    if text is None:
        parsed.error(None, "body", "The file is neither UTF-8 nor GB18030 text.")
        return parsed
    if "\x00" in text:  # PostgreSQL text cannot hold NUL: refused in the dry run too
        parsed.error(None, "body", "The file holds NUL characters.")
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        parsed.error(
            RowRef(f"lines.{reader.line_num}", reader.line_num),
            f"lines.{reader.line_num}",
            f"Unreadable CSV: {exc}.",
        )
        return parsed
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        parsed.error(None, "body", "The file is empty.")
        return parsed
    header_line, header = rows[0]
    keys, unit = _header(parsed, header_line, header)
    if parsed.errors:
        return parsed
    if len(rows) - 1 > MAX_ROWS:
        parsed.error(None, "body", f"At most {MAX_ROWS} awards per import.")
        return parsed
    columns = {key: header[i].strip() for i, key in enumerate(keys) if key}
    model_columns = {**columns}
    if "award_ranked_by" in columns:
        model_columns["ranked_by"] = columns["award_ranked_by"]
    for base in _AMOUNT_KEYS:
        if f"{base}_{unit}" in columns:
            target = "payee_shares" if base == "payee_split" else f"{base}_fen"
            model_columns[target] = columns[f"{base}_{unit}"]
    parsed.rows = len(rows) - 1
    for line, cells in rows[1:]:
        ref = RowRef(f"lines.{line}", line, model_columns)
        if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
            parsed.error(
                ref, ref.path, f"Line {line} has {len(cells)} cells; the header has {len(keys)}."
            )
            continue
        raw = {
            key: cells[i].strip()
            for i, key in enumerate(keys)
            if key and i < len(cells) and cells[i].strip()
        }
        _csv_row(parsed, ref, raw, unit)
    return parsed


def _csv_row(parsed: ParsedPrizeList, ref: RowRef, raw: dict[str, str], unit: str) -> None:
    errors_before = len(parsed.errors)
    data: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            if key == "place":
                if not value.isdigit():
                    raise ValueError(f"{value!r} is not a whole number ≥ 1")
                data["place"] = int(value)
            elif key == "category_ranked_by":
                data[key] = parse_ranking(value)
            elif key == "award_ranked_by":
                data["ranked_by"] = parse_ranking(value)
            elif key == f"prize_{unit}":
                data["prize_fen"] = parse_amount(value, unit)
            elif key == f"in_kind_value_{unit}":
                data["in_kind_value_fen"] = parse_amount(value, unit)
            elif key == f"payee_split_{unit}":
                data["payee_shares"] = parse_payee_split(value, unit)
            else:
                data[key] = value
        except ValueError as exc:
            parsed.error(ref, ref.field(key), str(exc))
    if f"prize_{unit}" not in raw:
        parsed.error(ref, ref.field("prize_fen"), "The prize is missing.")
    if "category" not in raw:
        parsed.error(ref, ref.field("category"), "The category is missing.")
    category_values = {
        target: data.pop(key) for key, target in _CATEGORY_FIELDS.items() if key in data
    }
    draft_ref = RowRef(
        ref.path,
        ref.row,
        {target: ref.columns.get(key, key) for key, target in _CATEGORY_FIELDS.items()},
    )
    try:
        category_values = schemas.CategoryUpdate.model_validate(category_values).model_dump(
            exclude_unset=True
        )
    except pydantic.ValidationError as exc:
        _pydantic_errors(parsed, draft_ref, exc)
    try:
        award = schemas.ImportAward.model_validate(data)
    except pydantic.ValidationError as exc:
        _pydantic_errors(parsed, ref, exc)
        return
    if len(parsed.errors) > errors_before:
        return
    parsed.awards.append(AwardRow(ref, award))
    if category_values:
        parsed.categories.append(CategoryDraft(award.category, draft_ref, category_values))


# --- Export --------------------------------------------------------------------------------


def _payee_text(shares: Iterable[AwardPayeeShare], unit: str, lang: str) -> str:
    return "; ".join(
        f"{PAYEE_ZH[Payee(s.payee)] if lang == 'zh' else Payee(s.payee).value}:"
        f"{s.amount_fen // 100 if unit == 'yuan' else s.amount_fen}"
        for s in shares
    )


def export_rows(
    categories: Sequence[AwardCategory],
    awards: Sequence[Award],
    shares: Mapping[Any, Sequence[AwardPayeeShare]],
    lang: str = "en",
) -> tuple[list[str], list[list[str | int]]]:
    """The header and one row per award; reads back with ``parse_csv``. Whole yuan when
    every amount is whole yuan, else fen."""
    amounts = (
        [a.prize_fen for a in awards]
        + [a.in_kind_value_fen for a in awards]
        + [s.amount_fen for group in shares.values() for s in group]
    )
    unit = "yuan" if all(x % 100 == 0 for x in amounts) else "fen"
    keys = [
        "category",
        "category_name_zh",
        "category_name_en",
        "category_ranked_by",
        "sponsor_label_zh",
        "sponsor_label_en",
        "place",
        "name_zh",
        "name_en",
        "award_ranked_by",
        f"prize_{unit}",
        "in_kind_zh",
        "in_kind_en",
        f"in_kind_value_{unit}",
        f"payee_split_{unit}",
    ]
    by_key = {c.key: c for c in COLUMNS}
    header = [by_key[k].zh if lang == "zh" else by_key[k].en for k in keys]
    by_id = {c.id: c for c in categories}
    scale = 100 if unit == "yuan" else 1

    def ranking(method: RankingMethod | None) -> str:
        if method is None:
            return ""
        method = RankingMethod(method)  # a plain str when read from the database
        return RANKING_ZH[method] if lang == "zh" else method.value

    rows: list[list[str | int]] = []
    for award in awards:
        category = by_id[award.category_id]
        rows.append(
            [
                category.code,
                category.name_zh,
                category.name_en,
                ranking(category.ranked_by),
                category.sponsor_label_zh or "",
                category.sponsor_label_en or "",
                award.place if award.place is not None else "",
                award.name_zh,
                award.name_en,
                ranking(award.ranked_by),
                award.prize_fen // scale,
                award.in_kind_zh,
                award.in_kind_en,
                award.in_kind_value_fen // scale if award.in_kind_value_fen else "",
                _payee_text(shares.get(award.id, ()), unit, lang),
            ]
        )
    return header, rows


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows the Chinese text."""
    return csv_bytes(header, rows)


def to_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[str | int]], summary: schemas.PrizeSummary
) -> bytes:
    """The awards sheet (same columns as the CSV) and a per-category summary sheet."""

    def yuan(fen: int | None) -> float | None:
        return None if fen is None else fen / 100

    totals: list[list[object]] = [
        [
            sub.code,
            sub.name_zh,
            sub.name_en,
            sub.awards,
            yuan(sub.total_prize),
            yuan(sub.min_prize),
            yuan(sub.max_prize),
            ", ".join(sub.flags),
        ]
        for sub in summary.by_category
    ]
    totals.append(
        [
            "total",
            "",
            "",
            summary.awards,
            yuan(summary.total_prize),
            yuan(summary.min_prize),
            yuan(summary.max_prize),
            summary.currency,
        ]
    )
    return xlsx_bytes(
        Sheet("Awards", header, rows),
        Sheet(
            "Summary",
            [
                "category",
                "name_zh",
                "name_en",
                "awards",
                "total_yuan",
                "min_yuan",
                "max_yuan",
                "flags",
            ],
            totals,
        ),
    )


__all__ = [
    "COLUMNS",
    "AwardRow",
    "CategoryDraft",
    "ParsedPrizeList",
    "RowError",
    "RowRef",
    "detect_format",
    "export_rows",
    "parse",
    "parse_csv",
    "parse_json",
    "to_csv",
    "to_xlsx",
]
