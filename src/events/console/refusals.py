"""How the console answers a refusal: a page, not a JSON problem.

- not signed in (or the cookie expired): to the sign-in page, back here afterwards;
- signed in without the role, or a form without its CSRF token: ``403`` and a page that
  says which (``data-code`` holds the problem's stable code);
- any other domain error (an unknown festival, a conflict): its status and detail;
- a malformed form or query (Litestar's validation): ``422`` and a page.
"""

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from events.console.layout import console_page
from events.errors import DomainError, Forbidden, Unauthorized

LOGIN = "/console/login"


def to_login(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    target = request.url.path if request.method == "GET" else "/console"
    url = f"{LOGIN}?next={quote(target, safe='/')}"
    if request.headers.get("hx-request") == "true":  # htmx: move the whole page
        return Response(content=b"", status_code=204, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def refused(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, PermissionDeniedException):  # Litestar's CSRF middleware
        code, status, detail = "csrf_failed", 403, ""
    elif isinstance(exc, ValidationException):  # a malformed form or query
        code, status, detail = "validation_failed", 422, ""
    elif isinstance(exc, DomainError):
        code, status, detail = exc.instance_code, exc.status_code, exc.detail
    else:  # pragma: no cover - only the types registered below arrive here
        raise exc
    return console_page(request, "refused.html", status=status, code=code, detail=detail)


CONSOLE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Unauthorized: to_login,
    NotAuthorizedException: to_login,
    Forbidden: refused,
    PermissionDeniedException: refused,
    ValidationException: refused,
    DomainError: refused,
}
