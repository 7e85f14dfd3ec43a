"""Limit/offset paging shared by list routes."""

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=500, description="Page size (1-500)")]
Offset = Annotated[int, QueryParameter(name="offset", ge=0, description="Rows to skip")]
