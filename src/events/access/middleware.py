"""Reads ``Authorization`` and puts the caller (or why not) in the scope; never refuses.

Public routes ignore it; guards turn a missing or bad credential into 401/403.
``Bearer`` tokens are verified without the database; ``Device`` tokens need one query.

The organisers' console (``/console``) signs staff in with a cookie instead: its token is
issued for the ``console`` audience, read only on ``/console`` paths and only when no
``Authorization`` header is sent, and gives the same ``Principal`` the guards check. The
JSON API never looks at it (and a console token is no bearer token: its audience differs).
"""

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from events.access import security
from events.access.models import Role
from events.access.principal import Principal
from events.access.services import resolve_device

CONSOLE_COOKIE = "console_session"
CONSOLE_AUDIENCE = "console"
CONSOLE_PATH = "/console"
CONSOLE_ROLES = frozenset({Role.ORGANISER, Role.OFFICIAL, Role.GATE})


def is_console_path(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def console_principal(token: str, *, key: str) -> Principal:
    """The staff member a console cookie names; ``InvalidToken``/``ValueError`` if none."""
    claims = security.decode_access_token(token, key=key, audience=CONSOLE_AUDIENCE)
    role = Role(claims.role)
    if role not in CONSOLE_ROLES:
        raise security.InvalidToken("token_invalid")
    return Principal(kind="user", id=claims.user_id, role=role)


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        scope["auth"] = None
        header = Headers.from_scope(scope).get("authorization")
        if header:
            scheme, _, credentials = header.partition(" ")
            credentials = credentials.strip()
            scheme = scheme.lower()
            state = scope["litestar_app"].state
            if scheme == "bearer" and credentials:
                try:
                    claims = security.decode_access_token(
                        credentials, key=state.settings.signing_key()
                    )
                    scope["user"] = Principal(
                        kind="user", id=claims.user_id, role=Role(claims.role)
                    )
                except (security.InvalidToken, ValueError) as exc:
                    scope["auth"] = getattr(exc, "reason", "token_invalid")
            elif scheme == "device" and credentials:
                principal = await resolve_device(state.db, credentials)
                if principal is None:
                    scope["auth"] = "device_unknown"
                else:
                    scope["user"] = principal
            else:
                scope["auth"] = "scheme_unsupported"
        elif is_console_path(scope["path"]):
            token = _cookie(scope, CONSOLE_COOKIE)
            if token:
                try:
                    scope["user"] = console_principal(
                        token, key=scope["litestar_app"].state.settings.signing_key()
                    )
                except (security.InvalidToken, ValueError) as exc:
                    scope["auth"] = getattr(exc, "reason", "token_invalid")
        await next_app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    header = Headers.from_scope(scope).get("cookie")
    if not header:
        return None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value or None
    return None
