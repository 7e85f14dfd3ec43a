"""Horses: registering one (microchips are unique, a likely twin is asked about), reading
and searching them. Owners see their own horses; organisers and officials see all."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from events.ids import parse_id
from events.registration import provinces, schemas
from events.registration.common import Actor, _maybe_id
from events.registration.mappers import horse_read
from events.registration.models import (
    Horse,
    Owner,
)
from events.registration.owners import OwnerService


class HorseService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _owner_for(self, actor: Actor, owner_id: str | None) -> Owner:
        owners = OwnerService(self.session)
        if not actor.is_organiser:
            if owner_id is not None:
                raise ValidationFailed(
                    [FieldError("owner_id", "Owners register their own horses; leave this out.")]
                )
            return await owners.for_user(actor.user_id)
        if owner_id is None:
            raise ValidationFailed([FieldError("owner_id", "Say whose horse this is.")])
        owner = await self.session.get(Owner, _maybe_id(owner_id, "owner", "owner_id"))
        if owner is None:
            raise ValidationFailed([FieldError("owner_id", f"No owner with id {owner_id!r}.")])
        return owner

    async def create(self, actor: Actor, data: schemas.HorseIn) -> tuple[Horse, Owner]:
        owner = await self._owner_for(actor, data.owner_id)
        if data.microchip is not None:
            holder = (
                await self.session.exec(
                    select(Horse.id, Horse.owner_id).where(Horse.microchip == data.microchip)
                )
            ).first()
            if holder is not None:
                # Another owner's horse id is theirs to know: named to staff and to its owner.
                mine = actor.is_organiser or holder[1] == owner.id
                raise Conflict(
                    f"The microchip {data.microchip} is registered to another horse.",
                    code="microchip_taken",
                    **({"horse_id": str(holder[0])} if mine else {}),
                )
        if not data.confirm_duplicate:
            twin = (
                await self.session.exec(
                    select(Horse.id).where(
                        Horse.owner_id == owner.id,
                        Horse.name_zh == data.name_zh,
                        Horse.birth_year == data.birth_year,
                    )
                )
            ).first()
            if twin is not None:
                raise Conflict(
                    f"You already have {data.name_zh}, born {data.birth_year}. "
                    "Is it the same horse? Send confirm_duplicate=true to register "
                    "another one.",
                    code="possible_duplicate",
                    horse_id=str(twin),
                )
        horse = Horse(
            owner_id=owner.id,
            origin_province=data.origin_province or owner.province,
            **data.model_dump(exclude={"owner_id", "origin_province", "confirm_duplicate"}),
        )
        self.session.add(horse)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # the same chip registered at the same moment
            raise Conflict(
                f"The microchip {data.microchip} is registered to another horse.",
                code="microchip_taken",
            ) from exc
        return horse, owner

    async def get(self, actor: Actor, horse_id: str) -> tuple[Horse, Owner]:
        horse = await self.session.get(Horse, parse_id(horse_id, "horse"))
        if horse is None:
            raise NotFound(f"No horse with id {horse_id!r}.")
        owner = await OwnerService(self.session).get(horse.owner_id)
        if not actor.is_organiser and owner.user_id != actor.user_id:
            raise NotFound(f"No horse with id {horse_id!r}.")
        return horse, owner

    async def search(
        self,
        actor: Actor,
        *,
        limit: int,
        offset: int,
        owner_id: str | None = None,
        province: str | None = None,
        q: str | None = None,
        species: str | None = None,
    ) -> tuple[list[schemas.HorseRead], int]:
        conditions: list[Any] = []
        if not actor.is_organiser:
            owner = await OwnerService(self.session).for_user(actor.user_id)
            conditions.append(Horse.owner_id == owner.id)
        elif owner_id is not None:
            conditions.append(Horse.owner_id == parse_id(owner_id, "owner"))
        if province is not None:
            found = provinces.find(province)
            if found is None:
                raise ValidationFailed([FieldError("province", f"Unknown province {province!r}.")])
            conditions.append(Horse.origin_province == found.code)
        if species is not None:
            conditions.append(Horse.species == species)
        if q:
            pattern = f"%{q}%"
            conditions.append(
                col(Horse.name_zh).ilike(pattern)
                | col(Horse.name_en).ilike(pattern)
                | col(Horse.microchip).ilike(pattern)
            )
        total = (
            await self.session.exec(select(sa.func.count()).select_from(Horse).where(*conditions))
        ).one()
        rows = (
            await self.session.exec(
                select(Horse, Owner.name)
                .join(Owner, col(Owner.id) == Horse.owner_id)
                .where(*conditions)
                .order_by(col(Horse.name_zh), col(Horse.id))
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [horse_read(h, name) for h, name in rows], int(total)
