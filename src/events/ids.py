"""Ids from the outside: a path's id that is malformed is not found; a body's is a bad field.

Ids are opaque UUIDs. In a path (``/api/v1/races/{race_id}``) a malformed id names nothing
that exists, so it is ``404`` like an unknown one. In a request body it is the client's
mistake in that field: ``422`` naming it, like any other bad value.
"""

import uuid
from collections.abc import Sequence

from events.errors import FieldError, NotFound, ValidationFailed


def parse_id(value: str | uuid.UUID, what: str, *, code: str | None = None) -> uuid.UUID:
    """An id from a URL; ``what`` names it in the 404 (``"No race with id 'x'."``)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise NotFound(f"No {what} with id {value!r}.", code=code) from None


def field_id(value: str, field: str, message: str, *, code: str | None = None) -> uuid.UUID:
    """An id in a request body: a malformed one is ``422`` naming ``field``."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed([FieldError(field, message)], code=code) from None


def field_ids(values: Sequence[str], field: str, message: str) -> list[uuid.UUID]:
    """Ids in a body list: every malformed one named (``gate_ids.2``)."""
    errors, ids = [], []
    for i, value in enumerate(values):
        try:
            ids.append(uuid.UUID(value))
        except (ValueError, AttributeError, TypeError):
            errors.append(FieldError(f"{field}.{i}", message.format(value=value)))
    if errors:
        raise ValidationFailed(errors)
    return ids
