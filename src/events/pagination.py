"""Limit/offset paging shared by list routes."""

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=500, description="Page size (1-500)")]
MAX_OFFSET = 1_000_000_000
"""Bounded so that no client-sent number overflows a database integer (a 422, not a 500)."""

Offset = Annotated[int, QueryParameter(name="offset", ge=0, le=MAX_OFFSET,
                                       description="Rows to skip")]
