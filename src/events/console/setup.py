"""Festival setup in the console: the festival's details, its meetings and days, its gates,
and its enclosures with the gates that admit to each.

Every form calls the service its API route calls: ``FestivalService.update``,
``add_meeting`` and ``add_gate`` (``UpdateFestival``, ``AddMeeting``, ``AddGate``), and the
ticketing domain's ``CatalogService.create_enclosure`` / ``update_enclosure``
(``CreateEnclosure``, ``UpdateEnclosure``). The details form carries the festival's
version: saved over someone else's change, it is refused.
"""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only
from events.access.models import Role
from events.console.forms import (
    Form,
    FormState,
    StaleForm,
    check_version,
    parse,
    version_of,
)
from events.console.layout import NavItem, add_nav, festival_page
from events.db.deps import abandon
from events.errors import DomainError
from events.festivals import schemas as festival_schemas
from events.festivals import services as festival_services
from events.ticketing import schemas as ticketing_schemas
from events.ticketing.catalog import CatalogService
from events.web.i18n import N_

add_nav(
    NavItem(
        "console.nav.setup", "/console/festivals/{festival}/setup", (Role.ORGANISER,), position=20
    )
)

DETAILS = (
    "name_zh",
    "name_en",
    "venue_zh",
    "venue_en",
    "timezone",
    "description_zh",
    "description_en",
)


def _collapse(state: FormState, *lists: str) -> FormState:
    """Problems of ``days.3.date`` shown next to the ``days`` field."""
    for key in list(state.errors):
        head = key.split(".", 1)[0]
        if head in lists and key != head:
            message = state.errors.pop(key)
            state.errors[head] = (
                state.errors[head] + " " if head in state.errors else ""
            ) + message
    return state


async def _form_with_gates(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[str]]:
    """The posted fields, and the ticked ``gate_ids`` (a field that repeats)."""
    raw = await request.form()
    data = {key: str(raw.get(key)) for key in raw}
    return data, [str(v) for v in raw.getall("gate_ids", [])]


class ConsoleSetupController(Controller):
    path = "/festivals/{festival_id:str}/setup"
    guards = [organiser_only]
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        *,
        status: int = 200,
        **forms: FormState,
    ) -> Response[Any]:
        festivals = festival_services.FestivalService(session)
        festival = await festivals.get(festival_id)
        details = forms.pop("details", None) or FormState.of(
            **{name: getattr(festival, name) for name in DETAILS},
            version=version_of(festival.updated_at),
        )
        enclosures = await CatalogService(session).enclosures(festival.id)
        return await festival_page(
            request,
            session,
            festival_id,
            "setup/index.html",
            status=status,
            details=details,
            meeting_form=forms.get("meeting") or FormState(),
            gate_form=forms.get("gate") or FormState(),
            enclosure_form=forms.get("enclosure") or FormState(),
            enclosure_edit=forms.get("enclosure_edit"),
            enclosures=enclosures,
        )

    @get("/", operation_id="ConsoleSetup", summary="Festival setup (page)")
    async def setup(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._page(request, db_session, festival_id)

    @post(
        "/details",
        operation_id="ConsoleFestivalUpdate",
        summary="Edit the festival's details (form; refused when stale)",
    )
    async def details(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        festivals = festival_services.FestivalService(db_session)
        try:
            current = await festivals.get(festival_id)
            check_version(data.get("version"), current.updated_at)
            body = parse(
                festival_schemas.FestivalUpdate,
                {k: data.get(k, "").strip() for k in DETAILS if k in data},
            )
            await festivals.update(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._page(
                request,
                db_session,
                festival_id,
                status=409 if isinstance(exc, StaleForm) else 422,
                details=FormState.failed(data, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/setup", status_code=303)

    @post(
        "/meetings",
        operation_id="ConsoleMeetingCreate",
        summary="Add a meeting and its days (form)",
    )
    async def add_meeting(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        dates = [
            line.strip()
            for line in data.get("days", "").replace(",", "\n").splitlines()
            if line.strip()
        ]
        try:
            body = parse(
                festival_schemas.MeetingIn,
                {
                    "name_zh": data.get("name_zh", "").strip(),
                    "name_en": data.get("name_en", "").strip(),
                    "days": [{"date": d} for d in dates],
                },
            )
            await festival_services.FestivalService(db_session).add_meeting(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._page(
                request,
                db_session,
                festival_id,
                status=422,
                meeting=_collapse(FormState.failed(data, exc), "days"),
            )
        return Redirect(f"/console/festivals/{festival_id}/setup#meetings", status_code=303)

    @post("/gates", operation_id="ConsoleGateCreate", summary="Add a gate (form)")
    async def add_gate(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        try:
            body = parse(
                festival_schemas.GateIn,
                {k: data.get(k, "").strip() for k in ("code", "name_zh", "name_en")},
            )
            await festival_services.FestivalService(db_session).add_gate(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._page(
                request, db_session, festival_id, status=422, gate=FormState.failed(data, exc)
            )
        return Redirect(f"/console/festivals/{festival_id}/setup#gates", status_code=303)

    @post(
        "/enclosures",
        operation_id="ConsoleEnclosureCreate",
        summary="Add an enclosure and the gates that admit to it (form)",
    )
    async def add_enclosure(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        data, gate_ids = await _form_with_gates(request)
        try:
            body = parse(
                ticketing_schemas.EnclosureCreate,
                {
                    "code": data.get("code", "").strip(),
                    "name_zh": data.get("name_zh", "").strip(),
                    "name_en": data.get("name_en", "").strip(),
                    "parent_id": data.get("parent_id") or None,
                    "allow_reentry": data.get("allow_reentry") == "on",
                    "gate_ids": gate_ids,
                },
            )
            await CatalogService(db_session).create_enclosure(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            state = _collapse(FormState.failed(data, exc), "gate_ids")
            state.values["gate_ids"] = gate_ids
            return await self._page(request, db_session, festival_id, status=422, enclosure=state)
        return Redirect(f"/console/festivals/{festival_id}/setup#enclosures", status_code=303)

    @post(
        "/enclosures/{enclosure_id:str}",
        operation_id="ConsoleEnclosureUpdate",
        summary="Change which gates admit to an enclosure, and its re-entry (form)",
    )
    async def update_enclosure(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        enclosure_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        data, gate_ids = await _form_with_gates(request)
        try:
            body = parse(
                ticketing_schemas.EnclosureUpdate,
                {"allow_reentry": data.get("allow_reentry") == "on", "gate_ids": gate_ids},
            )
            await CatalogService(db_session).update_enclosure(festival_id, enclosure_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            state = _collapse(FormState.failed(data, exc), "gate_ids")
            state.values["id"] = enclosure_id
            return await self._page(
                request, db_session, festival_id, status=422, enclosure_edit=state
            )
        return Redirect(f"/console/festivals/{festival_id}/setup#enclosures", status_code=303)


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.nav.setup"),
    N_("console.setup.none"),
)
