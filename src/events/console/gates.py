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
from events.errors import DomainError, NotFound
from events.festivals import services as festival_services
from events.web.i18n import register

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
        devices = await DeviceService(session).list(festival_id)
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
            device, token = await DeviceService(db_session).create(
                festival_id=festival_id,
                gate_id=body.gate_id,
                name=body.name,
                created_by=current_principal(request).id,
            )
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            return await self._devices(
                request, db_session, festival_id, status=422, form=FormState.failed(data, exc)
            )
        origin = settings.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")
        return await self._devices(
            request,
            db_session,
            festival_id,
            created={"name": device.name, "link": f"{origin}/scan#token={token}"},
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
            festival_services.parse_id(festival.id, "festival"),
            ZoneInfo(festival.timezone),
            day,
        )
        return await festival_page(
            request, db_session, festival_id, "gates/attendance.html", figures=figures, days=days
        )


register(
    {
        "zh": {
            "console.nav.devices": "检票设备",
            "console.nav.attendance": "入场统计",
            "console.nav.scanner": "打开检票",
            "console.devices.title": "检票设备",
            "console.devices.hint": "为每部门岗手机创建一个设备，"
            "用那部手机扫描二维码（或打开链接）即可开始检票。",
            "console.devices.add": "添加设备",
            "console.devices.gate": "入口",
            "console.devices.name": "设备名称",
            "console.devices.name_hint": "例如：东门 1 号手机",
            "console.devices.submit": "创建设备并显示检票链接",
            "console.devices.no_gates": "本活动还没有入口，请先在“活动设置”中添加入口。",
            "console.devices.created": "设备“{name}”已创建",
            "console.devices.created_hint": "用门岗手机扫描此二维码，或把链接发给它。"
            "链接只显示这一次，持有链接即可在此入口检票，"
            "请勿外传。",
            "console.devices.link": "检票链接",
            "console.devices.state": "状态",
            "console.devices.active": "使用中",
            "console.devices.revoked": "已停用",
            "console.devices.last_seen": "最近扫码",
            "console.devices.never": "从未",
            "console.devices.scans_today": "今日扫码",
            "console.devices.created_at": "创建时间",
            "console.devices.revoke": "停用",
            "console.devices.revoke_confirm": "停用此设备？这部手机将立即无法检票，且不能恢复。",
            "console.attendance.title": "入场统计",
            "console.attendance.day": "日期",
            "console.attendance.show": "查看",
            "console.attendance.inside_now": "当前场内",
            "console.attendance.admitted": "当日入场",
            "console.attendance.scans": "扫码次数",
            "console.attendance.refused": "拒绝",
            "console.attendance.conflicts": "离线冲突",
            "console.attendance.by_gate": "按入口",
            "console.attendance.by_enclosure": "按场区",
            "console.attendance.refreshes": "每 30 秒自动刷新",
        },
        "en": {
            "console.nav.devices": "Gate devices",
            "console.nav.attendance": "Attendance",
            "console.nav.scanner": "Open the scanner",
            "console.devices.title": "Gate devices",
            "console.devices.hint": "Add a device for each gate phone; scanning the QR code (or "
            "opening the link) on that phone starts checking tickets.",
            "console.devices.add": "Add a device",
            "console.devices.gate": "Gate",
            "console.devices.name": "Device name",
            "console.devices.name_hint": "e.g. East gate, phone 1",
            "console.devices.submit": "Create it and show its scanner link",
            "console.devices.no_gates": "This festival has no gates yet; add them in the "
            "festival setup first.",
            "console.devices.created": "Device “{name}” created",
            "console.devices.created_hint": "Scan this QR code with the gate phone, or send it "
            "the link. It is shown only this once; whoever has it "
            "can scan at this gate, so keep it private.",
            "console.devices.link": "Scanner link",
            "console.devices.state": "State",
            "console.devices.active": "Active",
            "console.devices.revoked": "Revoked",
            "console.devices.last_seen": "Last scan",
            "console.devices.never": "never",
            "console.devices.scans_today": "Scans today",
            "console.devices.created_at": "Created",
            "console.devices.revoke": "Revoke",
            "console.devices.revoke_confirm": "Revoke this device? That phone stops scanning at "
            "once; this cannot be undone.",
            "console.attendance.title": "Attendance",
            "console.attendance.day": "Day",
            "console.attendance.show": "Show",
            "console.attendance.inside_now": "Inside now",
            "console.attendance.admitted": "Admitted that day",
            "console.attendance.scans": "Scans",
            "console.attendance.refused": "Refused",
            "console.attendance.conflicts": "Offline conflicts",
            "console.attendance.by_gate": "By gate",
            "console.attendance.by_enclosure": "By enclosure",
            "console.attendance.refreshes": "Refreshes every 30 seconds",
        },
    }
)
