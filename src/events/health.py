"""``GET /health``: the app answers and the database does too."""

import asyncio
import logging
from typing import Literal

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from sqlalchemy import text

logger = logging.getLogger("events.health")


class Health(msgspec.Struct):
    status: Literal["ok", "error"]
    database: Literal["ok", "unavailable"]


@get(
    "/health",
    operation_id="Health",
    summary="Liveness and database check",
    tags=["Service"],
    responses={
        503: ResponseSpec(data_container=Health, description="The database does not answer")
    },
)
async def health(state: State) -> Response[Health]:
    try:
        async with asyncio.timeout(3), state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the cause is logged
        logger.warning("health check: database unavailable: %s", type(exc).__name__)
        return Response(Health(status="error", database="unavailable"), status_code=503)
    return Response(Health(status="ok", database="ok"), status_code=200)
