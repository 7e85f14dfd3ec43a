"""Festival routes: the public reads, organisers create and edit."""

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import schemas as access_schemas
from events.access.controllers import device_read, provide_device_service
from events.access.guards import BEARER_SECURITY, current_principal, organiser_only
from events.access.services import DeviceService
from events.errors import Conflict, NotFound, ValidationFailed
from events.festivals import schemas
from events.festivals.services import FestivalService, gate_read
from events.pagination import Limit, Offset, Page
from events.problems import error_responses


def provide_festival_service(db_session: NamedDependency[AsyncSession]) -> FestivalService:
    return FestivalService(db_session)


class FestivalController(Controller):
    path = "/api/v1/festivals"
    tags = ["Festivals"]
    dependencies = {"festivals": Provide(provide_festival_service, sync_to_thread=False)}

    @get(operation_id="ListFestivals", summary="List festivals (public)")
    async def list_festivals(
        self,
        festivals: NamedDependency[FestivalService],
        limit: Limit = 50,
        offset: Offset = 0,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="Search in names")
        ] = None,
    ) -> Page[schemas.FestivalSummary]:
        items, total = await festivals.list(limit=limit, offset=offset, q=q)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        operation_id="CreateFestival",
        summary="Create a festival",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(Conflict, ValidationFailed),
    )
    async def create_festival(
        self, data: JSONBody[schemas.FestivalCreate], festivals: NamedDependency[FestivalService]
    ) -> schemas.FestivalRead:
        festival = await festivals.create(data)
        return await festivals.read(festival.id)

    @get(
        "/{festival_id:str}",
        operation_id="GetFestival",
        summary="A festival with its meetings, days and gates (public)",
        responses=error_responses(NotFound),
    )
    async def get_festival(
        self, festival_id: FromPath[str], festivals: NamedDependency[FestivalService]
    ) -> schemas.FestivalRead:
        return await festivals.read(festival_id)

    @patch(
        "/{festival_id:str}",
        operation_id="UpdateFestival",
        summary="Edit a festival",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def update_festival(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.FestivalUpdate],
        festivals: NamedDependency[FestivalService],
    ) -> schemas.FestivalRead:
        festival = await festivals.update(festival_id, data)
        return await festivals.read(festival.id)

    @post(
        "/{festival_id:str}/meetings",
        operation_id="AddMeeting",
        summary="Add a meeting with its days",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def add_meeting(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.MeetingIn],
        festivals: NamedDependency[FestivalService],
    ) -> schemas.FestivalRead:
        meeting = await festivals.add_meeting(festival_id, data)
        return await festivals.read(meeting.festival_id)

    @post(
        "/{festival_id:str}/gates",
        operation_id="AddGate",
        summary="Add a gate",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def add_gate(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.GateIn],
        festivals: NamedDependency[FestivalService],
    ) -> schemas.GateRead:
        return gate_read(await festivals.add_gate(festival_id, data))

    @patch(
        "/{festival_id:str}/gates/{gate_id:str}",
        operation_id="UpdateGate",
        summary="Rename a gate",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def update_gate(
        self,
        festival_id: FromPath[str],
        gate_id: FromPath[str],
        data: JSONBody[schemas.GateUpdate],
        festivals: NamedDependency[FestivalService],
    ) -> schemas.GateRead:
        return gate_read(await festivals.update_gate(festival_id, gate_id, data))


class GateDeviceController(Controller):
    """Gate devices: festivals finds the gate, access keeps the device and its token."""

    path = "/api/v1/festivals/{festival_id:str}/devices"
    tags = ["Access"]
    dependencies = {
        "festivals": Provide(provide_festival_service, sync_to_thread=False),
        "devices": Provide(provide_device_service, sync_to_thread=False),
    }

    @post(
        operation_id="CreateDevice",
        summary="Register a gate device; its token is shown this once",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def create_device(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: JSONBody[access_schemas.DeviceCreate],
        festivals: NamedDependency[FestivalService],
        devices: NamedDependency[DeviceService],
    ) -> access_schemas.DeviceCreated:
        gate = await festivals.gate_of(festival_id, data.gate_id)
        device, token = await devices.create(
            festival_id=gate.festival_id,
            gate_id=gate.id,
            name=data.name,
            created_by=current_principal(request).id,
        )
        return access_schemas.DeviceCreated(
            device_id=str(device.id),
            festival_id=str(device.festival_id),
            gate_id=str(device.gate_id),
            name=device.name,
            token=token,
            authorization=f"Device {token}",
        )

    @get(
        operation_id="ListDevices",
        summary="Gate devices of a festival",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def list_devices(
        self,
        festival_id: FromPath[str],
        festivals: NamedDependency[FestivalService],
        devices: NamedDependency[DeviceService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[access_schemas.DeviceRead]:
        festival = await festivals.get(festival_id)
        rows, total = await devices.list(festival.id, limit=limit, offset=offset)
        return Page(items=[device_read(d) for d in rows], total=total, limit=limit, offset=offset)
