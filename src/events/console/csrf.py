"""Litestar's CSRF protection for the console's forms, and only for them.

The JSON API authenticates with ``Authorization`` headers a browser never adds by itself,
so it needs no token; the console authenticates with a cookie, so every unsafe request
under ``/console`` must carry the token (the ``_csrf_token`` form field, or the
``X-CSRFToken`` header htmx sends). The middleware sits on the console's router, and its
secret is derived from the app's signing key, read at the first request.
"""

import hashlib
import hmac

from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from events.access.middleware import CONSOLE_PATH

CSRF_COOKIE = "console_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
"""The form field Litestar's middleware reads (``csrf_input`` writes it)."""


def csrf_config(signing_key: str, *, secure: bool) -> CSRFConfig:
    secret = hmac.new(signing_key.encode(), b"console-csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        cookie_path=CONSOLE_PATH,
        header_name=CSRF_HEADER,
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=secure,
    )


class ConsoleCSRFMiddleware:
    """``CSRFMiddleware`` with the app's own secret, ``Secure`` cookies over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: dict[tuple[str, bool], CSRFMiddleware] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        key = scope["litestar_app"].state.settings.signing_key()
        secure = scope.get("scheme") == "https"
        inner = self._inner.get((key, secure))
        if inner is None:
            inner = self._inner[(key, secure)] = CSRFMiddleware(
                self.app, csrf_config(key, secure=secure)
            )
        await inner(scope, receive, send)
