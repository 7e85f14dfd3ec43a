"""What every wire type shares.

Request bodies are pydantic models so that a request with several bad fields names every
one of them; responses are msgspec structs, which encode fastest.
"""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored; text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
