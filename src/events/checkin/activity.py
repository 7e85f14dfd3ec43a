"""What each gate device has done: when it was last heard from and how many scans it sent
since a moment (the start of today, for the console). Read from the append-only scan log."""

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from events.checkin.models import Scan


@dataclass(frozen=True)
class DeviceActivity:
    last_seen: dt.datetime | None
    scans_since: int


async def device_activity(
    session: AsyncSession, festival_id: uuid.UUID, since: dt.datetime
) -> dict[uuid.UUID, DeviceActivity]:
    """Device id → its last scan's server time and its scans since ``since`` (one query
    on the scan log's festival-and-time index)."""
    query = (
        sa.select(
            col(Scan.device_id),
            sa.func.max(col(Scan.server_time)),
            sa.func.count().filter(col(Scan.server_time) >= since),
        )
        .where(col(Scan.festival_id) == festival_id)
        .group_by(col(Scan.device_id))
    )
    rows = (await (await session.connection()).execute(query)).all()
    return {
        device_id: DeviceActivity(last_seen=_aware(last), scans_since=int(count))
        for device_id, last, count in rows
    }


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
