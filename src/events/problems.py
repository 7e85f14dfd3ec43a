"""Every error leaves the app as RFC 9457 Problem Details with a stable ``code``.

No stack trace, SQL or driver message ever reaches a client; unexpected errors are
logged with their traceback and answered 500 ``internal_error``.
"""

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from events.errors import DomainError, ValidationFailed
from events.logsafe import current_request_id, safe_traceback

logger = logging.getLogger("events.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:events:problem:"

_CODES_BY_STATUS = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "Validation failed"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}


class FieldProblem(msgspec.Struct):
    field: str
    message: str
    source: str = "body"


class ProblemDetail(msgspec.Struct):
    """RFC 9457 Problem Details, plus the stable ``code`` clients switch on."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    errors: list[FieldProblem] | None = None


def error_responses(*errors: type[DomainError]) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses=`` for the domain errors a route may answer with."""
    by_status: dict[int, list[type[DomainError]]] = {}
    error: type[DomainError]
    for error in (*errors, ValidationFailed):
        by_status.setdefault(error.status_code, []).append(error)
    return {
        status: ResponseSpec(
            data_container=ProblemDetail, media_type=PROBLEM_JSON, generate_examples=False,
            description=" / ".join(sorted({f"{e.title} (`{e.code}`)" for e in group})))
        for status, group in by_status.items()
    }


def problem(request: Request[Any, Any, Any], *, status: int, code: str, title: str,
            detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = dict(getattr(exc, "headers", None) or {})
    if "retry_after" in exc.extra:  # seconds, in the body and as the standard header
        headers.setdefault("Retry-After", str(exc.extra["retry_after"]))
    return problem(request, status=exc.status_code, code=exc.instance_code, title=exc.title,
                   detail=exc.detail, headers=headers or None, **exc.extra)


def validation_error_handler(request: Request[Any, Any, Any],
                             exc: ValidationException) -> Response[Any]:
    """A well-formed request with wrong fields: ``422 validation_failed``, every bad field
    named (``meetings.0.days.1.date``)."""
    raw = exc.extra if isinstance(exc.extra, list) else []
    errors = [{"field": str(item.get("key") or "body"), "message": str(item.get("message", "")),
               "source": str(item.get("source") or "body")}
              for item in raw if isinstance(item, dict)]
    if not errors:
        return problem(request, status=400, code="bad_request", title="Bad request",
                       detail=exc.detail or "The request could not be read.")
    fields = ", ".join(e["field"] for e in errors)
    return problem(request, status=422, code="validation_failed", title="Validation failed",
                   detail=f"Invalid value for: {fields}", errors=errors)


_MALFORMED = ("JSON is malformed", "Input data was truncated")
CLIENT_GONE = "client disconnected prematurely"
"""Litestar's words when the request body stream ends with ``http.disconnect``."""


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500 and exc.detail == CLIENT_GONE:
        # The client hung up while sending its body (a phone losing its network): nothing
        # is wrong here, and nobody is listening for the answer.
        logger.info("client disconnected during %s %s", request.method, request.url.path)
        return problem(request, status=499, code="client_closed_request", title="Client gone",
                       detail="The client closed the connection before sending its request.")
    if status >= 500:
        return internal_error_handler(request, exc)
    if status == 400 and isinstance(exc, ClientException) and str(exc.detail).startswith(
            _MALFORMED):
        return problem(request, status=400, code="malformed_json", title="Malformed body",
                       detail="The request body is not valid JSON.")
    code, title = _CODES_BY_STATUS.get(status, ("error", "Error"))
    if status in (404, 405) and wants_html(request):
        return html_error(request, status, code)
    detail = exc.detail if exc.detail and exc.detail != title else title
    return problem(request, status=status, code=code, title=title, detail=detail)


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (not an API client): ``Accept`` names HTML before JSON,
    outside ``/api``."""
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "").lower()
    html = accept.find("text/html")
    json_at = accept.find("json")
    return html >= 0 and (json_at < 0 or html < json_at)


def html_error(request: Request[Any, Any, Any], status: int, code: str) -> Response[Any]:
    """The page a browser shows for a missing page, in the visitor's language."""
    from events.web.pages import page  # the pages import this module's neighbours

    response = page(request, "error.html", code=code)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


DATABASE_RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or has no connection free: nothing the client did."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError | ConnectionError | TimeoutError
                      | asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError
                      | asyncpg.ConnectionDoesNotExistError | asyncpg.ConnectionFailureError):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OSError) and current.errno is not None:
            return True  # connect() refused, unreachable host, DNS failure
        current = current.__cause__ or current.__context__
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = current_request_id(request.scope)
    if is_database_unavailable(exc):
        logger.warning("database unavailable on %s %s (request %s): %s", request.method,
                       request.url.path, request_id, type(exc).__name__)
        return problem(request, status=503, code="database_unavailable",
                       title="Service unavailable",
                       detail="The database is not answering; try again shortly.",
                       headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
                       request_id=request_id)
    # The traceback is rendered here, without any statement's bound values (events.logsafe).
    logger.error("unhandled error on %s %s (request %s)\n%s", request.method,
                 request.url.path, request_id, safe_traceback(exc))
    return problem(request, status=HTTP_500_INTERNAL_SERVER_ERROR, code="internal_error",
                   title="Internal server error",
                   detail="Something went wrong on our side; it has been logged under "
                          f"request id {request_id}.", request_id=request_id)


exception_handlers: ExceptionHandlersMap = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}

__all__ = ["PROBLEM_JSON", "ProblemDetail", "error_responses", "exception_handlers", "problem"]
