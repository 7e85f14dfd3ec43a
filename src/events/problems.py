"""Every error leaves the app as RFC 9457 Problem Details with a stable ``code``.

No stack trace, SQL or driver message ever reaches a client; unexpected errors are
logged with their traceback and answered 500 ``internal_error``.
"""

import logging
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from events.errors import DomainError, Source, ValidationFailed
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
    source: Source = "body"


_SOURCES: dict[str, Source] = {
    "body": "body",
    "query": "query",
    "path": "path",
    "header": "header",
    "cookie": "header",
}


def error_source(raw: object) -> Source:
    """Litestar's ``ParamType.QUERY`` (or ``"query"``), as one of the four sources; a
    cookie is a header. Anything else, or nothing, is the body."""
    value = getattr(raw, "value", raw)
    return _SOURCES.get(str(value).lower(), "body") if value else "body"


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
            data_container=ProblemDetail,
            media_type=PROBLEM_JSON,
            generate_examples=False,
            description=" / ".join(sorted({f"{e.title} (`{e.code}`)" for e in group})),
        )
        for status, group in by_status.items()
    }


_EVERY_ROUTE: dict[int, str] = {
    400: "Bad request: the body or query cannot be read (`bad_request`, `malformed_json`, "
    "`invalid_encoding`, `json_too_deep`)",
    422: "Validation failed: every bad field named (`validation_failed`)",
}
_GUARDED: dict[int, str] = {
    401: "Not signed in, or the credentials are not valid (`unauthorized`, `token_expired`)",
    403: "Signed in without the right role or scope (`forbidden`)",
}
_WITH_BODY: dict[int, str] = {413: "Request body too large (`payload_too_large`)"}


def document_problems(app: Litestar) -> None:
    """Document the problems any route can answer with, in one place: 400 and 422 on every
    route (the edge checks every path, query and body), 401 and 403 where a guard decides
    or a credential is declared,
    413 where a body is read; always ``application/problem+json`` with ``ProblemDetail``.
    What a route documents itself (``error_responses``) stays; Litestar's own
    ``application/json`` 400 is replaced. Called by ``create_app``, so a new route gets it."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            generic = dict(_EVERY_ROUTE)
            if handler.resolve_guards() or handler.resolve_security():
                generic |= _GUARDED
            if "data" in handler.parsed_fn_signature.parameters:
                generic |= _WITH_BODY
            responses = dict(handler.responses or {})
            for status, description in generic.items():
                if status in responses and status != 400:
                    continue
                responses[status] = ResponseSpec(
                    data_container=ProblemDetail,
                    media_type=PROBLEM_JSON,
                    generate_examples=False,
                    description=description,
                )
            handler.responses = responses


def problem(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
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
    extra = dict(exc.extra)
    if isinstance(extra.get("errors"), list):  # every field names its source, one of four
        extra["errors"] = [
            {**e, "source": error_source(e.get("source"))}
            for e in extra["errors"]
            if isinstance(e, dict)
        ]
    return problem(
        request,
        status=exc.status_code,
        code=exc.instance_code,
        title=exc.title,
        detail=exc.detail,
        headers=headers or None,
        **extra,
    )


def validation_error_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """A well-formed request with wrong fields: ``422 validation_failed``, every bad field
    named (``meetings.0.days.1.date``)."""
    raw = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        {
            "field": str(item.get("key") or "body"),
            "message": str(item.get("message", "")),
            "source": error_source(item.get("source")),
        }
        for item in raw
        if isinstance(item, dict)
    ]
    if not errors:
        return problem(
            request,
            status=400,
            code="bad_request",
            title="Bad request",
            detail=exc.detail or "The request could not be read.",
        )
    fields = ", ".join(e["field"] for e in errors)
    return problem(
        request,
        status=422,
        code="validation_failed",
        title="Validation failed",
        detail=f"Invalid value for: {fields}",
        errors=errors,
    )


_MALFORMED = ("JSON is malformed", "Input data was truncated")
CLIENT_GONE = "client disconnected prematurely"
"""Litestar's words when the request body stream ends with ``http.disconnect``."""


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500 and exc.detail == CLIENT_GONE:
        # The client hung up while sending its body (a phone losing its network): nothing
        # is wrong here, and nobody is listening for the answer.
        logger.info("client disconnected during %s %s", request.method, request.url.path)
        return problem(
            request,
            status=499,
            code="client_closed_request",
            title="Client gone",
            detail="The client closed the connection before sending its request.",
        )
    if status >= 500:
        return internal_error_handler(request, exc)
    if (
        status == 400
        and isinstance(exc, ClientException)
        and str(exc.detail).startswith(_MALFORMED)
    ):
        return problem(
            request,
            status=400,
            code="malformed_json",
            title="Malformed body",
            detail="The request body is not valid JSON.",
        )
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


HtmlErrorPage = Callable[[Request[Any, Any, Any], int, str], Response[Any]]
_html_error_page: list[HtmlErrorPage] = []


def use_html_error_page(render: HtmlErrorPage) -> None:
    """The page a browser gets for a missing page (``events.web.pages.error_page``; the
    pages stand above this module, so ``create_app`` registers it)."""
    _html_error_page[:] = [render]


def html_error(request: Request[Any, Any, Any], status: int, code: str) -> Response[Any]:
    """The page a browser shows for a missing page, in the visitor's language (a problem
    when no page is registered)."""
    if not _html_error_page:
        return problem(request, status=status, code=code, title=code.replace("_", " "), detail="")
    return _html_error_page[0](request, status, code)


DATABASE_RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or has no connection free: nothing the client did."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            sa_exc.TimeoutError
            | ConnectionError
            | TimeoutError
            | asyncpg.CannotConnectNowError
            | asyncpg.TooManyConnectionsError
            | asyncpg.ConnectionDoesNotExistError
            | asyncpg.ConnectionFailureError,
        ):
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
        logger.warning(
            "database unavailable on %s %s (request %s): %s",
            request.method,
            request.url.path,
            request_id,
            type(exc).__name__,
        )
        return problem(
            request,
            status=503,
            code="database_unavailable",
            title="Service unavailable",
            detail="The database is not answering; try again shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
            request_id=request_id,
        )
    # The traceback is rendered here, without any statement's bound values (events.logsafe).
    logger.error(
        "unhandled error on %s %s (request %s)\n%s",
        request.method,
        request.url.path,
        request_id,
        safe_traceback(exc),
    )
    return problem(
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        code="internal_error",
        title="Internal server error",
        detail="Something went wrong on our side; it has been logged under "
        f"request id {request_id}.",
        request_id=request_id,
    )


exception_handlers: ExceptionHandlersMap = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}

__all__ = [
    "PROBLEM_JSON",
    "ProblemDetail",
    "document_problems",
    "error_responses",
    "exception_handlers",
    "problem",
]
