"""`make bench`'s yardstick: the cheapest useful write, a bare one-row UPDATE.

Served only with ``EVENTS_BENCH_ENDPOINTS=true``. The scan is measured against it in the
same run, on the same server, so the ratio says what the check-in costs beyond one
round trip to PostgreSQL.
"""

import uuid

import msgspec
import sqlalchemy as sa
from litestar import get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from events.db.fast import Statement, fetchrow

TOUCH = Statement(
    "UPDATE device SET updated_at = now() WHERE id = CAST(:id AS uuid) RETURNING id",
    result_types={"id": sa.Uuid()},
)


class Touch(msgspec.Struct):
    id: uuid.UUID


class Touched(msgspec.Struct):
    id: uuid.UUID | None


@post(
    "/bench/touch",
    operation_id="BenchTouch",
    status_code=200,
    include_in_schema=False,
    summary="A bare one-row UPDATE (benchmark baseline)",
)
async def touch(state: State, data: JSONBody[Touch]) -> Touched:
    row = await fetchrow(state.db, TOUCH, id=data.id)
    return Touched(id=row["id"] if row else None)


class Hello(msgspec.Struct):
    hello: str


@get(
    "/bench/hello",
    operation_id="BenchHello",
    include_in_schema=False,
    summary="A trivial endpoint of the same app (the framework's ceiling)",
)
async def hello() -> Hello:
    return Hello(hello="world")


class Batches(msgspec.Struct):
    pid: int
    batches: int
    scans: int
    largest: int


@get(
    "/bench/batches",
    operation_id="BenchBatches",
    include_in_schema=False,
    summary="How this worker batched its scans (checkin.batch)",
)
async def batches(state: State) -> Batches:
    import os

    service = state.get("checkin")
    stats = service.batcher.stats if service is not None and service.batcher else None
    return Batches(
        pid=os.getpid(),
        batches=stats.batches if stats else 0,
        scans=stats.scans if stats else 0,
        largest=stats.largest if stats else 0,
    )
