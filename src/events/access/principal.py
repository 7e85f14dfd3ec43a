"""Who is calling: a signed-in user or a gate device."""

import uuid
from dataclasses import dataclass
from typing import Literal

from events.access.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "device"]
    id: uuid.UUID
    role: Role
    festival_id: uuid.UUID | None = None
    gate_id: uuid.UUID | None = None

    @property
    def is_device(self) -> bool:
        return self.kind == "device"
