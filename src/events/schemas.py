"""What every wire type shares.

Request bodies are pydantic models so that a request with several bad fields names every
one of them; responses are msgspec structs, which encode fastest.
"""

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
"""Every date and time a request carries lies between these: a year 9999 with a -14:00
offset does not fit in UTC, and a festival day in year 1 overflows every time sum."""


def _bounded(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is None else value.astimezone(dt.UTC)
        if not EARLIEST <= moment.date() <= LATEST:
            raise ValueError(f"a time between {EARLIEST.year} and {LATEST.year}")
    elif isinstance(value, dt.date):
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"a date between {EARLIEST} and {LATEST}")
    elif isinstance(value, list | tuple | set):
        for item in value:
            _bounded(item)
    return value


def check_time(value: dt.datetime | None) -> None:
    """For msgspec request structs (``__post_init__``): refuse a time out of range."""
    if value is not None:
        try:
            _bounded(value)
        except OverflowError as exc:
            raise ValueError(f"a time between {EARLIEST.year} and {LATEST.year}") from exc


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored; text is trimmed; dates and
    times lie between ``EARLIEST`` and ``LATEST``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="wrap")
    @classmethod
    def _dates_in_range(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        try:
            checked = handler(value)
            if not _has_own_validator(cls, info.field_name):  # its own words win ("future")
                _bounded(checked)
            return checked
        except OverflowError as exc:  # converting the given offset to UTC overflowed
            raise ValueError(f"a time between {EARLIEST.year} and {LATEST.year}") from exc


def _has_own_validator(model: type[BaseModel], field: str | None) -> bool:
    return any(
        field in decorator.info.fields and decorator.info.fields != ("*",)
        for decorator in model.__pydantic_decorators__.field_validators.values()
    )


# A real address: a local part of letters, digits and ``. _ % + -`` starting with a letter,
# digit or underscore (so never ``=HYPERLINK(...)``), and a domain of LDH labels whose last
# one is a top-level domain.
_EMAIL = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_%+-]|\.(?!\.))*(?<!\.)"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


def is_email(value: str) -> bool:
    local, _, _ = value.partition("@")
    return len(value) <= 254 and len(local) <= 64 and _EMAIL.fullmatch(value) is not None


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("not an e-mail address (name@example.com)")
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}"


Email = Annotated[
    str, Field(max_length=254, examples=["buyer@example.com"]), AfterValidator(_email)
]
"""An e-mail address that can receive mail; the domain is lower-cased."""
