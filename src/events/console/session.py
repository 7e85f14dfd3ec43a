"""The console's sign-in cookie: a signed token for the ``console`` audience.

``HttpOnly`` (no script reads it), ``SameSite=Lax`` (other sites cannot post with it),
``Secure`` when the request came over HTTPS (directly or through a proxy that says so),
and sent by the browser only to ``/console`` paths. ``events.access.middleware`` turns it
into the request's ``Principal`` on those paths only.
"""

from typing import Any

from litestar import Request, Response

from events.access import security
from events.access.middleware import CONSOLE_AUDIENCE, CONSOLE_COOKIE, CONSOLE_PATH
from events.access.models import User
from events.config import Settings


def is_https(request: Request[Any, Any, Any], settings: Settings) -> bool:
    return request.url.scheme == "https" or (settings.public_base_url or "").startswith("https://")


def sign_in(
    response: Response[Any], request: Request[Any, Any, Any], user: User, settings: Settings
) -> Response[Any]:
    token, _ = security.issue_access_token(
        user_id=user.id,
        role=user.role,
        key=settings.signing_key(),
        ttl_seconds=settings.token_ttl_seconds,
        audience=CONSOLE_AUDIENCE,
    )
    response.set_cookie(
        CONSOLE_COOKIE,
        token,
        max_age=settings.token_ttl_seconds,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )
    return response


def sign_out(response: Response[Any]) -> Response[Any]:
    response.delete_cookie(CONSOLE_COOKIE, path=CONSOLE_PATH)
    return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if (
        target
        and (target == CONSOLE_PATH or target.startswith(CONSOLE_PATH + "/"))
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return CONSOLE_PATH
