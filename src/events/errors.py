"""Domain errors: each carries a stable machine-readable ``code`` and its HTTP status.

They are mapped once, in ``events.problems``, to RFC 9457 Problem Details. Services raise
these; handlers never build error responses themselves.
"""

from typing import Any, ClassVar, Literal

Source = Literal["body", "query", "path", "header"]
"""Where a bad value came from: the request body, the query string, the path or a header."""


class DomainError(Exception):
    """A refusal the client can understand and act on."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_code = code or self.code
        self.extra = extra


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    title = "Not authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class FieldError(dict[str, str]):
    """One bad field: ``{"field": "name_en", "message": "...", "source": "body"}``."""

    def __init__(self, field: str, message: str, source: Source = "body") -> None:
        super().__init__(field=field, message=message, source=source)


class ValidationFailed(DomainError):
    """The request was well-formed but some fields are wrong; each one is named."""

    status_code = 422
    code = "validation_failed"
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str | None = None, **extra: Any) -> None:
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(detail or f"Invalid value for: {fields}", errors=errors, **extra)
        self.errors = errors


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"
    title = "Service unavailable"
