"""Reads ``Authorization`` and puts the caller (or why not) in the scope; never refuses.

Public routes ignore it; guards turn a missing or bad credential into 401/403.
``Bearer`` tokens are verified without the database; ``Device`` tokens need one query.
"""

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from events.access import security
from events.access.models import Role
from events.access.principal import Principal
from events.access.services import resolve_device


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
                        credentials, key=state.settings.signing_key())
                    scope["user"] = Principal(kind="user", id=claims.user_id,
                                              role=Role(claims.role))
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
        await next_app(scope, receive, send)
