"""Login, staff accounts and gate devices."""

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import schemas
from events.access.guards import (
    BEARER_SECURITY,
    DEVICE_SECURITY,
    current_principal,
    organiser_only,
    requires_device,
)
from events.access.models import Device, Role, User
from events.access.security import issue_access_token
from events.access.services import DeviceService, UserService
from events.access.throttle import TooManyAttempts
from events.config import Settings
from events.errors import Conflict, NotFound, Unauthorized
from events.pagination import Limit, Offset, Page
from events.problems import error_responses


def provide_user_service(db_session: NamedDependency[AsyncSession]) -> UserService:
    return UserService(db_session)


def provide_device_service(db_session: NamedDependency[AsyncSession]) -> DeviceService:
    return DeviceService(db_session)


def user_read(user: User) -> schemas.UserRead:
    return schemas.UserRead(
        id=str(user.id),
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def device_read(device: Device) -> schemas.DeviceRead:
    return schemas.DeviceRead(
        device_id=str(device.id),
        festival_id=str(device.festival_id),
        gate_id=str(device.gate_id),
        name=device.name,
        created_at=device.created_at,
        revoked_at=device.revoked_at,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["Access"]
    dependencies = {"users": Provide(provide_user_service, sync_to_thread=False)}

    @post(
        "/login",
        operation_id="Login",
        summary="Exchange a username and password for a token",
        status_code=200,
        responses=error_responses(Unauthorized, TooManyAttempts),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.LoginRequest],
        users: NamedDependency[UserService],
        settings: NamedDependency[Settings],
    ) -> schemas.TokenResponse:
        """Failed attempts are throttled per account and per address (429 with
        ``Retry-After``); the wait is capped, so the owner is never locked out for good."""
        user = await users.authenticate(
            data.username,
            data.password,
            throttle=request.app.state.login_throttle,
            address=request.client.host if request.client else None,
        )
        token, expires_at = issue_access_token(
            user_id=user.id,
            role=user.role,
            key=settings.signing_key(),
            ttl_seconds=settings.token_ttl_seconds,
        )
        return schemas.TokenResponse(
            access_token=token, role=user.role, expires_at=expires_at, user_id=str(user.id)
        )

    @get(
        "/me",
        operation_id="WhoAmI",
        summary="The signed-in user",
        security=BEARER_SECURITY,
        responses=error_responses(Unauthorized),
    )
    async def me(
        self, request: Request[Any, Any, Any], users: NamedDependency[UserService]
    ) -> schemas.UserRead:
        principal = current_principal(request)
        if principal.is_device:
            raise Unauthorized("A device token does not sign a person in.")
        user = await users.session.get(User, principal.id)
        if user is None:
            raise Unauthorized("This account no longer exists.")
        return user_read(user)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["Access"]
    guards = [organiser_only]
    security = BEARER_SECURITY
    dependencies = {"users": Provide(provide_user_service, sync_to_thread=False)}

    @post(
        operation_id="CreateUser",
        summary="Create a staff or owner account",
        responses=error_responses(Conflict),
    )
    async def create_user(
        self, data: JSONBody[schemas.UserCreate], users: NamedDependency[UserService]
    ) -> schemas.UserRead:
        user = await users.create(
            username=data.username,
            password=data.password,
            role=data.role,
            display_name=data.display_name,
        )
        return user_read(user)

    @get(operation_id="ListUsers", summary="List accounts")
    async def list_users(
        self,
        users: NamedDependency[UserService],
        limit: Limit = 50,
        offset: Offset = 0,
        role: Annotated[Role | None, QueryParameter(description="Only this role")] = None,
    ) -> Page[schemas.UserRead]:
        rows, total = await users.list(limit=limit, offset=offset, role=role)
        return Page(items=[user_read(u) for u in rows], total=total, limit=limit, offset=offset)


class DeviceController(Controller):
    tags = ["Access"]
    dependencies = {"devices": Provide(provide_device_service, sync_to_thread=False)}

    @post(
        "/api/v1/devices/{device_id:str}/revoke",
        operation_id="RevokeDevice",
        summary="Revoke a device token at once",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def revoke_device(
        self, device_id: FromPath[str], devices: NamedDependency[DeviceService]
    ) -> schemas.DeviceRead:
        return device_read(await devices.revoke(device_id))

    @get(
        "/api/v1/devices/me",
        operation_id="WhoAmIDevice",
        summary="The calling device: its festival and gate",
        guards=[requires_device],
        security=DEVICE_SECURITY,
    )
    async def device_me(
        self, request: Request[Any, Any, Any], devices: NamedDependency[DeviceService]
    ) -> schemas.DeviceRead:
        return device_read(await devices.get(str(current_principal(request).id)))
