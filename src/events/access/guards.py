"""Guards: who may call a route. Authentication happens in the middleware; these decide.

Guards are ``async``: Litestar runs a plain function guard in a worker thread, a thread hop
on every guarded request (py-spy showed it on the scan path).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from events.access.models import Role
from events.access.principal import Principal
from events.errors import Forbidden, Unauthorized

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

BEARER_SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
DEVICE_SECURITY: list[dict[str, list[str]]] = [{"DeviceToken": []}]


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller, or 401 with the reason the credentials were refused."""
    principal = connection.scope.get("user")
    if isinstance(principal, Principal):
        return principal
    failure = connection.scope.get("auth")
    if failure == "token_expired":
        raise Unauthorized("Your sign-in has expired; please log in again.", code="token_expired")
    if failure is not None:
        raise Unauthorized("The credentials sent are not valid.", code="unauthorized")
    raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")


def requires_role(*roles: Role) -> Guard:
    """Only signed-in users holding one of ``roles``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if principal.is_device or principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(f"This needs the {allowed} role.")

    guard.__name__ = f"requires_{'_or_'.join(r.value for r in roles)}"
    return guard


async def requires_device(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Only a gate device (``Authorization: Device <token>``). A person's login token (a
    ``gate`` account's too) is told what to use instead."""
    principal = current_principal(connection)
    if not principal.is_device:
        raise Forbidden(
            "Scanning needs a gate device token ('Authorization: Device <token>'), not a "
            "login token: an organiser registers the phone as a gate device and gives it its "
            "scanner link (/scan#token=...); open that link on the phone.",
            code="device_token_required",
        )


organiser_only = requires_role(Role.ORGANISER)
