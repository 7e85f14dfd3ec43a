"""Browser-facing protections for every response: security headers and cross-site form posts.

- Every answer carries ``X-Content-Type-Options: nosniff``; HTML pages also a Content
  Security Policy (``frame-ancestors 'none'``: no page can be framed for clickjacking),
  ``X-Frame-Options: DENY`` and ``Referrer-Policy: same-origin``; over HTTPS (directly or
  behind a proxy that says so, uvicorn's ``proxy_headers``) ``Strict-Transport-Security``.
- A state-changing request to a page route (not ``/api/``: those authenticate with a
  bearer or device header a browser never adds on its own) that a browser marks as sent
  from another site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` that is not this
  host) is ``403 cross_site_request``: nobody can sign an owner in or out, or submit a
  form as them, from another site.
"""

from urllib.parse import urlsplit

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.types.asgi_types import HTTPResponseStartEvent

from events.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE

# Inline scripts remain in two ticket pages, hence 'unsafe-inline' for scripts; everything
# is loaded from this origin (the browser libraries are vendored under /static).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
    "media-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self' https://checkout.stripe.com"
)
HSTS = "max-age=31536000; includeSubDomains"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def is_cross_site(scope: Scope) -> bool:
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() == "cross-site"
    origin = _header(scope, b"origin")
    if origin is None:
        return False  # not a browser's cross-site form post (no Origin, no Fetch metadata)
    host = _header(scope, b"host") or ""
    return origin == "null" or urlsplit(origin).netloc.lower() != host.lower()


class WebSecurityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        method = scope.get("method", "GET")
        if method not in _SAFE_METHODS and not path.startswith("/api/") and is_cross_site(scope):
            await _refuse(path, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Content-Type-Options"] = "nosniff"
                if (headers.get("content-type") or "").startswith("text/html"):
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                    headers["X-Frame-Options"] = "DENY"
                    headers["Referrer-Policy"] = "same-origin"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await next_app(scope, receive, send_with_headers)


async def _refuse(path: str, send: Send) -> None:
    content = msgspec.json.encode(
        {
            "type": PROBLEM_TYPE_BASE + "cross_site_request",
            "title": "Forbidden",
            "status": 403,
            "detail": "This form can only be sent from this site's own pages.",
            "code": "cross_site_request",
            "instance": path,
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 403,
        "headers": [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(content)).encode()),
            (b"x-content-type-options", b"nosniff"),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": content, "more_body": False})
