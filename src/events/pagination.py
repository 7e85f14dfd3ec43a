"""Limit/offset paging shared by list routes, and the one shape of a list response."""

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=500, description="Page size (1-500)")]
MAX_OFFSET = 1_000_000_000
"""Bounded so that no client-sent number overflows a database integer (a 422, not a 500)."""

Offset = Annotated[
    int, QueryParameter(name="offset", ge=0, le=MAX_OFFSET, description="Rows to skip")
]

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """Every list route answers ``{items, total, limit, offset}``: ``Page[FestivalSummary]``.

    ``total`` counts every row that matches, not only this page's."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(rows: Sequence[T], limit: int, offset: int) -> Page[T]:
    """A page of a short list read whole (a festival's races, its enclosures)."""
    return Page(
        items=list(rows[offset : offset + limit]), total=len(rows), limit=limit, offset=offset
    )
