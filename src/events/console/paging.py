"""Server-side paging for console tables: ``?page=`` in, ``Paged`` to the pager macro."""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from litestar.params import QueryParameter

T = TypeVar("T")

PAGE_SIZE = 25
PageNumber = Annotated[
    int, QueryParameter(name="page", ge=1, le=100_000, description="Page of the table (from 1)")
]


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a table: its rows, how many rows there are, and where this page is."""

    items: list[T]
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * self.size)


def window(page: int, size: int = PAGE_SIZE) -> dict[str, Any]:
    """``limit``/``offset`` for a service's list method."""
    return {"limit": size, "offset": (page - 1) * size}
