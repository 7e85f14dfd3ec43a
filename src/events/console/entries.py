"""Entries: the list with search and filters (province, race, status, owner, microchip),
paged on the server, exported as CSV/XLSX; one entry with its history and the organiser's
actions (inspect, refuse with a reason, withdraw with the refund previewed first); the
delegation import with its row report.

Every action calls the ``EntryService`` method the API route calls; the refund preview is
``registration.withdrawal.refund_preview``, the rule the withdrawal itself applies.
"""

from typing import Annotated, Any

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
from events.config import Settings
from events.console.forms import Form, FormState, parse
from events.console.layout import NavItem, add_nav, festival_page
from events.console.paging import Paged, PageNumber, window
from events.console.values import actor, blank_none, yuan
from events.db.deps import abandon
from events.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from events.ids import parse_id
from events.registration import exports, provinces, schemas
from events.registration.entries import EntryFilters, EntryService
from events.registration.fees import REFUND_POLICY
from events.registration.importing import EntryImport, ImportRejected
from events.registration.models import Entry, EntryStatus
from events.registration.races import RaceService
from events.registration.withdrawal import refund_preview
from events.spreadsheets import XLSX_MEDIA_TYPE
from events.web.i18n import N_, request_lang

add_nav(
    NavItem(
        "console.nav.entries",
        "/console/festivals/{festival}/entries",
        (Role.ORGANISER,),
        position=41,
    )
)

Filter = Annotated[str | None, QueryParameter(max_length=100)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
FILTERS = ("q", "province", "race_id", "status", "owner", "microchip")
IMPORT_LIMIT = 10 * 1024 * 1024


class RefundChanged(Conflict):
    """The refund is no longer what was shown when the person confirmed."""


def filters_of(values: dict[str, str | None]) -> EntryFilters:
    """The list's filters; a bad one is a ``ValidationFailed`` naming it."""
    status = blank_none(values.get("status"))
    if status is not None and status not in {s.value for s in EntryStatus}:
        raise ValidationFailed([FieldError("status", f"Unknown status {status!r}.")])
    return EntryFilters(
        province=blank_none(values.get("province")),
        race_id=blank_none(values.get("race_id")),
        status=EntryStatus(status) if status else None,
        owner=blank_none(values.get("owner")),
        microchip=blank_none(values.get("microchip")),
    )


class ConsoleEntryController(Controller):
    include_in_schema = False
    path = "/festivals/{festival_id:str}/entries"

    async def _list_context(self, session: AsyncSession, festival_id: str) -> dict[str, Any]:
        races = await RaceService(session).of_festival(festival_id)
        return {
            "races": [(r.id, f"{r.code} {r.name_zh}") for r in races],
            "provinces": [(p.code, p.zh) for p in provinces.PROVINCES],
            "statuses": [s.value for s in EntryStatus],
            "yuan": yuan,
        }

    @get(
        operation_id="ConsoleEntryList",
        summary="A festival's entries (page)",
        guards=[organiser_only],
    )
    async def entries(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page: PageNumber = 1,
        province: Filter = None,
        race_id: Filter = None,
        status: Filter = None,
        owner: Filter = None,
        microchip: Filter = None,
    ) -> Response[Any]:
        typed = {
            "province": province,
            "race_id": race_id,
            "status": status,
            "owner": owner,
            "microchip": microchip,
        }
        query = {k: v for k, v in typed.items() if v}
        form = FormState.of(query)
        paged: Paged[schemas.EntryRead] = Paged([], 0, page)
        try:
            items, total = await EntryService(db_session).search(
                festival_id, filters_of(typed), **window(page)
            )
            paged = Paged(items, total, page)
        except ValidationFailed as exc:
            form = FormState.failed(query, exc)
        except DomainError as exc:
            if exc.status_code != 404 or "race" not in exc.detail:
                raise
            form = FormState.failed(query, ValidationFailed([FieldError("race_id", exc.detail)]))
        return await festival_page(
            request,
            db_session,
            festival_id,
            "entries/list.html",
            status=200 if form.ok else 422,
            paged=paged,
            form=form,
            query=query,
            **await self._list_context(db_session, festival_id),
        )

    async def _export(
        self, session: AsyncSession, festival_id: str, typed: dict[str, str | None], kind: str
    ) -> Response[bytes]:
        festival, rows = await EntryService(session).rows_for_export(festival_id, filters_of(typed))
        if kind == "csv":
            return Response(
                exports.to_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{festival.slug}-entries.csv"'
                },
            )
        return Response(
            exports.to_xlsx(rows),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{festival.slug}-entries.xlsx"'},
        )

    @get(
        "/export.csv",
        operation_id="ConsoleEntryExportCsv",
        summary="The entries shown, as CSV",
        guards=[organiser_only],
        media_type="text/csv",
    )
    async def export_csv(
        self,
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        province: Filter = None,
        race_id: Filter = None,
        status: Filter = None,
        owner: Filter = None,
        microchip: Filter = None,
    ) -> Response[bytes]:
        return await self._export(
            db_session,
            festival_id,
            {
                "province": province,
                "race_id": race_id,
                "status": status,
                "owner": owner,
                "microchip": microchip,
            },
            "csv",
        )

    @get(
        "/export.xlsx",
        operation_id="ConsoleEntryExportXlsx",
        summary="The entries shown, as an Excel workbook",
        guards=[organiser_only],
        media_type=XLSX_MEDIA_TYPE,
    )
    async def export_xlsx(
        self,
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        province: Filter = None,
        race_id: Filter = None,
        status: Filter = None,
        owner: Filter = None,
        microchip: Filter = None,
    ) -> Response[bytes]:
        return await self._export(
            db_session,
            festival_id,
            {
                "province": province,
                "race_id": race_id,
                "status": status,
                "owner": owner,
                "microchip": microchip,
            },
            "xlsx",
        )

    # --- the delegation import ----------------------------------------------------------

    @get(
        "/import",
        operation_id="ConsoleEntryImportPage",
        summary="Import a delegation's spreadsheet (page)",
        guards=[organiser_only],
    )
    async def import_page(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await festival_page(
            request,
            db_session,
            festival_id,
            "entries/import.html",
            form=FormState.of(),
            report=None,
        )

    @post(
        "/import",
        operation_id="ConsoleEntryImport",
        summary="Check, or import, a delegation's spreadsheet (form)",
        guards=[organiser_only],
        request_max_body_size=IMPORT_LIMIT + 64 * 1024,
    )
    async def import_entries(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Upload,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        upload = data.get("file")
        dry_run = data.get("mode") != "store"
        form = FormState.of(mode="check" if dry_run else "store")
        report = None
        try:
            if not isinstance(upload, UploadFile):
                raise ValidationFailed([FieldError("file", "Choose a CSV or XLSX file.")])
            content = await upload.read()
            if not content:
                raise ValidationFailed([FieldError("file", "The file is empty.")])
            report = await EntryImport(db_session).run(
                festival_id, content, dry_run=dry_run, actor_id=actor(request).user_id
            )
            if not report.stored:
                await abandon(db_session)
        except DomainError as exc:
            await abandon(db_session)
            report = exc.extra.get("report") if isinstance(exc, ImportRejected) else None
            if report is None and isinstance(exc, ImportRejected):  # the file itself
                exc = ValidationFailed([FieldError("file", exc.detail)])
            form = FormState.failed({}, exc, fields={"_": "file"})
        return await festival_page(
            request,
            db_session,
            festival_id,
            "entries/import.html",
            status=200 if form.ok and report and not report.errors else 422,
            form=form,
            report=report,
        )

    # --- one entry ----------------------------------------------------------------------

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        festival_id: str,
        entry_id: str,
        *,
        status: int = 200,
        **forms: FormState,
    ) -> Response[Any]:
        entry = await EntryService(session, settings).detail(actor(request), entry_id)
        if entry.festival_id != festival_id:
            raise NotFound(f"No entry with id {entry_id!r} at this festival.")
        previews = {}
        if entry.status in {
            s.value
            for s in (
                EntryStatus.WAITING,
                EntryStatus.PENDING_PAYMENT,
                EntryStatus.CONFIRMED,
                EntryStatus.INSPECTED,
            )
        }:
            _, previews["scratched"] = await refund_preview(
                session, entry_id, to=EntryStatus.SCRATCHED
            )
        return await festival_page(
            request,
            session,
            festival_id,
            "entries/detail.html",
            status=status,
            entry=entry,
            previews=previews,
            yuan=yuan,
            refuse_form=forms.get("refuse_form") or FormState.of(),
            inspect_form=forms.get("inspect_form") or FormState.of(passed="on"),
        )

    @get(
        "/{entry_id:str}",
        operation_id="ConsoleEntryDetail",
        summary="An entry with its history and actions (page)",
        guards=[organiser_only],
    )
    async def detail(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        entry_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        return await self._detail(request, db_session, settings, festival_id, entry_id)

    @post(
        "/{entry_id:str}/inspect",
        operation_id="ConsoleEntryInspect",
        summary="Record the pre-race inspection (form)",
        guards=[organiser_only],
    )
    async def inspect(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        entry_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        await _entry_in(db_session, festival_id, entry_id)
        try:
            body = parse(
                schemas.InspectionIn,
                {
                    "passed": data.get("passed") == "on",
                    "measured_height_cm": blank_none(data.get("measured_height_cm")),
                    "note": data.get("note", "").strip(),
                },
            )
            await EntryService(db_session, settings).inspect(actor(request), entry_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._detail(
                request,
                db_session,
                settings,
                festival_id,
                entry_id,
                status=_status(exc),
                inspect_form=FormState.failed(data, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/entries/{entry_id}", status_code=303)

    @post(
        "/{entry_id:str}/refuse",
        operation_id="ConsoleEntryRefuse",
        summary="Refuse (scratch) an entry with a reason; refund by rule (form)",
        guards=[organiser_only],
    )
    async def refuse(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        entry_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        await _entry_in(db_session, festival_id, entry_id)
        try:
            body = parse(schemas.ScratchIn, {"reason": data.get("reason", "").strip()})
            await _same_refund(
                db_session, entry_id, EntryStatus.SCRATCHED, data.get("expected_refund")
            )
            await EntryService(db_session, settings).scratch(actor(request), entry_id, body.reason)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._detail(
                request,
                db_session,
                settings,
                festival_id,
                entry_id,
                status=_status(exc),
                refuse_form=FormState.failed(data, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/entries/{entry_id}", status_code=303)

    @get(
        "/{entry_id:str}/withdraw",
        operation_id="ConsoleEntryWithdrawPreview",
        summary="What withdrawing the entry would refund, to confirm (page)",
        guards=[organiser_only],
    )
    async def withdraw_preview(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        entry_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        return await self._withdraw_page(
            request, db_session, settings, festival_id, entry_id, FormState.of()
        )

    async def _withdraw_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        festival_id: str,
        entry_id: str,
        form: FormState,
        status: int = 200,
    ) -> Response[Any]:
        entry = await EntryService(session, settings).detail(actor(request), entry_id)
        if entry.festival_id != festival_id:
            raise NotFound(f"No entry with id {entry_id!r} at this festival.")
        try:
            _, refund = await refund_preview(session, entry_id)
        except Conflict as exc:
            return await festival_page(
                request,
                session,
                festival_id,
                "entries/withdraw.html",
                status=exc.status_code,
                entry=entry,
                refund=None,
                yuan=yuan,
                form=FormState.failed({}, exc),
            )
        form.values.setdefault("expected_refund", str(refund.amount))
        return await festival_page(
            request,
            session,
            festival_id,
            "entries/withdraw.html",
            status=status,
            entry=entry,
            refund=refund,
            yuan=yuan,
            form=form,
            policy=_policy(request),
        )

    @post(
        "/{entry_id:str}/withdraw",
        operation_id="ConsoleEntryWithdraw",
        summary="Withdraw the entry with the refund that was shown (form)",
        guards=[organiser_only],
    )
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        entry_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        await _entry_in(db_session, festival_id, entry_id)
        try:
            body = parse(schemas.WithdrawIn, {"reason": data.get("reason", "").strip()})
            await _same_refund(
                db_session, entry_id, EntryStatus.WITHDRAWN, data.get("expected_refund")
            )
            await EntryService(db_session, settings).withdraw(
                actor(request), entry_id, body.reason or "withdrawn by the organiser"
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            form = FormState.failed(data, exc)
            form.values.pop("expected_refund", None)  # show the refund as it is now
            return await self._withdraw_page(
                request, db_session, settings, festival_id, entry_id, form, status=_status(exc)
            )
        return Redirect(f"/console/festivals/{festival_id}/entries/{entry_id}", status_code=303)


async def _entry_in(session: AsyncSession, festival_id: str, entry_id: str) -> None:
    """Refuse an entry of another festival (its id under this festival's path)."""
    entry = await session.get(Entry, parse_id(entry_id, "entry"))
    if entry is None or str(entry.festival_id) != festival_id:
        raise NotFound(f"No entry with id {entry_id!r} at this festival.")


def _status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, DomainError) else 422


def _policy(request: Request[Any, Any, Any]) -> str:
    return REFUND_POLICY[request_lang(request)]


async def _same_refund(
    session: AsyncSession, entry_id: str, to: EntryStatus, expected: str | None
) -> None:
    """Refuse when the refund is no longer the one the person saw and confirmed."""
    _, refund = await refund_preview(session, entry_id, to=to)
    if expected is None or expected.strip() != str(refund.amount):
        raise RefundChanged(
            f"The refund is now {yuan(refund.amount)} (it was {yuan(int(expected))} when "
            "shown); nothing was done. Check it and confirm again."
            if expected and expected.strip().isdigit()
            else "The refund shown is missing; nothing was done. Check it and confirm again.",
            code="refund_changed",
        )


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.entries.rule.after_close"),
    N_("console.entries.rule.after_close_refilled"),
    N_("console.entries.rule.before_close"),
    N_("console.entries.rule.nothing_paid"),
    N_("console.entries.rule.scratched"),
    N_("console.entries.status.cancelled"),
    N_("console.entries.status.confirmed"),
    N_("console.entries.status.inspected"),
    N_("console.entries.status.pending_payment"),
    N_("console.entries.status.scratched"),
    N_("console.entries.status.waiting"),
    N_("console.entries.status.withdrawn"),
    N_("console.nav.entries"),
)
