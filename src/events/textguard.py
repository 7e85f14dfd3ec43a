"""Text no database can store is refused at the edge, for every route, in one place.

PostgreSQL text cannot hold NUL, and neither database driver can encode a lone UTF-16
surrogate (``"\\ud800"`` in JSON) or read bytes that are not UTF-8. Such input used to
reach a statement and come back as a 500. This middleware looks at the path, the query
string and JSON or form bodies before any handler runs:

- bytes that are not UTF-8 (a raw ``\\xff`` in a JSON body, ``%FF`` in a query) are
  ``400 invalid_encoding``;
- a NUL or a lone surrogate anywhere in a string is ``422 validation_failed`` naming the
  field (``meetings.0.name_zh``, ``query.q``).

Bodies are scanned as bytes first; only a body that holds a ``\\u0000`` or a surrogate
escape is decoded to find the field, so the scan path pays one pass over a few hundred
bytes. Uploads (``multipart/form-data``) are files, checked by their own readers.
"""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from litestar.types.asgi_types import HTTPResponseStartEvent

from events.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE

# A JSON escape that may decode to NUL or a surrogate half (decoded to be sure).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 32
"""Deeper JSON is refused before it is parsed (1,000 levels overflowed the decoder)."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")
NUL_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."


def _json_type(content_type: str) -> bool:
    return content_type.startswith("application/json") or (
        content_type.startswith("application/") and "+json" in content_type.split(";")[0]
    )


def bad_strings(value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths of every string (key or value) in ``value`` that cannot be stored."""
    if isinstance(value, str):
        if _BAD_CHAR.search(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _BAD_CHAR.search(key):
                yield path or "body"
            else:
                yield from bad_strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bad_strings(item, f"{path}.{index}" if path else str(index))


Field = tuple[str, str]
"""(field name, where: ``body``, ``query`` or ``path``)."""


def _form_problems(raw: bytes, source: str) -> tuple[str | None, list[Field]]:
    """(an encoding problem, bad fields) of an ``a=b&c=d`` string."""
    bad: list[Field] = []
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name_raw, _, value_raw = pair.partition(b"=")
        name_bytes = unquote_to_bytes(name_raw.replace(b"+", b" "))
        value_bytes = unquote_to_bytes(value_raw.replace(b"+", b" "))
        try:
            name = name_bytes.decode()
            value = value_bytes.decode()
        except UnicodeDecodeError:
            return f"The {source} is not valid UTF-8.", []
        if _BAD_CHAR.search(name) or _BAD_CHAR.search(value):
            bad.append((_BAD_CHAR.sub("", name) or source, source))
    return None, bad


class TextGuardMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        raw_path = scope.get("raw_path") or b""
        if _BAD_CHAR.search(path) or b"%00" in raw_path:
            await _refuse(scope, send, 422, [("path", "path")])
            return
        try:
            unquote_to_bytes(raw_path).decode()
        except UnicodeDecodeError:
            await _refuse(scope, send, 400, [], "The path is not valid UTF-8.")
            return
        query = scope.get("query_string") or b""
        if query:
            encoding, bad = _form_problems(query, "query")
            if encoding or bad:
                await _refuse(scope, send, 400 if encoding else 422, bad, encoding)
                return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await next_app(scope, receive, send)
            return
        content_type = (
            next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            .decode("latin-1")
            .lower()
        )
        is_json = _json_type(content_type)
        is_form = content_type.startswith("application/x-www-form-urlencoded")
        if not (is_json or is_form):
            await next_app(scope, receive, send)
            return
        messages: list[ReceiveMessage] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False) or len(body) > self.max_body_bytes:
                break
        complete = messages[-1]["type"] == "http.request" and not messages[-1].get(
            "more_body", False
        )
        if complete:
            refusal = _check_body(bytes(body), is_json)
            if refusal is not None:
                status, fields, detail = refusal
                await _refuse(scope, send, status, fields, detail)
                return

        async def replay() -> ReceiveMessage:
            if messages:
                return messages.pop(0)
            return await receive()

        await next_app(scope, replay, send)


def _check_body(body: bytes, is_json: bool) -> tuple[int, list[Field], str | None] | None:
    if is_json:
        try:
            body.decode()
        except UnicodeDecodeError:
            return 400, [], "The body is not valid UTF-8."
        if b"\x00" in body:
            return 400, [], "The body holds a raw NUL byte."
        if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(body):
            return 400, [], f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
        if not _SUSPECT_ESCAPE.search(body):
            return None
        try:
            document = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None  # malformed JSON: the body parser answers 400 malformed_json
        fields = [(f, "body") for f in dict.fromkeys(bad_strings(document))]
        return (422, fields, None) if fields else None
    encoding, bad = _form_problems(body, "body")
    if encoding:
        return 400, [], encoding
    return (422, bad, None) if bad else None


def _too_deep(body: bytes) -> bool:
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


async def _refuse(
    scope: Scope, send: Send, status: int, fields: list[Field], detail: str | None = None
) -> None:
    if status == 400 and detail is not None and detail.startswith("JSON nested"):
        code, title = "json_too_deep", "Bad request"
        extra: dict[str, Any] = {}
    elif status == 400:
        code, title = "invalid_encoding", "Bad request"
        detail = detail or "The request is not valid UTF-8."
        extra = {}
    else:
        code, title = "validation_failed", "Validation failed"
        detail = f"Invalid value for: {', '.join(f for f, _ in fields)}"
        extra = {
            "errors": [
                {"field": f, "message": NUL_MESSAGE, "source": source} for f, source in fields
            ]
        }
    content = msgspec.json.encode(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "instance": _BAD_CHAR.sub("", scope["path"]),
            **extra,
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(content)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": content, "more_body": False})
