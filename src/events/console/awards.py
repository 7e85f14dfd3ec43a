"""Awards in the console: categories, awards (prize tables), the CSV/XLSX import with its
dry run, publish/lock/unlock, and the summary.

Each action calls the service method its API route calls (``CategoryService``,
``AwardService`` or ``PrizeListService``). The import first runs
the service's dry run (nothing stored) and shows the file's rows, each bad row in place
with its problems; only a clean dry run offers "Save", which posts the same file again
(carried in the page, base64) for the real import.
"""

import base64
import binascii
import csv
import io
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only
from events.access.models import Role
from events.awards import importing, schemas
from events.awards.categories import CategoryService
from events.awards.mappers import category_read, prize_list_read
from events.awards.models import RankingMethod
from events.awards.prize_list import PrizeListService
from events.awards.prizes import AwardService
from events.console.forms import (
    Form,
    FormState,
    StaleForm,
    blank_to_none,
    check_version,
    parse,
    version_of,
)
from events.console.layout import NavItem, add_nav, festival_page
from events.console.paging import Paged, PageNumber, window
from events.db.deps import abandon
from events.errors import DomainError, FieldError, ValidationFailed
from events.web.i18n import N_, request_lang, translate

add_nav(
    NavItem(
        "console.nav.awards", "/console/festivals/{festival}/awards", (Role.ORGANISER,), position=30
    )
)

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def yuan(fen: int | None) -> str:
    if fen is None:
        return "–"
    whole, part = divmod(fen, 100)
    return f"¥{whole:,}" + (f".{part:02d}" if part else "")


def _yuan_to_fen(text: str, name: str, errors: list[FieldError]) -> int:
    if not text.strip():
        return 0
    try:
        return importing.parse_amount(text, "yuan")
    except ValueError as exc:
        errors.append(FieldError(name, str(exc)))
        return 0


def _rankings(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    lang = request_lang(request)
    return [(m.value, translate(lang, f"console.awards.ranking.{m.value}")) for m in RankingMethod]


def _awards_url(festival_id: str) -> str:
    return f"/console/festivals/{festival_id}/awards"


# --- the import's report, row by row ---------------------------------------------------------


@dataclass
class ReportRow:
    line: int
    cells: list[str]
    problems: dict[str, str] = field(default_factory=dict)
    """Column header → message; ``""`` for the row as a whole."""


@dataclass
class ImportView:
    filename: str
    header: list[str]
    rows: list[ReportRow]
    general: list[str]
    content: str
    """The file, base64, for the confirming post."""
    report: schemas.ImportReport | None = None

    @property
    def bad_rows(self) -> int:
        return sum(1 for r in self.rows if r.problems)


def _text_rows(body: bytes) -> list[tuple[int, list[str]]]:
    """The CSV's non-blank lines with their line numbers, as the importer numbers them."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error:
        return []
    return [(n, r) for n, r in rows if any(c.strip() for c in r)][: importing.MAX_ROWS + 1]


def _view(filename: str, body: bytes, failure: ValidationFailed | None) -> ImportView:
    lines = _text_rows(body)
    header = lines[0][1] if lines else []
    rows = [ReportRow(n, cells) for n, cells in lines[1:]]
    by_line = {r.line: r for r in rows}
    general: list[str] = []
    for error in failure.errors if failure else []:
        name, message = error["field"], error["message"]
        head, _, rest = name.partition(".")
        number, _, column = rest.partition(".")
        if head == "lines" and number.isdigit() and int(number) in by_line:
            row = by_line[int(number)]
            row.problems[column] = (
                row.problems[column] + " " if column in row.problems else ""
            ) + message
        else:
            general.append(message if head in ("lines", "body", "awards") else f"{name}: {message}")
    return ImportView(
        filename=filename,
        header=header,
        rows=rows,
        general=general,
        content=base64.b64encode(body).decode(),
    )


# --- pages -----------------------------------------------------------------------------------


class ConsoleAwardsController(Controller):
    path = "/festivals/{festival_id:str}/awards"
    guards = [organiser_only]
    include_in_schema = False

    async def _index(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        *,
        status: int = 200,
        page: int = 1,
        category_form: FormState | None = None,
        import_view: ImportView | None = None,
        import_form: FormState | None = None,
        problem: str | None = None,
        imported: int | None = None,
    ) -> Response[Any]:
        prize_list = PrizeListService(session)
        festival, rows, total, totals = await CategoryService(session).list_categories(
            festival_id, **window(page)
        )
        categories = [category_read(c, festival.currency, *totals.get(c.id, (0, 0))) for c in rows]
        summary = await prize_list.summary(festival.id)
        settings = prize_list_read(*await prize_list.prize_list(str(festival.id)))
        return await festival_page(
            request,
            session,
            festival_id,
            "awards/index.html",
            status=status,
            categories=Paged(categories, total, page),
            summary=summary,
            settings=settings,
            category_form=category_form or FormState.of(ranked_by="finish_order"),
            import_view=import_view,
            import_form=import_form or FormState(),
            ranking_options=_rankings(request),
            yuan=yuan,
            problem=problem,
            imported=imported,
        )

    @get("/", operation_id="ConsoleAwards", summary="Awards: summary, categories, import")
    async def index(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page: PageNumber = 1,
        imported: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
    ) -> Response[Any]:
        return await self._index(request, db_session, festival_id, page=page, imported=imported)

    @post(
        "/categories", operation_id="ConsoleCategoryCreate", summary="Add an award category (form)"
    )
    async def create_category(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        values = blank_to_none(data, "display_order", "sponsor_label_zh", "sponsor_label_en")
        try:
            body = parse(schemas.CategoryCreate, values)
            category = await CategoryService(db_session).create_category(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._index(
                request,
                db_session,
                festival_id,
                status=422,
                category_form=FormState.failed(data, exc),
            )
        return Redirect(f"{_awards_url(festival_id)}/categories/{category.id}", status_code=303)

    @post("/publish", operation_id="ConsolePrizeListPublish", summary="Publish (form)")
    async def publish(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._state_change(request, db_session, festival_id, "publish")

    @post("/lock", operation_id="ConsolePrizeListLock", summary="Lock (form)")
    async def lock(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._state_change(request, db_session, festival_id, "lock")

    @post("/unlock", operation_id="ConsolePrizeListUnlock", summary="Unlock (form)")
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._state_change(request, db_session, festival_id, "unlock")

    async def _state_change(
        self, request: Request[Any, Any, Any], session: AsyncSession, festival_id: str, action: str
    ) -> Response[Any]:
        prize_list = PrizeListService(session)
        try:
            if action == "publish":
                await prize_list.publish(festival_id)
            elif action == "lock":
                await prize_list.lock(festival_id)
            else:
                await prize_list.unlock(festival_id)
        except DomainError as exc:
            await abandon(session)
            return await self._index(
                request, session, festival_id, status=exc.status_code, problem=exc.detail
            )
        return Redirect(_awards_url(festival_id), status_code=303)

    @post(
        "/import",
        operation_id="ConsoleAwardsImport",
        summary="Import a prize list: dry run first, then save (form)",
    )
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Upload,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """A file upload runs the dry run and shows the report; ``confirm`` with the
        report's ``content`` stores it (the service checks it all again)."""
        confirm = data.get("confirm") == "1"
        upload = data.get("file")
        filename = str(data.get("filename", ""))
        body = b""
        try:
            if confirm:
                body = base64.b64decode(str(data.get("content", "")), validate=True)
            elif isinstance(upload, UploadFile):
                filename = upload.filename or ""
                body = await upload.read(MAX_UPLOAD_BYTES + 1)
        except (binascii.Error, ValueError):
            body = b""
        if not body or len(body) > MAX_UPLOAD_BYTES:
            form = FormState(errors={"file": "console.awards.import.no_file"})
            return await self._index(request, db_session, festival_id, status=422, import_form=form)
        fmt = importing.detect_format(
            upload.content_type if isinstance(upload, UploadFile) else None, body
        )
        if fmt == "xlsx":
            try:
                body = await anyio.to_thread.run_sync(importing.xlsx_as_csv, body)
            except ValueError as exc:
                form = FormState(errors={"file": str(exc)})
                return await self._index(
                    request, db_session, festival_id, status=422, import_form=form
                )
            fmt = "csv"
        parsed = await anyio.to_thread.run_sync(importing.parse, body, fmt)
        try:
            report = await PrizeListService(db_session).import_prize_list(
                festival_id, parsed, dry_run=not confirm
            )
        except ValidationFailed as exc:
            await abandon(db_session)
            view = _view(filename, body, exc)
            return await self._index(request, db_session, festival_id, status=422, import_view=view)
        except DomainError as exc:
            await abandon(db_session)
            return await self._index(
                request, db_session, festival_id, status=exc.status_code, problem=exc.detail
            )
        if confirm:
            return Redirect(
                f"{_awards_url(festival_id)}?imported={report.awards_created}", status_code=303
            )
        view = _view(filename, body, None)
        view.report = report
        return await self._index(request, db_session, festival_id, import_view=view)

    # --- one category and its prize table ----------------------------------------------------

    async def _category(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        category_id: str,
        *,
        status: int = 200,
        page: int = 1,
        award_form: FormState | None = None,
        edit_form: FormState | None = None,
        problem: str | None = None,
    ) -> Response[Any]:
        awards = AwardService(session)
        categories = CategoryService(session)
        festival = await categories.festival(festival_id)
        category = await categories.get_category(festival.id, category_id)
        totals = await categories.category_totals([category.id])
        read = category_read(category, festival.currency, *totals.get(category.id, (0, 0)))
        items, total = await awards.list_awards(
            festival_id, category_id=category_id, **window(page)
        )
        next_place = (
            max((a.place or 0 for a in await awards.awards(festival.id, category.id)), default=0)
            + 1
        )
        edit = edit_form or FormState.of(
            code=category.code,
            name_zh=category.name_zh,
            name_en=category.name_en,
            ranked_by=str(category.ranked_by),
            display_order=category.display_order,
            sponsor_label_zh=category.sponsor_label_zh or "",
            sponsor_label_en=category.sponsor_label_en or "",
            version=version_of(category.updated_at),
        )
        return await festival_page(
            request,
            session,
            festival_id,
            "awards/category.html",
            status=status,
            category=read,
            awards=Paged(items, total, page),
            yuan=yuan,
            award_form=award_form or FormState.of(place=next_place),
            edit_form=edit,
            ranking_options=_rankings(request),
            problem=problem,
        )

    @get(
        "/categories/{category_id:str}",
        operation_id="ConsoleCategory",
        summary="A category's prize table (page)",
    )
    async def category(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        category_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page: PageNumber = 1,
    ) -> Response[Any]:
        return await self._category(request, db_session, festival_id, category_id, page=page)

    @post(
        "/categories/{category_id:str}",
        operation_id="ConsoleCategoryUpdate",
        summary="Edit a category (form; refused when stale)",
    )
    async def update_category(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        category_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        categories = CategoryService(db_session)
        values = blank_to_none(data, "display_order", "sponsor_label_zh", "sponsor_label_en")
        values.pop("version", None)
        try:
            festival = await categories.festival(festival_id)
            current = await categories.get_category(festival.id, category_id, for_update=True)
            check_version(data.get("version"), current.updated_at)
            body = parse(schemas.CategoryUpdate, values)
            await categories.update_category(festival_id, category_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._category(
                request,
                db_session,
                festival_id,
                category_id,
                status=409 if isinstance(exc, StaleForm) else 422,
                edit_form=FormState.failed(data, exc),
            )
        return Redirect(f"{_awards_url(festival_id)}/categories/{category_id}", status_code=303)

    @post(
        "/categories/{category_id:str}/awards",
        operation_id="ConsoleAwardCreate",
        summary="Add an award to a category (form)",
    )
    async def create_award(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        category_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        errors: list[FieldError] = []
        values: dict[str, Any] = {
            "category_id": category_id,
            "place": int(data["place"]) if data.get("place", "").strip().isdigit() else None,
            "name_zh": data.get("name_zh", "").strip(),
            "name_en": data.get("name_en", "").strip(),
            "prize_fen": _yuan_to_fen(data.get("prize_yuan", ""), "prize_yuan", errors),
            "in_kind_zh": data.get("in_kind_zh", "").strip(),
            "in_kind_en": data.get("in_kind_en", "").strip(),
            "in_kind_value_fen": _yuan_to_fen(
                data.get("in_kind_value_yuan", ""), "in_kind_value_yuan", errors
            ),
        }
        if data.get("place", "").strip() and values["place"] is None:
            errors.append(FieldError("place", "A place is a whole number ≥ 1."))
        rename = {"prize_fen": "prize_yuan", "in_kind_value_fen": "in_kind_value_yuan"}
        try:
            if errors:
                raise ValidationFailed(errors)
            body = parse(schemas.AwardCreate, values)
            await AwardService(db_session).create_award(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._category(
                request,
                db_session,
                festival_id,
                category_id,
                status=422,
                award_form=FormState.failed(data, exc, rename),
            )
        return Redirect(f"{_awards_url(festival_id)}/categories/{category_id}", status_code=303)

    @post(
        "/categories/{category_id:str}/awards/{award_id:str}/delete",
        operation_id="ConsoleAwardDelete",
        summary="Delete an award (form)",
    )
    async def delete_award(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        category_id: FromPath[str],
        award_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        try:
            await AwardService(db_session).delete_award(festival_id, award_id)
        except DomainError as exc:
            await abandon(db_session)
            return await self._category(
                request,
                db_session,
                festival_id,
                category_id,
                status=exc.status_code,
                problem=exc.detail,
            )
        return Redirect(f"{_awards_url(festival_id)}/categories/{category_id}", status_code=303)


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.awards.import.no_file"),
    N_("console.awards.ranking.count"),
    N_("console.awards.ranking.finish_order"),
    N_("console.awards.ranking.gait_legal_time"),
    N_("console.awards.ranking.judges_score"),
    N_("console.awards.ranking.points"),
    N_("console.awards.ranking.time"),
    N_("console.awards.status.draft"),
    N_("console.awards.status.locked"),
    N_("console.awards.status.published"),
    N_("console.nav.awards"),
)
