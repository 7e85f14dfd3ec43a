"""Gate routes: scan, offline sync and keys for devices; attendance for organisers."""

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import (
    BEARER_SECURITY,
    DEVICE_SECURITY,
    current_principal,
    organiser_only,
    requires_device,
)
from events.checkin import schemas
from events.checkin.context import ContextCache
from events.checkin.services import CheckinService, attendance
from events.errors import NotFound, Unauthorized
from events.festivals.services import FestivalService
from events.problems import error_responses

SCAN_BODY_LIMIT = 16 * 1024
SYNC_BODY_LIMIT = 2 * 1024 * 1024


def provide_checkin(state: State) -> CheckinService:
    """One check-in service per app (it holds the per-worker key cache)."""
    service: CheckinService | None = state.get("checkin")
    if service is None:
        service = CheckinService(state.db, state.settings, ContextCache(state.db, state.settings))
        state.checkin = service
    return service


class CheckinController(Controller):
    path = "/api/v1/checkin"
    tags = ["Check-in"]
    guards = [requires_device]
    security = DEVICE_SECURITY
    dependencies = {"checkin": Provide(provide_checkin, sync_to_thread=False)}

    @post(
        "/scan",
        operation_id="Scan",
        status_code=200,
        request_max_body_size=SCAN_BODY_LIMIT,
        summary="Scan a ticket at a gate: ok, or refused with a reason",
        responses=error_responses(Unauthorized),
    )
    async def scan(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.ScanRequest],
        checkin: NamedDependency[CheckinService],
    ) -> schemas.ScanAnswer:
        """Decided once in the database; the same device and nonce get the stored answer."""
        return await checkin.scan(current_principal(request), data)

    @post(
        "/sync",
        operation_id="SyncOfflineScans",
        status_code=200,
        request_max_body_size=SYNC_BODY_LIMIT,
        summary="Upload scans made offline (facts: conflicts reported, never undone)",
        responses=error_responses(Unauthorized),
    )
    async def sync(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.SyncRequest],
        checkin: NamedDependency[CheckinService],
    ) -> schemas.SyncResult:
        return await checkin.sync(current_principal(request), data)

    @get(
        "/keys",
        operation_id="CheckinKeys",
        summary="Public keys, revocations since a cursor and the gates, for offline scanning",
        responses=error_responses(Unauthorized),
    )
    async def keys(
        self,
        request: Request[Any, Any, Any],
        checkin: NamedDependency[CheckinService],
        db_session: NamedDependency[AsyncSession],
        since: Annotated[
            int, QueryParameter(ge=0, le=2**62, description="Last revocation cursor seen")
        ] = 0,
    ) -> schemas.KeysAnswer:
        return await checkin.keys(db_session, current_principal(request), since)


class AttendanceController(Controller):
    tags = ["Check-in"]

    @get(
        "/api/v1/festivals/{festival_id:str}/attendance",
        operation_id="Attendance",
        summary="Inside now; admitted per day, gate and enclosure; arrivals per 10 minutes",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def attendance(
        self,
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        day: Annotated[
            dt.date | None, QueryParameter(description="Festival-local date; default today")
        ] = None,
    ) -> schemas.Attendance:
        from zoneinfo import ZoneInfo

        festival = await FestivalService(db_session).get(festival_id)
        return await attendance(db_session, festival.id, ZoneInfo(festival.timezone), day)
