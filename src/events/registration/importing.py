"""A delegation's spreadsheet of entries: one row per entry (owner, horse, rider, race).

All or nothing: every row is checked (fields, matching, eligibility, windows) before
anything is stored; one bad row stores nothing, and the report names every bad row and
field. Owners are matched by mobile number, horses by microchip (else owner + name + birth
year), riders by owner + name + birth date, so a second import never duplicates them.

Set-based: the rows are validated in memory against what a handful of queries load, then
stored with one bulk insert per table and one counter update per race (under the races'
row locks, taken in sorted order). Rows beyond a race's free places go to its waiting list.
"""

import csv
import datetime as dt
import io
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import table_of, utcnow
from events.errors import DomainError
from events.festivals import services as festival_services
from events.festivals.models import Festival, FestivalDay
from events.registration import eligibility, fees, schemas
from events.registration.eligibility import Standing
from events.registration.entries import EntryService
from events.registration.models import (
    ACTIVE,
    Entry,
    EntryEvent,
    EntryEventKind,
    EntrySource,
    EntryStatus,
    Horse,
    HorseSex,
    Owner,
    Race,
    Rider,
    Species,
)

MAX_ROWS = 5000
XLSX_MAGIC = b"PK\x03\x04"

Progress = Callable[[str, int, int], None]
"""``(phase, done, total)``: phases are ``check`` and ``store``."""


class ImportRejected(DomainError):
    """Some rows are wrong; nothing was stored. ``errors`` names each row and field."""

    status_code = 422
    code = "import_invalid"
    title = "Import refused"


# --- the spreadsheet's columns -------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "owner_name": ("owner", "马主", "马主姓名", "马主名称", "畜主"),
    "owner_mobile": (
        "mobile",
        "phone",
        "owner_phone",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "马主手机",
        "马主手机号",
        "电话",
    ),
    "province": ("owner_province", "省份", "省", "省区", "省(区、市)"),
    "county": ("owner_county", "县", "县区", "区县", "县(区)", "县(市、区)"),
    "township": ("owner_township", "乡镇", "乡", "镇", "乡(镇)"),
    "horse_name": ("horse", "horse_name_zh", "马名", "马匹名称", "马名(中文)", "马匹"),
    "horse_name_en": ("马名(英文)", "英文马名"),
    "horse_name_bo": ("马名(藏文)", "藏文马名"),
    "species": ("畜种", "种类"),
    "sex": ("horse_sex", "性别", "马匹性别"),
    "birth_year": ("horse_birth_year", "出生年份", "出生年", "马匹出生年份"),
    "colour": ("color", "毛色"),
    "markings": ("特征", "别征", "外貌特征"),
    "breed": ("品种",),
    "height_cm": ("height", "肩高", "肩高(cm)", "肩高(厘米)", "体高", "体高(cm)"),
    "microchip": ("chip", "芯片号", "芯片", "电子芯片号", "芯片编号"),
    "passport_number": ("passport", "护照号", "马匹护照号", "马匹护照"),
    "origin_province": ("horse_province", "马匹产地", "产地", "马匹来源省份"),
    "rider_name": ("rider", "骑手", "骑手姓名"),
    "rider_birth_date": ("骑手出生日期", "骑手生日", "出生日期"),
    "guardian_name": ("监护人", "监护人姓名"),
    "guardian_consent": ("监护人同意", "监护人是否同意"),
    "race": ("race_code", "比赛", "比赛项目", "项目", "赛事", "参赛项目"),
}
REQUIRED = (
    "owner_name",
    "owner_mobile",
    "province",
    "county",
    "horse_name",
    "sex",
    "birth_year",
    "height_cm",
    "rider_name",
    "rider_birth_date",
    "race",
)
IGNORED = {"备注", "notes", "note", "remarks", "序号", "no", "#", "编号"}


def _header_key(text: str) -> str:
    text = str(text or "").strip().replace("（", "(").replace("）", ")").replace("*", "")
    return re.sub(r"\s+", "", text).casefold()


_HEADER_LOOKUP = {
    _header_key(alias): name for name, aliases in COLUMNS.items() for alias in (name, *aliases)
}


def column_for(header: str) -> str | None:
    return _HEADER_LOOKUP.get(_header_key(header))


# --- reading CSV and XLSX -----------------------------------------------------------------


@dataclass
class RawRow:
    number: int
    """The spreadsheet's row number (the header is row 1)."""
    values: dict[str, Any]


@dataclass
class Sheet:
    rows: list[RawRow]
    problems: list[schemas.ImportProblem]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


MAX_COLUMNS = 64
"""Columns read from a sheet: a file's own dimension (``A1:XFD1048576``) is never trusted."""
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024
"""An XLSX is a zip: one that unpacks to more than this is refused before it is parsed."""


def _unreadable(message: str) -> ImportRejected:
    return ImportRejected(
        "The file could not be read as CSV or XLSX.",
        errors=[{"row": 0, "field": "file", "message": message}],
    )


def _xlsx_cells(content: bytes) -> list[list[Any]]:
    """The first sheet's rows, streamed (read-only) and bounded: at most ``MAX_ROWS`` + 1
    rows of ``MAX_COLUMNS`` cells, whatever the file declares."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _unreadable(f"Not an XLSX file (a broken zip): {exc}"[:200]) from exc
    if unpacked > MAX_UNZIPPED_BYTES:
        raise _unreadable(f"The workbook unpacks to more than {MAX_UNZIPPED_BYTES} bytes.")
    from openpyxl import load_workbook  # heavy; only for spreadsheets

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _unreadable(f"Not a readable XLSX workbook: {exc}"[:200]) from exc
    try:
        if not workbook.worksheets:
            return []
        sheet = workbook.worksheets[0]
        rows = [
            list(row)
            for row in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True)
        ]
    finally:
        workbook.close()
    while rows and not any(v not in (None, "") for v in rows[-1]):
        rows.pop()
    return rows


def _cells(content: bytes) -> list[list[Any]]:
    if content.startswith(XLSX_MAGIC):
        return _xlsx_cells(content)
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected(
            "The file is neither UTF-8 nor GB18030 CSV, nor XLSX.",
            errors=[{"row": 0, "field": "file", "message": "Unreadable text encoding."}],
        )
    if "\x00" in text:  # PostgreSQL text cannot hold NUL: refuse it in the dry run too
        raise _unreadable("The file holds NUL characters; save it again as CSV or XLSX.")
    rows: list[list[Any]] = []
    for row in csv.reader(io.StringIO(text)):
        rows.append(row[:MAX_COLUMNS])
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def read_sheet(content: bytes) -> Sheet:
    """Rows of a CSV or XLSX file, keyed by column name; header problems reported."""
    try:
        table = _cells(content)
    except (OSError, ValueError, KeyError, csv.Error) as exc:
        raise ImportRejected(
            "The file could not be read as CSV or XLSX.",
            errors=[{"row": 0, "field": "file", "message": str(exc)[:200]}],
        ) from exc
    problems: list[schemas.ImportProblem] = []
    while table and not any(_cell_text(v) for v in table[0]):
        table.pop(0)
    if not table:
        return Sheet([], [schemas.ImportProblem(1, "file", "The file is empty.")])
    header = [_cell_text(h) for h in table[0]]
    columns: list[str | None] = []
    seen: dict[str, int] = {}
    for position, title in enumerate(header):
        name = column_for(title) if title else None
        if title and name is None and _header_key(title) not in IGNORED:
            problems.append(schemas.ImportProblem(1, title, f"Unknown column {title!r}."))
        if name is not None and name in seen:
            problems.append(schemas.ImportProblem(1, name, f"Column {title!r} appears twice."))
            name = None
        if name is not None:
            seen[name] = position
        columns.append(name)
    for required in REQUIRED:
        if required not in seen:
            problems.append(
                schemas.ImportProblem(
                    1, required, f"Missing column {required!r} (e.g. {COLUMNS[required][-1]})."
                )
            )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(_cell_text(c) for c in cells):
            continue
        values = {
            name: cells[i] for i, name in enumerate(columns) if name is not None and i < len(cells)
        }
        rows.append(RawRow(number, values))
    if len(rows) > MAX_ROWS:
        problems.append(schemas.ImportProblem(1, "file", f"At most {MAX_ROWS} rows per import."))
    return Sheet(rows, problems)


# --- one row: values checked by the same schemas as the API ---------------------------------

_SEXES = {
    HorseSex.STALLION: ("stallion", "colt", "公", "公马", "儿马", "种公马", "公马(儿马)"),
    HorseSex.GELDING: ("gelding", "骟", "骟马", "去势公马", "阉马"),
    HorseSex.MARE: ("mare", "filly", "母", "母马", "骒马"),
}
_SEX_LOOKUP = {alias.casefold(): sex for sex, aliases in _SEXES.items() for alias in aliases}
_SPECIES_LOOKUP = {
    "": Species.HORSE,
    "horse": Species.HORSE,
    "马": Species.HORSE,
    "yak": Species.YAK,
    "牦牛": Species.YAK,
}
_YES = {"yes", "y", "true", "1", "是", "同意", "有", "✓", "√", "x"}
_NO = {"", "no", "n", "false", "0", "否", "不同意", "无"}

_OWNER_FIELDS = {
    "name": "owner_name",
    "mobile": "owner_mobile",
    "province": "province",
    "county": "county",
    "township": "township",
}
_HORSE_FIELDS = {
    "name_zh": "horse_name",
    "name_en": "horse_name_en",
    "name_bo": "horse_name_bo",
    "species": "species",
    "sex": "sex",
    "birth_year": "birth_year",
    "colour": "colour",
    "markings": "markings",
    "breed": "breed",
    "height_cm": "height_cm",
    "microchip": "microchip",
    "passport_number": "passport_number",
    "origin_province": "origin_province",
}
_RIDER_FIELDS = {
    "name": "rider_name",
    "birth_date": "rider_birth_date",
    "guardian_name": "guardian_name",
    "guardian_consent": "guardian_consent",
}


def _height(text: str) -> Any:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(cm|厘米|公分|m|米)?", text.casefold())
    if not match:
        return text
    number, unit = float(match.group(1)), match.group(2)
    if unit in ("m", "米") or (unit is None and number < 3):
        number *= 100
    return round(number)


def _date(text: str) -> Any:
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        return text
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return text


def _year(text: str) -> Any:
    match = re.fullmatch(r"(\d{4})\s*年?", text)
    return int(match.group(1)) if match else text


@dataclass
class ParsedRow:
    number: int
    owner: schemas.OwnerIn
    horse: schemas.HorseIn
    rider: schemas.RiderIn
    race_ref: str


def _collect(
    model: type[BaseModel],
    data: dict[str, Any],
    names: dict[str, str],
    number: int,
    problems: list[schemas.ImportProblem],
) -> Any:
    try:
        return model(**data)
    except PydanticValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "row"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(schemas.ImportProblem(number, names.get(key, key), message))
        return None


def parse_row(raw: RawRow, problems: list[schemas.ImportProblem]) -> ParsedRow | None:
    text = {name: _cell_text(value) for name, value in raw.values.items()}
    before = len(problems)
    for required in REQUIRED:
        if not text.get(required):
            problems.append(schemas.ImportProblem(raw.number, required, "This is required."))
    sex = _SEX_LOOKUP.get(text.get("sex", "").casefold())
    if text.get("sex") and sex is None:
        problems.append(
            schemas.ImportProblem(
                raw.number,
                "sex",
                f"Unknown sex {text['sex']!r}: use 公马/骟马/母马 or stallion/gelding/mare.",
            )
        )
    species = _SPECIES_LOOKUP.get(text.get("species", "").casefold())
    if species is None:
        problems.append(
            schemas.ImportProblem(
                raw.number, "species", f"Unknown species {text['species']!r}: 马 or 牦牛."
            )
        )
    consent_text = text.get("guardian_consent", "").casefold()
    if consent_text not in _YES | _NO:
        problems.append(
            schemas.ImportProblem(raw.number, "guardian_consent", "Use 是/否 (yes/no).")
        )
    if len(problems) > before:
        return None
    owner = _collect(
        schemas.OwnerIn,
        {
            "name": text["owner_name"],
            "mobile": text["owner_mobile"],
            "province": text["province"],
            "county": text["county"],
            "township": text.get("township", ""),
        },
        _OWNER_FIELDS,
        raw.number,
        problems,
    )
    horse = _collect(
        schemas.HorseIn,
        {
            "name_zh": text["horse_name"],
            "name_en": text.get("horse_name_en", ""),
            "name_bo": text.get("horse_name_bo", ""),
            "species": species,
            "sex": sex,
            "birth_year": _year(text["birth_year"]),
            "colour": text.get("colour", ""),
            "markings": text.get("markings", ""),
            "breed": text.get("breed", ""),
            "height_cm": _height(text["height_cm"]),
            "microchip": text.get("microchip") or None,
            "passport_number": text.get("passport_number") or None,
            "origin_province": text.get("origin_province") or None,
        },
        _HORSE_FIELDS,
        raw.number,
        problems,
    )
    rider = _collect(
        schemas.RiderIn,
        {
            "name": text["rider_name"],
            "birth_date": _date(text["rider_birth_date"]),
            "guardian_name": text.get("guardian_name", ""),
            "guardian_consent": consent_text in _YES,
        },
        _RIDER_FIELDS,
        raw.number,
        problems,
    )
    if owner is None or horse is None or rider is None:
        return None
    return ParsedRow(raw.number, owner, horse, rider, text["race"])


# --- the whole file: matching, eligibility, places, storing -------------------------------


@dataclass
class _Plan:
    """What the import will store, built in memory."""

    owners: dict[str, Owner] = field(default_factory=dict)
    """By mobile: existing or new."""
    new_owners: list[Owner] = field(default_factory=list)
    new_horses: list[Horse] = field(default_factory=list)
    new_riders: list[Rider] = field(default_factory=list)
    consents: list[Rider] = field(default_factory=list)
    """Existing minors whose guardian consent the sheet brings."""
    entries: list[Entry] = field(default_factory=list)
    matched: schemas.ImportCounts = field(default_factory=schemas.ImportCounts)


def _values(row: SQLModel) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in table_of(type(row)).columns}


class EntryImport:
    """Imports a delegation's entries into one festival."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def run(
        self,
        festival_id: str | uuid.UUID,
        content: bytes,
        *,
        dry_run: bool,
        actor_id: uuid.UUID | None = None,
        now: dt.datetime | None = None,
        progress: Progress | None = None,
    ) -> schemas.ImportReport:
        # Parsing a workbook is CPU work: off the event loop, so the gates keep scanning.
        sheet = await anyio.to_thread.run_sync(read_sheet, content)
        rows = [] if sheet.problems else sheet.rows  # a bad header makes every row noise
        return await self.run_rows(
            festival_id,
            rows,
            dry_run=dry_run,
            actor_id=actor_id,
            now=now,
            progress=progress,
            problems=sheet.problems,
        )

    async def run_rows(
        self,
        festival_id: str | uuid.UUID,
        rows: Sequence[RawRow],
        *,
        dry_run: bool,
        actor_id: uuid.UUID | None = None,
        now: dt.datetime | None = None,
        progress: Progress | None = None,
        problems: list[schemas.ImportProblem] | None = None,
    ) -> schemas.ImportReport:
        """Check every row, then (unless ``dry_run``) store all of them or none.

        ``now`` decides the entry windows and late fees (the demo fixes it).
        """
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        problems = list(problems or [])
        now = now or utcnow()
        if not rows and not problems:
            problems.append(schemas.ImportProblem(1, "file", "No rows to import."))
        parsed: list[ParsedRow] = []
        for done, raw in enumerate(rows, start=1):
            row = parse_row(raw, problems)
            if row is not None:
                parsed.append(row)
            if progress and (done % 50 == 0 or done == len(rows)):
                progress("check", done, len(rows))

        races = await self._races(festival)
        locked = not dry_run and not problems
        if locked:  # places are decided under the races' locks, in sorted order
            entries = EntryService(self.session)
            wanted = {race.id for r in parsed if (race := races.find(r.race_ref))}
            for race_id in sorted(wanted):
                await entries.lock_race(race_id)
        plan = await self._plan(festival, parsed, races, now, problems)
        waiting = sum(1 for e in plan.entries if e.status == EntryStatus.WAITING)
        created = schemas.ImportCounts(
            owners=len(plan.new_owners),
            horses=len(plan.new_horses),
            riders=len(plan.new_riders),
            entries=len(plan.entries),
        )
        problems.sort(key=lambda p: (p.row, p.field))
        report = schemas.ImportReport(
            dry_run=dry_run,
            rows=len(rows),
            created=created,
            matched=plan.matched,
            waiting=waiting,
            errors=problems,
            stored=False,
        )
        if problems and not dry_run:
            raise ImportRejected(
                f"{len({p.row for p in problems})} row(s) have problems; nothing was imported.",
                errors=[{"row": p.row, "field": p.field, "message": p.message} for p in problems],
                report=report,
            )
        if dry_run or problems:
            return report
        await self._store(plan, races.unique(), actor_id, progress)
        report.stored = True
        return report

    async def _races(self, festival: Festival) -> "_Races":
        """The festival's races by code, id and name (a name two races share is left out:
        those rows must give the code), and each race's date."""
        rows = (
            await self.session.exec(
                select(Race, col(FestivalDay.date))
                .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
                .where(Race.festival_id == festival.id)
                .execution_options(populate_existing=True)
            )
        ).all()
        races: dict[str, Race] = {}
        for race, _ in rows:
            races[_race_key(race.code)] = race
            races[_race_key(str(race.id))] = race
        named: dict[str, set[uuid.UUID]] = defaultdict(set)
        by_id = {race.id: race for race, _ in rows}
        for race, _ in rows:
            for name in (race.name_zh, race.name_en):
                named[_race_key(name)].add(race.id)
        ambiguous = set()
        for key, ids in named.items():
            if key in races:
                continue
            if len(ids) == 1:
                races[key] = by_id[next(iter(ids))]
            else:
                ambiguous.add(key)
        return _Races(races, ambiguous, {race.id: date for race, date in rows})

    async def _plan(
        self,
        festival: Festival,
        parsed: Sequence[ParsedRow],
        races: "_Races",
        now: dt.datetime,
        problems: list[schemas.ImportProblem],
    ) -> _Plan:
        plan = _Plan()
        matched_owners: set[uuid.UUID] = set()
        matched_horses: set[uuid.UUID] = set()
        matched_riders: set[uuid.UUID] = set()

        def problem(row: ParsedRow, column: str, message: str) -> None:
            problems.append(schemas.ImportProblem(row.number, column, message))

        # What exists already, in four queries.
        mobiles = {r.owner.mobile for r in parsed}
        existing_owners = {o.mobile: o for o in await self._in(Owner, Owner.mobile, mobiles)}
        chips = {r.horse.microchip for r in parsed if r.horse.microchip}
        chip_horses = {h.microchip: h for h in await self._in(Horse, Horse.microchip, chips)}
        owner_ids = {o.id for o in existing_owners.values()}
        owner_horses: dict[tuple[uuid.UUID, str, int], list[Horse]] = defaultdict(list)
        for known in await self._in(Horse, Horse.owner_id, owner_ids):
            owner_horses[(known.owner_id, known.name_zh, known.birth_year)].append(known)
        owner_riders = {
            (r.owner_id, r.name, r.birth_date): r
            for r in await self._in(Rider, Rider.owner_id, owner_ids)
        }
        known = races.unique()
        race_ids = {race.id for race in known}
        query: Any = sa.select(
            col(Entry.race_id),
            col(Entry.horse_id),
            col(Entry.rider_id),
            col(Entry.province),
            col(Entry.county),
        ).where(col(Entry.race_id).in_(race_ids), col(Entry.status).in_(ACTIVE))
        active = (await self.session.exec(query)).all() if race_ids else []
        horses_in: set[tuple[uuid.UUID, uuid.UUID]] = set()
        riders_in: set[tuple[uuid.UUID, uuid.UUID]] = set()
        county_count: dict[tuple[uuid.UUID, str, str], int] = defaultdict(int)
        for race_id, horse_id, rider_id, province, county in active:
            horses_in.add((race_id, horse_id))
            riders_in.add((race_id, rider_id))
            county_count[(race_id, province, county)] += 1

        file_owner_row: dict[str, ParsedRow] = {}
        file_horses: dict[tuple[str, str, int], tuple[Horse, ParsedRow]] = {}
        file_chips: dict[str, tuple[Horse, ParsedRow]] = {}
        file_riders: dict[tuple[uuid.UUID, str, dt.date], Rider] = {}
        free = {race.id: race.field_size - race.entered for race in known}
        next_position = {race.id: race.waitlist_seq for race in known}
        created_at = utcnow()

        for row in parsed:
            errors_before = len(problems)
            race = races.find(row.race_ref)
            if _race_key(row.race_ref) in races.ambiguous:
                problem(
                    row, "race", f"Several races are called {row.race_ref!r}; give the race code."
                )
            elif race is None:
                problem(
                    row,
                    "race",
                    f"No race {row.race_ref!r} at this festival (use its code or name).",
                )
            else:
                window = fees.window(race, now)
                if window is fees.Window.NOT_OPEN:
                    problem(
                        row,
                        "race",
                        f"Entries for {race.code} open {race.entries_open_at.isoformat()}.",
                    )
                elif window is fees.Window.CLOSED:
                    problem(row, "race", f"Entries for {race.code} are closed.")

            # The owner: by mobile, the same person in every row and in our records.
            data = row.owner
            owner = plan.owners.get(data.mobile)
            first = file_owner_row.get(data.mobile)
            known = existing_owners.get(data.mobile)
            if first is not None and (
                first.owner.name,
                first.owner.province,
                first.owner.county,
            ) != (data.name, data.province, data.county):
                problem(
                    row,
                    "owner_mobile",
                    f"Mobile {data.mobile} is given for another owner in row {first.number}.",
                )
            elif known is not None and known.name != data.name:
                problem(
                    row,
                    "owner_name",
                    f"Mobile {data.mobile} belongs to {known.name} in our "
                    f"records, not {data.name}.",
                )
            if owner is None:
                file_owner_row[data.mobile] = row
                if known is not None:
                    owner = known
                    matched_owners.add(known.id)
                else:
                    owner = Owner(
                        name=data.name,
                        mobile=data.mobile,
                        province=data.province,
                        county=data.county,
                        township=data.township,
                        created_at=created_at,
                        updated_at=created_at,
                    )
                    plan.new_owners.append(owner)
                plan.owners[data.mobile] = owner

            # The horse: by microchip, else owner + name + birth year.
            h = row.horse
            horse: Horse | None = None
            if h.microchip:
                in_file = file_chips.get(h.microchip)
                on_record = chip_horses.get(h.microchip)
                if in_file is not None:
                    horse = in_file[0]
                    if horse.owner_id != owner.id or horse.name_zh != h.name_zh:
                        problem(
                            row,
                            "microchip",
                            f"Microchip {h.microchip} is another horse in row {in_file[1].number}.",
                        )
                elif on_record is not None:
                    horse = on_record
                    if horse.owner_id != owner.id:
                        problem(
                            row,
                            "microchip",
                            f"Microchip {h.microchip} is registered to another owner's horse.",
                        )
                    matched_horses.add(horse.id)
            if horse is None:
                key = (data.mobile, h.name_zh, h.birth_year)
                twins = owner_horses.get((owner.id, h.name_zh, h.birth_year), [])
                if key in file_horses:
                    horse = file_horses[key][0]
                elif len(twins) > 1:
                    problem(
                        row,
                        "horse_name",
                        f"{data.name} has {len(twins)} horses named "
                        f"{h.name_zh} born {h.birth_year}; give the "
                        "microchip.",
                    )
                elif twins:
                    horse = twins[0]
                    matched_horses.add(horse.id)
                    if h.microchip and horse.microchip and horse.microchip != h.microchip:
                        problem(
                            row,
                            "microchip",
                            f"{h.name_zh} ({h.birth_year}) of "
                            f"{data.name} has microchip {horse.microchip}"
                            " on record.",
                        )
            if horse is None:
                horse = Horse(
                    owner_id=owner.id,
                    origin_province=h.origin_province or owner.province,
                    created_at=created_at,
                    updated_at=created_at,
                    **h.model_dump(exclude={"owner_id", "origin_province", "confirm_duplicate"}),
                )
                plan.new_horses.append(horse)
                file_horses[(data.mobile, h.name_zh, h.birth_year)] = (horse, row)
                if h.microchip:
                    file_chips[h.microchip] = (horse, row)

            # The rider: by owner + name + birth date.
            r = row.rider
            rider_key = (owner.id, r.name, r.birth_date)
            rider = file_riders.get(rider_key) or owner_riders.get(rider_key)
            if rider is None:
                rider = Rider(
                    owner_id=owner.id,
                    created_at=created_at,
                    updated_at=created_at,
                    **r.model_dump(),
                )
                plan.new_riders.append(rider)
                file_riders[rider_key] = rider
            elif rider_key in owner_riders and rider.id not in matched_riders:
                matched_riders.add(rider.id)
                if r.guardian_consent and not rider.guardian_consent:
                    rider.guardian_consent = True
                    rider.guardian_name = r.guardian_name or rider.guardian_name
                    plan.consents.append(rider)

            if race is None or len(problems) > errors_before:
                continue
            standing = Standing(
                county_entries=county_count[(race.id, owner.province, owner.county)],
                horse_entered=(race.id, horse.id) in horses_in,
                rider_entered=(race.id, rider.id) in riders_in,
            )
            for failure in eligibility.check(
                race, races.dates[race.id], horse, rider, owner, standing
            ):
                problem(row, "race", f"{race.code}: {failure.code}: {failure.message}")
            if len(problems) > errors_before:
                continue
            horses_in.add((race.id, horse.id))
            riders_in.add((race.id, rider.id))
            county_count[(race.id, owner.province, owner.county)] += 1
            fee = fees.fee_for(race, now)
            entry = Entry(
                festival_id=festival.id,
                race_id=race.id,
                horse_id=horse.id,
                rider_id=rider.id,
                owner_id=owner.id,
                status=EntryStatus.WAITING,
                source=EntrySource.IMPORT,
                province=owner.province,
                county=owner.county,
                currency=race.currency,
                registration_fee=fee.registration,
                start_fee=fee.start,
                late_fee=fee.late,
                fee_due=fee.total,
                created_at=created_at,
                updated_at=created_at,
                status_changed_at=created_at,
            )
            if free[race.id] > 0:
                free[race.id] -= 1
                entry.status = (
                    EntryStatus.PENDING_PAYMENT if fee.total > 0 else EntryStatus.CONFIRMED
                )
            else:
                next_position[race.id] += 1
                entry.waitlist_position = next_position[race.id]
            plan.entries.append(entry)

        plan.matched = schemas.ImportCounts(
            owners=len(matched_owners), horses=len(matched_horses), riders=len(matched_riders)
        )
        return plan

    async def _in(self, model: Any, column: Any, values: Iterable[Any]) -> list[Any]:
        """Rows whose ``column`` is one of ``values``, in chunks (bounded parameter lists)."""
        wanted = list(values)
        found: list[Any] = []
        for start in range(0, len(wanted), 1000):
            found += (
                await self.session.exec(
                    select(model).where(col(column).in_(wanted[start : start + 1000]))
                )
            ).all()
        return found

    async def _store(
        self,
        plan: _Plan,
        races: Iterable[Race],
        actor_id: uuid.UUID | None,
        progress: Progress | None,
    ) -> None:
        """Bulk inserts, parents before children; one counter update per race."""
        conn = await self.session.connection()
        total = len(plan.entries)
        steps: list[tuple[Any, list[SQLModel]]] = [
            (Owner, list(plan.new_owners)),
            (Horse, list(plan.new_horses)),
            (Rider, list(plan.new_riders)),
        ]
        for model, rows in steps:
            if rows:
                await conn.execute(sa.insert(table_of(model)), [_values(r) for r in rows])
        riders = table_of(Rider)
        for rider in plan.consents:
            await conn.execute(
                sa.update(riders)
                .where(riders.c.id == rider.id)
                .values(guardian_consent=True, guardian_name=rider.guardian_name)
            )
        for start in range(0, total, 500):
            chunk = plan.entries[start : start + 500]
            await conn.execute(sa.insert(table_of(Entry)), [_values(e) for e in chunk])
            await conn.execute(
                sa.insert(table_of(EntryEvent)),
                [
                    _values(
                        EntryEvent(
                            entry_id=e.id,
                            kind=EntryEventKind.ENTERED,
                            to_status=e.status,
                            amount=e.fee_due,
                            actor_id=actor_id,
                            detail=(
                                f"imported; waiting list number {e.waitlist_position}"
                                if e.waitlist_position
                                else "imported; place taken"
                            ),
                        )
                    )
                    for e in chunk
                ],
            )
            if progress:
                progress("store", min(start + 500, total), total)
        placed: dict[uuid.UUID, int] = defaultdict(int)
        waiting: dict[uuid.UUID, int] = defaultdict(int)
        for entry in plan.entries:
            if entry.status == EntryStatus.WAITING:
                waiting[entry.race_id] = max(waiting[entry.race_id], entry.waitlist_position or 0)
            else:
                placed[entry.race_id] += 1
        for race in races:
            if race.id not in placed and race.id not in waiting:
                continue
            table = table_of(Race)
            values: dict[str, Any] = {
                "entered": table.c.entered + placed[race.id],
                "updated_at": utcnow(),
            }
            if race.id in waiting:
                values["waitlist_seq"] = waiting[race.id]
            result = await conn.execute(
                sa.update(table)
                .where(
                    table.c.id == race.id, table.c.entered + placed[race.id] <= table.c.field_size
                )
                .values(**values)
            )
            if result.rowcount != 1:  # cannot happen under the lock; never overfill anyway
                raise ImportRejected(
                    f"The race {race.code} filled up during the import; nothing was imported.",
                    errors=[],
                )
        if progress and not total:
            progress("store", 0, 0)


@dataclass
class _Races:
    by_key: dict[str, Race]
    ambiguous: set[str]
    dates: dict[uuid.UUID, dt.date]

    def find(self, ref: str) -> Race | None:
        return self.by_key.get(_race_key(ref))

    def unique(self) -> list[Race]:
        return list({race.id: race for race in self.by_key.values()}.values())


def _race_key(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()
