"""Gate work in the console: the festival's gate devices (last seen, scans today, revoke,
and a new device's scanner link, shown once) and today's attendance.

Devices are created and revoked by ``DeviceService`` as ``CreateDevice`` and
``RevokeDevice`` do. Gate staff may open this page and create a device for their phone
(the demo ``gate`` account gets its scanner link here); revoking stays with organisers.
The new device's link (``/scan#token=...``) is in this one response only (``no-store``):
the token is never stored, so it cannot be shown again.
"""

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import schemas as access_schemas
from events.access.guards import current_principal, organiser_only, requires_role
from events.access.models import Role
from events.access.services import DeviceService
from events.checkin import activity
from events.checkin import services as checkin_services
from events.config import Settings
from events.console.forms import Form, FormState, parse
from events.console.layout import NavItem, add_nav, festival_page
from events.db.base import utcnow
from events.db.deps import abandon
from events.errors import DomainError, NotFound
from events.festivals import services as festival_services
from events.ids import parse_id
from events.links import Links
from events.web.i18n import N_

add_nav(
    NavItem(
        "console.nav.devices",
        "/console/festivals/{festival}/devices",
        (Role.ORGANISER, Role.GATE),
        position=60,
    ),
    NavItem(
        "console.nav.attendance",
        "/console/festivals/{festival}/attendance",
        (Role.ORGANISER,),
        position=50,
    ),
    NavItem("console.nav.scanner", "/scan", (Role.GATE,), position=61),
)


def local_day_start(timezone: str) -> dt.datetime:
    zone = ZoneInfo(timezone)
    today = utcnow().astimezone(zone).date()
    return dt.datetime.combine(today, dt.time(), zone).astimezone(dt.UTC)


class ConsoleGatesController(Controller):
    path = "/festivals/{festival_id:str}"
    include_in_schema = False

    async def _devices(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        *,
        status: int = 200,
        form: FormState | None = None,
        created: dict[str, str] | None = None,
    ) -> Response[Any]:
        festival = await festival_services.FestivalService(session).get(festival_id)
        devices, _ = await DeviceService(session).list(festival.id, limit=1000, offset=0)
        seen = await activity.device_activity(
            session, festival.id, local_day_start(festival.timezone)
        )
        gates = {
            g.id: g for g in await festival_services.FestivalService(session).gates(festival.id)
        }
        ordered = sorted(devices, key=lambda d: (d.revoked_at is not None, d.name))
        rows = [
            {
                "device": d,
                "gate": gates.get(d.gate_id),
                "activity": seen.get(d.id, activity.DeviceActivity(None, 0)),
            }
            for d in ordered
        ]
        principal = current_principal(request)
        return await festival_page(
            request,
            session,
            festival_id,
            "gates/devices.html",
            status=status,
            rows=rows,
            gate_options=[(str(g.id), g) for g in gates.values()],
            form=form or FormState(),
            created=created,
            zone=ZoneInfo(festival.timezone),
            may_revoke=principal.role == Role.ORGANISER,
        )

    @get(
        "/devices",
        operation_id="ConsoleDevices",
        summary="Gate devices (page)",
        guards=[requires_role(Role.ORGANISER, Role.GATE)],
    )
    async def devices(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._devices(request, db_session, festival_id)

    @post(
        "/devices",
        operation_id="ConsoleDeviceCreate",
        summary="Register a gate device and show its scanner link once (form)",
        guards=[requires_role(Role.ORGANISER, Role.GATE)],
    )
    async def create_device(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        try:
            body = parse(
                access_schemas.DeviceCreate,
                {"gate_id": data.get("gate_id", ""), "name": data.get("name", "").strip()},
            )
            gate = await festival_services.FestivalService(db_session).gate_of(
                festival_id, body.gate_id
            )
            device, token = await DeviceService(db_session).create(
                festival_id=gate.festival_id,
                gate_id=gate.id,
                name=body.name,
                created_by=current_principal(request).id,
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._devices(
                request, db_session, festival_id, status=422, form=FormState.failed(data, exc)
            )
        return await self._devices(
            request,
            db_session,
            festival_id,
            created={
                "name": device.name,
                "link": Links.for_request(request, settings).scanner(token),
            },
        )

    @post(
        "/devices/{device_id:str}/revoke",
        operation_id="ConsoleDeviceRevoke",
        summary="Revoke a gate device (form)",
        guards=[organiser_only],
    )
    async def revoke_device(
        self,
        festival_id: FromPath[str],
        device_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        service = DeviceService(db_session)
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        device = await service.get(device_id)
        if device.festival_id != festival.id:
            raise NotFound(f"No device with id {device_id!r} at this festival.")
        await service.revoke(device_id)
        return Redirect(f"/console/festivals/{festival_id}/devices", status_code=303)

    @get(
        "/attendance",
        operation_id="ConsoleAttendance",
        summary="Attendance (page)",
        guards=[organiser_only],
    )
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        day: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """Server-rendered; the figures refresh every 30 s with htmx."""
        festival = await festival_services.FestivalService(db_session).read(festival_id)
        days = [d for m in festival.meetings for d in m.days]
        figures = await checkin_services.attendance(
            db_session,
            parse_id(festival.id, "festival"),
            ZoneInfo(festival.timezone),
            day,
        )
        return await festival_page(
            request, db_session, festival_id, "gates/attendance.html", figures=figures, days=days
        )


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.nav.attendance"),
    N_("console.nav.devices"),
    N_("console.nav.scanner"),
)
