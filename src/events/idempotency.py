"""Retries that change nothing: the ``Idempotency-Key`` header and request fingerprints.

A POST that creates money or tickets takes an ``Idempotency-Key``. The service stores the
key with a fingerprint of what was asked: the same key with the same fingerprint answers
the first answer again; the same key with another fingerprint is ``409``.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from litestar.params import HeaderParameter

from events.errors import Conflict

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        required=False,
        description="A random value (a UUID, say): retrying with the same key and the same "
        "request returns the first answer and changes nothing; the same key with "
        "another request is refused (409)",
    ),
]


def fingerprint(asked: Mapping[str, Any]) -> str:
    """A stable digest of what was asked (keys sorted; ids, dates and decimals as text)."""
    canonical = json.dumps(asked, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_request(stored: str, asked: str, what: str) -> None:
    """A key seen before must come with the same request: else ``409
    idempotency_key_reused`` (``what`` names the thing the key made: "entry", "order")."""
    if stored != asked:
        raise Conflict(
            f"This Idempotency-Key was already used for a different {what}.",
            code="idempotency_key_reused",
        )
