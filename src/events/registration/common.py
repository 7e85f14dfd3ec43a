"""What the registration modules share: who asks (``Actor``) and ids in a request body."""

import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.ids import field_id


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: an organiser acts for anyone, an owner for themselves."""

    user_id: uuid.UUID
    role: Role

    @property
    def is_organiser(self) -> bool:
        """Organisers and race officials see every owner's horses and entries."""
        return self.role in (Role.ORGANISER, Role.OFFICIAL)


def _maybe_id(value: str, what: str, field: str) -> uuid.UUID:
    """An id in a request body: a malformed or unknown one is a named bad field."""
    return field_id(value, field, f"No {what} with id {value!r}.")


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name
