"""What every wire type shares.

Request bodies are pydantic models so that a request with several bad fields names every
one of them; responses are msgspec structs, which encode fastest.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored; text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# A real address: a local part of letters, digits and ``. _ % + -`` starting with a letter,
# digit or underscore (so never ``=HYPERLINK(...)``), and a domain of LDH labels whose last
# one is a top-level domain.
_EMAIL = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_%+-]|\.(?!\.))*(?<!\.)"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")


def is_email(value: str) -> bool:
    local, _, _ = value.partition("@")
    return len(value) <= 254 and len(local) <= 64 and _EMAIL.fullmatch(value) is not None


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("not an e-mail address (name@example.com)")
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}"


Email = Annotated[str, Field(max_length=254, examples=["buyer@example.com"]),
                  AfterValidator(_email)]
"""An e-mail address that can receive mail; the domain is lower-cased."""
