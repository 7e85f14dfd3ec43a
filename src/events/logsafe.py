"""Logs that never carry a statement's bound parameters, and a request id to find them by.

A database error's text names its parameters (SQLAlchemy's ``[parameters: ...]``, asyncpg's
``invalid input for query argument $1: 'value'``, PostgreSQL's ``DETAIL: Key (x)=(value)``):
password hashes, mobile numbers, token hashes. Engines are built with
``hide_parameters=True``; on top of that every traceback written through the app's log
handlers is rendered by ``safe_traceback``, which keeps the frames, the SQL text, the
SQLSTATE and the constraint of a database error but replaces every quoted value with
``'…'``. Each request gets an id (``X-Request-ID``), put on its log lines and on a 500's
problem body, so an operator can find the line a user reports.
"""

import logging
import re
import secrets
import time
import traceback
from contextvars import ContextVar
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
request_id_var: ContextVar[str] = ContextVar("events_request_id", default="-")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^()]*\)=\([^()]*\)")
_ARGUMENT = re.compile(r"(query argument \$\d+:).*?(\s\([^()]*\))?$", re.DOTALL)
_DB_MODULES = ("asyncpg", "sqlalchemy", "sqlite3", "aiosqlite", "psycopg")


def current_request_id(scope: Any = None) -> str:
    """This request's id (from ``scope`` too: an error raised in a middleware is handled
    after the id's context has been left)."""
    if scope is not None and scope.get("events_request_id"):
        return str(scope["events_request_id"])
    return request_id_var.get()


def is_database_error(exc: BaseException) -> bool:
    return any(k.__module__.startswith(_DB_MODULES) for k in type(exc).__mro__)


def redact(text: str) -> str:
    """``text`` with every quoted value (and every ``(key)=(value)`` pair, and asyncpg's
    ``query argument $n: <value> (why)``) replaced."""
    return _QUOTED.sub("'…'", _ARGUMENT.sub(lambda m: f"{m[1]} '…'{m[2] or ''}", text))


def _safe_message(exc: BaseException) -> str:
    if not is_database_error(exc):
        return str(exc)
    parts: list[str] = []
    for name in ("sqlstate", "constraint_name", "table_name", "column_name"):
        value = getattr(exc, name, None)
        if value:
            parts.append(f"{name}={value}")
    message = getattr(exc, "message", None)
    first = str(message if isinstance(message, str) else (exc.args[0] if exc.args else ""))
    first = first.split("\n[SQL:", 1)[0].split("\nDETAIL:", 1)[0]
    parts.append(redact(first.strip()))
    statement = getattr(exc, "statement", None)
    if isinstance(statement, str):
        parts.append(f"[SQL: {statement}]")
    return " ".join(p for p in parts if p)


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes, database messages without their values."""
    # (exception, how it relates to the one raised after it), outermost first.
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            link = "The above exception was the direct cause of the following exception:"
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link = "During handling of the above exception, another exception occurred:"
            current = current.__context__
        else:
            current = None
    lines: list[str] = []
    for error, relation in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(error.__traceback__))
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        lines.append(f"{kind}: {_safe_message(error)}\n")
        if relation:
            lines.append(f"\n{relation}\n\n")
    return "".join(lines).rstrip("\n")


class SafeFormatter(logging.Formatter):
    """The app's log format: request id on each line, tracebacks by ``safe_traceback``,
    and any exception passed as a log argument reduced the same way."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if isinstance(record.args, tuple) and any(
            isinstance(a, BaseException) for a in record.args
        ):
            record.args = tuple(
                _safe_message(a) if isinstance(a, BaseException) else a for a in record.args
            )
        return super().format(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        exc = ei[1] if isinstance(ei, tuple) else None
        if isinstance(exc, BaseException):
            return safe_traceback(exc)
        return super().formatException(ei)


LOG_FORMAT = "%(levelname)s - %(asctime)s - %(name)s - [%(request_id)s] - %(message)s"
LOG_FORMATTERS = {"standard": {"()": SafeFormatter, "format": LOG_FORMAT}}


access_log = logging.getLogger("events.access")


class RequestIdMiddleware(ASGIMiddleware):
    """Give each request an id: the client's ``X-Request-ID`` when it looks like one,
    else a fresh one; echoed in the response's ``X-Request-ID``.

    With ``log_requests`` each request leaves one line on ``events.access``: method, path,
    status and time (``GET /api/v1/festivals 200 3.1 ms``). The path only: never the query
    string (order access tokens travel there) and no header."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, *, log_requests: bool = False) -> None:
        self.log_requests = log_requests

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        given = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER.encode()), b"")
        text = given.decode("latin-1")
        request_id = text if _CLIENT_ID.fullmatch(text) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        scope["events_request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        started = time.perf_counter()
        status = 500  # what the server answers when nothing was sent

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            if self.log_requests:
                access_log.info(
                    "%s %s %d %.1f ms",
                    scope.get("method", "-"),
                    _printable(scope.get("path", "")),
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            request_id_var.reset(token)


def _printable(path: str) -> str:
    """The path as a log line may hold it: no control characters, bounded."""
    return "".join(c if c.isprintable() else "?" for c in path[:300])
