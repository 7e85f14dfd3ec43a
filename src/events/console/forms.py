"""Console forms: what was typed, the problem next to each field, and stale forms refused.

A page handler reads the posted fields (``Form``), builds the same ``Input`` the API route
takes, and calls the same service. When that raises, ``FormState.failed`` keeps what was
typed and maps the problem onto the fields: pydantic's errors and
``events.errors.ValidationFailed``'s ``errors[]`` by their dotted ``field``, anything
else (a ``Conflict``, a ``NotFound``) onto the whole form (``"_"``). The handler rolls the
request's transaction back and shows the form again: nothing is saved.

A form that edits an existing row carries the row's ``updated_at`` as a hidden
``version`` field; ``check_version`` refuses the save (``409 stale_form``) when the row
changed since the form was drawn, so nobody overwrites someone else's change unseen.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from litestar.enums import RequestEncodingType
from litestar.params import Body
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from events.errors import Conflict, DomainError, ValidationFailed

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A posted console form, field name → value (the CSRF token is among them)."""

WHOLE_FORM = "_"
SECRET_FIELDS = frozenset({"password", "_csrf_token"})
"""Never written back into a form shown again."""

InputT = TypeVar("InputT", bound=BaseModel)


class StaleForm(Conflict):
    """The row changed after the form was drawn."""


@dataclass
class FormState:
    """The values a form shows and the problem each field has (``"_"``: the whole form)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    """The problem's stable code (``validation_failed``, ``stale_form``, ...)."""

    @classmethod
    def of(cls, data: dict[str, str] | None = None, **values: Any) -> "FormState":
        typed = {k: v for k, v in (data or {}).items() if k not in SECRET_FIELDS}
        return cls(values={**values, **typed})

    @classmethod
    def failed(
        cls, data: dict[str, str], exc: Exception, fields: dict[str, str] | None = None
    ) -> "FormState":
        """The form again, with ``exc``'s problems next to their fields. ``fields`` renames
        an ``Input``'s dotted field to the form's field name where they differ."""
        state = cls.of(data)
        rename = fields or {}
        for name, message in field_errors(exc).items():
            state.errors[rename.get(name, name)] = message
        state.code = exc.instance_code if isinstance(exc, DomainError) else ValidationFailed.code
        return state

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def ok(self) -> bool:
        return not self.errors


def field_errors(exc: Exception) -> dict[str, str]:
    """Dotted field → message, the same names the API's problem ``errors[]`` carries."""
    if isinstance(exc, PydanticValidationError):
        found: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or WHOLE_FORM
            found.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
        return found
    if isinstance(exc, ValidationFailed):
        return {e["field"]: e["message"] for e in exc.errors}
    if isinstance(exc, DomainError):
        return {WHOLE_FORM: exc.detail}
    raise exc


def parse(model: type[InputT], values: dict[str, Any]) -> InputT:
    """``model`` from form values (blank optional fields are ``None``); raises pydantic's
    ``ValidationError`` naming each bad field."""
    return model.model_validate(values)


def blank_to_none(data: dict[str, str], *names: str) -> dict[str, Any]:
    """The form's fields, stripped, with the named ones ``None`` when left empty."""
    out: dict[str, Any] = {k: v.strip() for k, v in data.items() if k not in SECRET_FIELDS}
    for name in names:
        if not out.get(name):
            out[name] = None
    return out


def version_of(updated_at: datetime) -> str:
    """The hidden ``version`` a form carries for the row it edits."""
    return updated_at.isoformat()


def check_version(submitted: str | None, updated_at: datetime) -> None:
    """Refuse the save when the row changed since the form was drawn."""
    if not submitted or submitted != version_of(updated_at):
        raise StaleForm(
            "Someone changed this while you were editing it; nothing was saved. "
            "Reload to see the current values.",
            code="stale_form",
        )
