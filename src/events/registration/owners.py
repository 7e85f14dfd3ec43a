"""Owners and their riders: signing up, the owner profile of an account, adding riders.
Services flush; the request commits."""

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import services as access_services
from events.access.models import Role, User
from events.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from events.ids import parse_id
from events.registration import provinces, schemas
from events.registration.mappers import rider_read
from events.registration.models import (
    Owner,
    Rider,
)


class OwnerService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sign_up(self, data: schemas.OwnerSignUp) -> tuple[Owner, User]:
        """An account with the owner role, the owner's profile and their riders."""
        names = [(r.name, r.birth_date) for r in data.riders]
        errors = [
            FieldError(f"riders.{i}.name", "This rider appears twice.")
            for i, key in enumerate(names)
            if names.index(key) != i
        ]
        if errors:
            raise ValidationFailed(errors)
        if await self.by_mobile(data.mobile) is not None:
            raise Conflict(
                "An owner with this mobile number is registered already; log in, "
                "or ask the organiser.",
                code="mobile_taken",
            )
        user = await access_services.UserService(self.session).create(
            username=data.username or data.mobile,
            password=data.password,
            role=Role.OWNER,
            display_name=data.name,
            mobile=data.mobile,
        )
        owner = Owner(
            user_id=user.id,
            name=data.name,
            mobile=data.mobile,
            province=data.province,
            county=data.county,
            township=data.township,
        )
        self.session.add(owner)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent sign-up with the same number
            raise Conflict(
                "An owner with this mobile number is registered already.", code="mobile_taken"
            ) from exc
        for rider in data.riders:
            self.session.add(Rider(owner_id=owner.id, **rider.model_dump()))
        await self.session.flush()
        return owner, user

    async def by_mobile(self, mobile: str) -> Owner | None:
        return (await self.session.exec(select(Owner).where(Owner.mobile == mobile))).first()

    async def username_for(self, mobile: str) -> str | None:
        """The username of the account of the owner with this mobile number."""
        user_id = (
            await self.session.exec(select(Owner.user_id).where(Owner.mobile == mobile))
        ).first()
        return None if user_id is None else await access_services.username_of(self.session, user_id)

    async def for_user(self, user_id: uuid.UUID) -> Owner:
        owner = (await self.session.exec(select(Owner).where(Owner.user_id == user_id))).first()
        if owner is None:
            raise Forbidden(
                "This account has no owner profile; sign up as an owner first.",
                code="no_owner_profile",
            )
        return owner

    async def get(self, owner_id: str | uuid.UUID) -> Owner:
        owner = await self.session.get(Owner, parse_id(owner_id, "owner"))
        if owner is None:
            raise NotFound(f"No owner with id {str(owner_id)!r}.")
        return owner

    async def riders(self, owner_id: uuid.UUID) -> Sequence[Rider]:
        return (
            await self.session.exec(
                select(Rider).where(Rider.owner_id == owner_id).order_by(col(Rider.name))
            )
        ).all()

    async def add_rider(self, owner: Owner, data: schemas.RiderIn) -> Rider:
        taken = (
            await self.session.exec(
                select(Rider.id).where(
                    Rider.owner_id == owner.id,
                    Rider.name == data.name,
                    Rider.birth_date == data.birth_date,
                )
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"{data.name} ({data.birth_date}) is already one of your riders.",
                code="rider_exists",
                rider_id=str(taken),
            )
        rider = Rider(owner_id=owner.id, **data.model_dump())
        self.session.add(rider)
        await self.session.flush()
        return rider

    async def read(self, owner: Owner) -> schemas.OwnerRead:
        p = provinces.province(owner.province)
        return schemas.OwnerRead(
            id=str(owner.id),
            user_id=str(owner.user_id) if owner.user_id else None,
            name=owner.name,
            mobile=owner.mobile,
            province=p.code,
            province_zh=p.zh,
            province_en=p.en,
            county=owner.county,
            township=owner.township,
            riders=[rider_read(r) for r in await self.riders(owner.id)],
            created_at=owner.created_at,
        )
