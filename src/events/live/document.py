"""The live results document of a festival, as the results domain states it."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.services import FestivalService
from events.live.feed import Document


async def build_document(session: AsyncSession, festival_id: uuid.UUID) -> Document:
    """TEMPORARY until the results domain lands: the festival and no races."""
    festival = await FestivalService(session).get(festival_id)
    return {"festival_id": festival.id, "races": []}
