"""Rules for owners, riders, horses, races and entries. Services flush; the request commits.

Places in a race are scarce (STYLE habit 6). Every change that takes or frees a place runs
under the race's row lock (``SELECT ... FOR UPDATE`` with a lock timeout on PostgreSQL),
and the place itself is taken by a conditional ``UPDATE race SET entered = entered + 1
WHERE entered < field_size RETURNING``, which alone would already refuse an overfill; a
check constraint on ``race`` is the last guard. Locks are taken in one order everywhere:
the payment (when one is involved), then the race, then the entry.

The entry fee is paid through the payments domain; ``EntryFeePayments`` (registered for
the ``entry_fee`` purpose when this module is imported) confirms the entry, releases its
place or records a refund as the payment moves.
"""

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import services as access_services
from events.access.models import Role, User
from events.config import Settings
from events.db.base import table_of, utcnow
from events.db.locks import is_lock_timeout, set_lock_timeout
from events.db.upsert import insert
from events.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from events.festivals import reads as festival_reads
from events.festivals import services as festival_services
from events.festivals.models import Festival, FestivalDay
from events.idempotency import fingerprint, same_request
from events.ids import field_id, parse_id
from events.links import Links
from events.payments import fulfilment
from events.payments import services as payment_services
from events.payments.fulfilment import PaymentView
from events.registration import eligibility, fees, identity, provinces, schemas
from events.registration.eligibility import RuleFailure, Standing
from events.registration.models import (
    ACTIVE,
    HOLDS_PLACE,
    Entry,
    EntryEvent,
    EntryEventKind,
    EntryRequest,
    EntrySource,
    EntryStatus,
    Horse,
    Owner,
    Race,
    Rider,
)

log = logging.getLogger(__name__)

LOCK_TIMEOUT_MS = 10_000
"""How long to wait for a race's lock before answering 503 ``race_busy``."""
ENTRY_FEE = payment_services.PaymentPurpose.ENTRY_FEE


class Ineligible(DomainError):
    """The horse-rider pair fails one or more of the race's conditions; each is named."""

    status_code = 422
    code = "ineligible"
    title = "Not eligible"

    def __init__(self, failures: Sequence[RuleFailure]) -> None:
        codes = ", ".join(f.code for f in failures)
        super().__init__(f"Not eligible for this race: {codes}.",
                         errors=[{"field": _RULE_FIELDS.get(f.code, "race_id"), "code": f.code,
                                  "message": f.message} for f in failures])
        self.failures = list(failures)


_RULE_FIELDS = {
    "wrong_species": "horse_id", "horse_too_young": "horse_id", "horse_too_old": "horse_id",
    "horse_too_small": "horse_id", "horse_too_tall": "horse_id",
    "not_local_horse": "horse_id", "horse_already_entered": "horse_id",
    "rider_too_young": "rider_id", "rider_too_old": "rider_id",
    "guardian_consent_missing": "rider_id", "rider_already_entered": "rider_id",
}


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


def province_read(code: str) -> schemas.ProvinceRead:
    p = provinces.province(code)
    return schemas.ProvinceRead(code=p.code, zh=p.zh, zh_full=p.zh_full, en=p.en, kind=p.kind)


def rider_read(rider: Rider) -> schemas.RiderRead:
    return schemas.RiderRead(id=str(rider.id), owner_id=str(rider.owner_id), name=rider.name,
                             birth_date=rider.birth_date, guardian_name=rider.guardian_name,
                             guardian_consent=rider.guardian_consent)


def horse_read(horse: Horse, owner_name: str) -> schemas.HorseRead:
    return schemas.HorseRead(
        id=str(horse.id), owner_id=str(horse.owner_id), owner_name=owner_name,
        species=horse.species, name_zh=horse.name_zh, name_bo=horse.name_bo,
        name_en=horse.name_en, sex=horse.sex, birth_year=horse.birth_year, colour=horse.colour,
        markings=horse.markings, breed=horse.breed, height_cm=horse.height_cm,
        microchip=horse.microchip, passport_number=horse.passport_number,
        origin_province=horse.origin_province, created_at=horse.created_at)


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


# --- owners and riders -------------------------------------------------------------------


class OwnerService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sign_up(self, data: schemas.OwnerSignUp) -> tuple[Owner, User]:
        """An account with the owner role, the owner's profile and their riders."""
        names = [(r.name, r.birth_date) for r in data.riders]
        errors = [FieldError(f"riders.{i}.name", "This rider appears twice.")
                  for i, key in enumerate(names) if names.index(key) != i]
        if errors:
            raise ValidationFailed(errors)
        if await self.by_mobile(data.mobile) is not None:
            raise Conflict("An owner with this mobile number is registered already; log in, "
                           "or ask the organiser.", code="mobile_taken")
        user = await access_services.UserService(self.session).create(
            username=data.username or data.mobile, password=data.password, role=Role.OWNER,
            display_name=data.name, mobile=data.mobile)
        owner = Owner(user_id=user.id, name=data.name, mobile=data.mobile,
                      province=data.province, county=data.county, township=data.township)
        self.session.add(owner)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent sign-up with the same number
            raise Conflict("An owner with this mobile number is registered already.",
                           code="mobile_taken") from exc
        for rider in data.riders:
            self.session.add(Rider(owner_id=owner.id, **rider.model_dump()))
        await self.session.flush()
        return owner, user

    async def by_mobile(self, mobile: str) -> Owner | None:
        return (await self.session.exec(select(Owner).where(Owner.mobile == mobile))).first()

    async def username_for(self, mobile: str) -> str | None:
        """The username of the account of the owner with this mobile number."""
        user_id = (await self.session.exec(
            select(Owner.user_id).where(Owner.mobile == mobile))).first()
        return None if user_id is None else await access_services.username_of(
            self.session, user_id)

    async def for_user(self, user_id: uuid.UUID) -> Owner:
        owner = (await self.session.exec(select(Owner).where(Owner.user_id == user_id))).first()
        if owner is None:
            raise Forbidden("This account has no owner profile; sign up as an owner first.",
                            code="no_owner_profile")
        return owner

    async def get(self, owner_id: str | uuid.UUID) -> Owner:
        owner = await self.session.get(Owner, parse_id(owner_id, "owner"))
        if owner is None:
            raise NotFound(f"No owner with id {str(owner_id)!r}.")
        return owner

    async def riders(self, owner_id: uuid.UUID) -> Sequence[Rider]:
        return (await self.session.exec(select(Rider).where(Rider.owner_id == owner_id)
                                        .order_by(col(Rider.name)))).all()

    async def add_rider(self, owner: Owner, data: schemas.RiderIn) -> Rider:
        taken = (await self.session.exec(select(Rider.id).where(
            Rider.owner_id == owner.id, Rider.name == data.name,
            Rider.birth_date == data.birth_date))).first()
        if taken is not None:
            raise Conflict(f"{data.name} ({data.birth_date}) is already one of your riders.",
                           code="rider_exists", rider_id=str(taken))
        rider = Rider(owner_id=owner.id, **data.model_dump())
        self.session.add(rider)
        await self.session.flush()
        return rider

    async def read(self, owner: Owner) -> schemas.OwnerRead:
        p = provinces.province(owner.province)
        return schemas.OwnerRead(
            id=str(owner.id), user_id=str(owner.user_id) if owner.user_id else None,
            name=owner.name, mobile=owner.mobile, province=p.code, province_zh=p.zh,
            province_en=p.en, county=owner.county, township=owner.township,
            riders=[rider_read(r) for r in await self.riders(owner.id)],
            created_at=owner.created_at)


# --- horses ------------------------------------------------------------------------------


class HorseService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _owner_for(self, actor: Actor, owner_id: str | None) -> Owner:
        owners = OwnerService(self.session)
        if not actor.is_organiser:
            if owner_id is not None:
                raise ValidationFailed([FieldError("owner_id", "Owners register their own "
                                                               "horses; leave this out.")])
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
            holder = (await self.session.exec(select(Horse.id, Horse.owner_id).where(
                Horse.microchip == data.microchip))).first()
            if holder is not None:
                # Another owner's horse id is theirs to know: named to staff and to its owner.
                mine = actor.is_organiser or holder[1] == owner.id
                raise Conflict(f"The microchip {data.microchip} is registered to another horse.",
                               code="microchip_taken",
                               **({"horse_id": str(holder[0])} if mine else {}))
        if not data.confirm_duplicate:
            twin = (await self.session.exec(select(Horse.id).where(
                Horse.owner_id == owner.id, Horse.name_zh == data.name_zh,
                Horse.birth_year == data.birth_year))).first()
            if twin is not None:
                raise Conflict(f"You already have {data.name_zh}, born {data.birth_year}. "
                               "Is it the same horse? Send confirm_duplicate=true to register "
                               "another one.", code="possible_duplicate", horse_id=str(twin))
        horse = Horse(owner_id=owner.id, origin_province=data.origin_province or owner.province,
                      **data.model_dump(exclude={"owner_id", "origin_province",
                                                 "confirm_duplicate"}))
        self.session.add(horse)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # the same chip registered at the same moment
            raise Conflict(f"The microchip {data.microchip} is registered to another horse.",
                           code="microchip_taken") from exc
        return horse, owner

    async def get(self, actor: Actor, horse_id: str) -> tuple[Horse, Owner]:
        horse = await self.session.get(Horse, parse_id(horse_id, "horse"))
        if horse is None:
            raise NotFound(f"No horse with id {horse_id!r}.")
        owner = await OwnerService(self.session).get(horse.owner_id)
        if not actor.is_organiser and owner.user_id != actor.user_id:
            raise NotFound(f"No horse with id {horse_id!r}.")
        return horse, owner

    async def search(self, actor: Actor, *, limit: int, offset: int, owner_id: str | None = None,
                   province: str | None = None, q: str | None = None,
                   species: str | None = None) -> tuple[list[schemas.HorseRead], int]:
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
            conditions.append(col(Horse.name_zh).ilike(pattern) | col(Horse.name_en).ilike(pattern)
                              | col(Horse.microchip).ilike(pattern))
        total = (await self.session.exec(
            select(sa.func.count()).select_from(Horse).where(*conditions))).one()
        rows = (await self.session.exec(
            select(Horse, Owner.name).join(Owner, col(Owner.id) == Horse.owner_id)
            .where(*conditions).order_by(col(Horse.name_zh), col(Horse.id))
            .limit(limit).offset(offset))).all()
        return [horse_read(h, name) for h, name in rows], int(total)


# --- races -------------------------------------------------------------------------------


def _check_race(race: Race, day: FestivalDay) -> list[FieldError]:
    errors = []
    if race.entries_close_at <= race.entries_open_at:
        errors.append(FieldError("entries_close_at", "The entries must close after they open."))
    if race.late_close_at is not None and race.late_close_at <= race.entries_close_at:
        errors.append(FieldError("late_close_at", "The final close must come after the close."))
    if race.age_min is not None and race.age_max is not None and race.age_min > race.age_max:
        errors.append(FieldError("age_max", "The maximum age is below the minimum."))
    if (race.height_min_cm is not None and race.height_max_cm is not None
            and race.height_min_cm > race.height_max_cm):
        errors.append(FieldError("height_max_cm", "The maximum height is below the minimum."))
    if (race.rider_min_age is not None and race.rider_max_age is not None
            and race.rider_min_age > race.rider_max_age):
        errors.append(FieldError("rider_max_age", "The maximum rider age is below the minimum."))
    return errors


class RaceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _day(self, festival_id: uuid.UUID, day_id: str) -> FestivalDay:
        key = _maybe_id(day_id, "festival day", "day_id")
        day = (await festival_reads.days(self.session, [key], festival_id=festival_id)).get(key)
        if day is None:
            raise ValidationFailed([FieldError("day_id", f"No day {day_id!r} at this festival.")])
        return day

    @staticmethod
    def _category(value: str | None) -> uuid.UUID | None:
        return None if value is None else _maybe_id(value, "award category",
                                                    "award_category_id")

    async def create(self, festival_id: str, data: schemas.RaceIn) -> Race:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        day = await self._day(festival.id, data.day_id)
        race = Race(festival_id=festival.id, day_id=day.id, currency=festival.currency,
                    award_category_id=self._category(data.award_category_id),
                    **data.model_dump(exclude={"day_id", "award_category_id"}))
        errors = _check_race(race, day)
        if errors:
            raise ValidationFailed(errors)
        taken = (await self.session.exec(select(Race.id).where(
            Race.festival_id == festival.id, Race.code == data.code))).first()
        if taken is not None:
            raise Conflict(f"The race code {data.code!r} is taken at this festival.",
                           code="race_code_taken")
        self.session.add(race)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(f"The race code {data.code!r} is taken at this festival.",
                           code="race_code_taken") from exc
        return race

    async def open_for_entries(self, now: dt.datetime
                               ) -> list[tuple[schemas.RaceRead, Festival]]:
        """Races taking entries now (on time or late), of every festival."""
        still_open = sa.or_(col(Race.entries_close_at) >= now, col(Race.late_close_at) >= now)
        rows = (await self.session.exec(
            select(Race, col(FestivalDay.date), Festival)
            .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
            .join(Festival, col(Festival.id) == Race.festival_id)
            .where(col(Race.entries_open_at) <= now, still_open)
            .order_by(col(FestivalDay.date), col(Race.code)))).all()
        waiting = await self._waiting([race.id for race, _, _ in rows])
        return [(race_read(race, date, waiting.get(race.id, 0), now), festival)
                for race, date, festival in rows]

    async def get(self, race_id: str | uuid.UUID) -> Race:
        race = await self.session.get(Race, parse_id(race_id, "race"))
        if race is None:
            raise NotFound(f"No race with id {str(race_id)!r}.")
        return race

    async def update(self, race_id: str, data: schemas.RaceUpdate) -> Race:
        race = await EntryService(self.session).lock_race(parse_id(race_id, "race"))
        changes = data.model_dump(exclude_unset=True)
        for required in ("day_id", "name_zh", "name_en", "distance_m", "field_size",
                         "entries_open_at", "entries_close_at", "registration_fee",
                         "start_fee", "late_fee", "local_provinces", "local_counties"):
            if required in changes and changes[required] is None:
                raise ValidationFailed([FieldError(required, "This cannot be cleared.")])
        if "day_id" in changes:
            changes["day_id"] = (await self._day(race.festival_id, changes["day_id"])).id
        if "award_category_id" in changes:
            changes["award_category_id"] = self._category(changes["award_category_id"])
        size = changes.get("field_size")
        if size is not None and size < race.entered:
            raise Conflict(f"{race.entered} places are held; the field cannot shrink to {size}. "
                           "Scratch or withdraw entries first.", code="field_size_below_entered")
        for field, value in changes.items():
            setattr(race, field, value)
        race.updated_at = utcnow()
        errors = _check_race(race, await self.session.get_one(FestivalDay, race.day_id))
        if errors:
            raise ValidationFailed(errors)
        self.session.add(race)
        await self.session.flush()
        if size is not None:
            await EntryService(self.session).fill_from_waiting_list(race)
        return race

    async def of_festival(self, festival_id: str) -> list[schemas.RaceRead]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        rows = (await self.session.exec(
            select(Race, col(FestivalDay.date))
            .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
            .where(Race.festival_id == festival.id)
            .order_by(col(FestivalDay.date), col(Race.code)))).all()
        waiting = await self._waiting([race.id for race, _ in rows])
        now = utcnow()
        return [race_read(race, date, waiting.get(race.id, 0), now) for race, date in rows]

    async def read(self, race: Race) -> schemas.RaceRead:
        day = await self.session.get_one(FestivalDay, race.day_id)
        waiting = await self._waiting([race.id])
        return race_read(race, day.date, waiting.get(race.id, 0), utcnow())

    async def _waiting(self, race_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not race_ids:
            return {}
        rows = await self.session.exec(
            select(col(Entry.race_id), sa.func.count()).where(
                col(Entry.race_id).in_(race_ids), Entry.status == EntryStatus.WAITING)
            .group_by(col(Entry.race_id)))
        return {race_id: int(n) for race_id, n in rows.all()}


def race_read(race: Race, date: dt.date, waiting: int, now: dt.datetime) -> schemas.RaceRead:
    return schemas.RaceRead(
        id=str(race.id), festival_id=str(race.festival_id), day_id=str(race.day_id), date=date,
        award_category_id=str(race.award_category_id) if race.award_category_id else None,
        code=race.code, name_zh=race.name_zh, name_en=race.name_en, species=race.species,
        distance_m=race.distance_m, field_size=race.field_size, entered=race.entered,
        places_left=max(0, race.field_size - race.entered), waiting=waiting,
        window=fees.window(race, now), entries_open_at=race.entries_open_at,
        entries_close_at=race.entries_close_at, late_close_at=race.late_close_at,
        name_bo=race.name_bo,
        fees=schemas.FeesRead(currency=race.currency, registration=race.registration_fee,
                              start=race.start_fee, late=race.late_fee),
        fee_now=fees.fee_for(race, now).total,
        rules=schemas.RulesRead(
            age_min=race.age_min, age_max=race.age_max,
            age_reference_date=race.age_reference_date, height_min_cm=race.height_min_cm,
            height_max_cm=race.height_max_cm, local_provinces=list(race.local_provinces),
            local_counties=list(race.local_counties), max_per_county=race.max_per_county,
            rider_min_age=race.rider_min_age, rider_max_age=race.rider_max_age),
        conditions=eligibility.conditions(race), refund_policy=fees.REFUND_POLICY)


# --- entries -----------------------------------------------------------------------------

def _entry_query() -> Any:
    """An entry with what people read next to it: race, day, horse, rider and owner."""
    return (sa.select(Entry, col(Race.code), col(Race.name_zh), col(Race.name_en),
                      col(FestivalDay.date), col(Horse.name_zh), col(Rider.name),
                      col(Owner.name))
            .join(Race, col(Race.id) == Entry.race_id)
            .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
            .join(Horse, col(Horse.id) == Entry.horse_id)
            .join(Rider, col(Rider.id) == Entry.rider_id)
            .join(Owner, col(Owner.id) == Entry.owner_id))


def entry_read(row: Sequence[Any]) -> schemas.EntryRead:
    entry: Entry = row[0]
    code, name_zh, name_en, date, horse_name, rider_name, owner_name = row[1:8]
    balance = (max(0, entry.fee_due - entry.amount_paid)
               if entry.status == EntryStatus.PENDING_PAYMENT else 0)
    return schemas.EntryRead(
        id=str(entry.id), festival_id=str(entry.festival_id), race_id=str(entry.race_id),
        race_code=code, race_name_zh=name_zh, race_name_en=name_en, race_date=date,
        horse_id=str(entry.horse_id), horse_name=horse_name, rider_id=str(entry.rider_id),
        rider_name=rider_name, owner_id=str(entry.owner_id), owner_name=owner_name,
        province=entry.province, province_zh=provinces.zh_name(entry.province),
        county=entry.county, status=EntryStatus(entry.status),
        waitlist_position=entry.waitlist_position, source=entry.source,
        fee=schemas.FeeRead(currency=entry.currency, registration=entry.registration_fee,
                            start=entry.start_fee, late=entry.late_fee, total=entry.fee_due),
        fee_due=entry.fee_due, balance_due=balance, amount_paid=entry.amount_paid,
        amount_refunded=entry.amount_refunded, currency=entry.currency,
        payment_id=str(entry.payment_id) if entry.payment_id else None,
        checkout_url=entry.checkout_url if balance else None, created_at=entry.created_at,
        status_changed_at=entry.status_changed_at)


def request_fingerprint(festival_id: uuid.UUID, data: schemas.EntryIn) -> str:
    return fingerprint({"festival_id": festival_id, **data.model_dump()})


@dataclass(frozen=True, slots=True)
class Created:
    entry: schemas.EntryRead
    replayed: bool


@dataclass(frozen=True, slots=True)
class EntryFilters:
    province: str | None = None
    race_id: str | None = None
    status: EntryStatus | None = None
    owner_id: uuid.UUID | None = None
    microchip: str | None = None
    owner: str | None = None
    """Part of the owner's name, or their mobile number."""


class EntryService:
    """Entering, paying, withdrawing, inspecting; places and the waiting list.

    ``settings`` is needed for what talks to the payments domain (start a payment, refund);
    the payment handler, which has none, only moves entries.
    """

    def __init__(self, session: AsyncSession, settings: Settings | None = None,
                 links: Links | None = None) -> None:
        self.session = session
        self.settings = settings
        self.links = links

    def _payments(self) -> payment_services.PaymentService:
        if self.settings is None:
            raise RuntimeError("EntryService needs settings to talk to payments")
        return payment_services.PaymentService(self.session, self.settings, self.links)

    # --- locks and places ---------------------------------------------------------------

    async def lock_race(self, race_id: uuid.UUID) -> Race:
        """The race, locked until the transaction ends: places change one at a time."""
        await set_lock_timeout(await self.session.connection(), LOCK_TIMEOUT_MS)
        try:
            race = (await self.session.exec(
                select(Race).where(Race.id == race_id).with_for_update()
                .execution_options(populate_existing=True))).first()
        except DBAPIError as exc:
            if is_lock_timeout(exc):
                raise ServiceUnavailable("The race is busy; try again in a moment.",
                                         code="race_busy") from exc
            raise
        if race is None:
            raise NotFound(f"No race with id {race_id}.")
        return race

    async def _take_place(self, race: Race) -> bool:
        """One place, if the field has one: decided by the database, atomically."""
        taken = (await self.session.exec(
            sa.update(Race).where(col(Race.id) == race.id,
                                  col(Race.entered) < col(Race.field_size))
            .values(entered=col(Race.entered) + 1).returning(col(Race.entered)))).first()
        if taken is None:
            return False
        set_committed_value(race, "entered", taken[0])
        return True

    async def _free_place(self, race: Race) -> None:
        left = (await self.session.exec(
            sa.update(Race).where(col(Race.id) == race.id, col(Race.entered) > 0)
            .values(entered=col(Race.entered) - 1).returning(col(Race.entered)))).first()
        if left is not None:
            set_committed_value(race, "entered", left[0])

    async def _next_waitlist_position(self, race: Race) -> int:
        position = (await self.session.exec(
            sa.update(Race).where(col(Race.id) == race.id)
            .values(waitlist_seq=col(Race.waitlist_seq) + 1)
            .returning(col(Race.waitlist_seq)))).one()[0]
        set_committed_value(race, "waitlist_seq", position)
        return int(position)

    def _event(self, entry: Entry, kind: EntryEventKind, *, from_status: str | None = None,
               to_status: str | None = None, amount: int | None = None, detail: str = "",
               actor_id: uuid.UUID | None = None) -> None:
        self.session.add(EntryEvent(entry_id=entry.id, kind=kind, from_status=from_status,
                                    to_status=to_status, amount=amount, detail=detail[:500],
                                    actor_id=actor_id))

    def _move(self, entry: Entry, to: EntryStatus, *, detail: str = "",
              actor_id: uuid.UUID | None = None) -> None:
        self._event(entry, EntryEventKind.STATUS, from_status=entry.status, to_status=to,
                    detail=detail, actor_id=actor_id)
        entry.status = to
        entry.status_changed_at = entry.updated_at = utcnow()
        self.session.add(entry)

    async def fill_from_waiting_list(self, race: Race) -> list[Entry]:
        """Move waiting entries up, in waiting-list order, while the (locked) race has
        places. A moved-up entry owes its fee (or is confirmed when it owes nothing)."""
        moved: list[Entry] = []
        while race.entered < race.field_size:
            entry = (await self.session.exec(
                select(Entry).where(Entry.race_id == race.id,
                                    Entry.status == EntryStatus.WAITING)
                .order_by(col(Entry.waitlist_position), col(Entry.created_at))
                .limit(1).with_for_update()
                .execution_options(populate_existing=True))).first()
            if entry is None or not await self._take_place(race):
                break
            position = entry.waitlist_position
            entry.waitlist_position = None
            paid = entry.amount_paid >= entry.fee_due
            self._move(entry, EntryStatus.CONFIRMED if paid else EntryStatus.PENDING_PAYMENT,
                       detail=f"moved up from the waiting list (number {position})")
            await self.session.flush()  # before the next query reloads waiting entries
            moved.append(entry)
        return moved

    # --- entering -----------------------------------------------------------------------

    async def _claim_key(self, actor: Actor, key: str, fingerprint: str) -> uuid.UUID | str:
        """Our claim on an ``Idempotency-Key`` (its row id), or the answer given before.

        ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent request with the same key waits
        for the first to commit, then finds its answer.
        """
        table = table_of(EntryRequest)
        claim_id = uuid.uuid4()
        claimed = (await self.session.exec(
            insert(await self.session.connection(), table).values(
                id=claim_id, actor_id=actor.user_id, key=key, fingerprint=fingerprint,
                response="", created_at=utcnow())
            .on_conflict_do_nothing().returning(table.c.id))).first()
        if claimed is not None:
            return claim_id
        earlier = (await self.session.exec(select(EntryRequest).where(
            EntryRequest.actor_id == actor.user_id, EntryRequest.key == key))).one()
        same_request(earlier.fingerprint, fingerprint, "entry")
        if not earlier.response:
            raise Conflict("A request with this Idempotency-Key is still being processed.",
                           code="idempotency_key_in_progress")
        return earlier.response

    async def create(self, actor: Actor, festival_id: str, data: schemas.EntryIn, *,
                     idempotency_key: str | None = None) -> Created:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        race_id = _maybe_id(data.race_id, "race", "race_id")
        horse_id = _maybe_id(data.horse_id, "horse", "horse_id")
        rider_id = _maybe_id(data.rider_id, "rider", "rider_id")
        claim: uuid.UUID | None = None
        if idempotency_key is not None:
            claimed = await self._claim_key(actor, idempotency_key,
                                            request_fingerprint(festival.id, data))
            if isinstance(claimed, str):
                return Created(msgspec.json.decode(claimed, type=schemas.EntryRead), True)
            claim = claimed

        race = await self.session.get(Race, race_id)
        if race is None or race.festival_id != festival.id:
            raise ValidationFailed([FieldError("race_id", "No such race at this festival.")])
        horse = await self.session.get(Horse, horse_id)
        owner = await self.session.get(Owner, horse.owner_id) if horse else None
        if horse is None or owner is None or (not actor.is_organiser
                                              and owner.user_id != actor.user_id):
            raise ValidationFailed([FieldError("horse_id", "No such horse among yours.")])
        rider = await self.session.get(Rider, rider_id)
        if rider is None or rider.owner_id != owner.id:
            raise ValidationFailed([FieldError("rider_id", "No such rider among the owner's "
                                                           "riders.")])
        now = utcnow()
        window = fees.window(race, now)
        if window is fees.Window.NOT_OPEN:
            raise Conflict(f"Entries for this race open at {race.entries_open_at.isoformat()}.",
                           code="entries_not_open")
        if window is fees.Window.CLOSED:
            raise Conflict("Entries for this race are closed.", code="entries_closed")

        race = await self.lock_race(race.id)
        day = await self.session.get_one(FestivalDay, race.day_id)
        standing = (await self._standings(race, [(owner, horse.id, rider.id)]))[0]
        failures = eligibility.check(race, day.date, horse, rider, owner, standing)
        if failures:
            raise Ineligible(failures)

        fee = fees.fee_for(race, now)
        entry = Entry(festival_id=festival.id, race_id=race.id, horse_id=horse.id,
                      rider_id=rider.id, owner_id=owner.id, status=EntryStatus.WAITING,
                      source=EntrySource.ONLINE, province=owner.province, county=owner.county,
                      currency=race.currency, registration_fee=fee.registration,
                      start_fee=fee.start, late_fee=fee.late, fee_due=fee.total)
        if await self._take_place(race):
            entry.status = (EntryStatus.PENDING_PAYMENT if fee.total > 0
                            else EntryStatus.CONFIRMED)
        else:
            entry.waitlist_position = await self._next_waitlist_position(race)
        self.session.add(entry)
        await self.session.flush()
        late = " (late entry)" if fee.late else ""
        self._event(entry, EntryEventKind.ENTERED, to_status=entry.status, amount=fee.total,
                    actor_id=actor.user_id,
                    detail=(f"waiting list number {entry.waitlist_position}"
                            if entry.waitlist_position else f"place taken{late}"))
        if entry.status == EntryStatus.PENDING_PAYMENT:
            await self._start_payment(entry, race, horse, idempotency_key=f"entry-{entry.id}")
        await self.session.flush()
        read = entry_read((entry, race.code, race.name_zh, race.name_en, day.date,
                           horse.name_zh, rider.name, owner.name))
        if claim is not None:
            await self.session.exec(
                sa.update(EntryRequest).where(col(EntryRequest.id) == claim)
                .values(entry_id=entry.id, response=msgspec.json.encode(read).decode()))
        return Created(read, False)

    async def _standings(self, race: Race, pairs: Sequence[tuple[Owner, uuid.UUID, uuid.UUID]]
                         ) -> list[Standing]:
        """What the (locked) race holds for each (owner, horse, rider) asking to enter."""
        active = (await self.session.exec(
            select(Entry.horse_id, Entry.rider_id, Entry.province, Entry.county)
            .where(Entry.race_id == race.id, col(Entry.status).in_(ACTIVE)))).all()
        horses = {h for h, _, _, _ in active}
        riders = {r for _, r, _, _ in active}
        counties: dict[tuple[str, str], int] = defaultdict(int)
        for _, _, province, county in active:
            counties[(province, county)] += 1
        return [Standing(county_entries=counties[(owner.province, owner.county)],
                         horse_entered=horse_id in horses, rider_entered=rider_id in riders)
                for owner, horse_id, rider_id in pairs]

    async def _start_payment(self, entry: Entry, race: Race, horse: Horse, *,
                             idempotency_key: str | None) -> None:
        checkout = await self._payments().start(
            festival_id=entry.festival_id, purpose=ENTRY_FEE, reference_id=entry.id,
            amount=entry.fee_due - entry.amount_paid, currency=entry.currency,
            description=f"报名费 Entry fee: {race.name_zh} / {race.name_en} — {horse.name_zh}",
            customer_email=None, idempotency_key=idempotency_key)
        entry.payment_id = checkout.payment_id
        entry.checkout_url = checkout.checkout_url
        self.session.add(entry)
        self._event(entry, EntryEventKind.PAYMENT_STARTED, amount=checkout.amount,
                    detail=f"payment {checkout.payment_id} ({checkout.provider})")
        await self.session.flush()

    # --- reading ------------------------------------------------------------------------

    async def _entry(self, actor: Actor, entry_id: str) -> Entry:
        entry = await self.session.get(Entry, parse_id(entry_id, "entry"))
        if entry is None:
            raise NotFound(f"No entry with id {entry_id!r}.")
        if not actor.is_organiser:
            owner = await OwnerService(self.session).for_user(actor.user_id)
            if entry.owner_id != owner.id:
                raise NotFound(f"No entry with id {entry_id!r}.")
        return entry

    async def read(self, entry: Entry) -> schemas.EntryRead:
        await self.session.flush()
        row = (await self.session.exec(_entry_query().where(Entry.id == entry.id))).one()
        return entry_read(row)

    async def detail(self, actor: Actor, entry_id: str) -> schemas.EntryDetail:
        entry = await self._entry(actor, entry_id)
        read = await self.read(entry)
        events = (await self.session.exec(
            select(EntryEvent).where(EntryEvent.entry_id == entry.id)
            .order_by(col(EntryEvent.at), col(EntryEvent.id)))).all()
        return schemas.EntryDetail(
            **msgspec.structs.asdict(read),
            history=[schemas.EntryEventRead(kind=e.kind, from_status=e.from_status,
                                            to_status=e.to_status, amount=e.amount,
                                            detail=e.detail, at=e.at) for e in events])

    def _conditions(self, festival_id: uuid.UUID, filters: EntryFilters) -> list[Any]:
        conditions: list[Any] = [Entry.festival_id == festival_id]
        if filters.province is not None:
            found = provinces.find(filters.province)
            if found is None:
                raise ValidationFailed([FieldError(
                    "province", f"Unknown province {filters.province!r}.")])
            conditions.append(Entry.province == found.code)
        if filters.race_id is not None:
            conditions.append(Entry.race_id == parse_id(filters.race_id, "race"))
        if filters.status is not None:
            conditions.append(Entry.status == filters.status)
        if filters.owner_id is not None:
            conditions.append(Entry.owner_id == filters.owner_id)
        if filters.microchip is not None:
            chip = identity.normalise_microchip(filters.microchip) or filters.microchip.strip()
            conditions.append(col(Entry.horse_id).in_(
                select(Horse.id).where(Horse.microchip == chip)))
        if filters.owner is not None:
            conditions.append(col(Entry.owner_id).in_(select(Owner.id).where(
                col(Owner.name).ilike(f"%{filters.owner.strip()}%")
                | (Owner.mobile == (identity.normalise_mobile(filters.owner) or "")))))
        return conditions

    async def search(self, festival_id: str, filters: EntryFilters, *, limit: int,
                   offset: int) -> tuple[list[schemas.EntryRead], int]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        conditions = self._conditions(festival.id, filters)
        total = (await self.session.exec(
            select(sa.func.count()).select_from(Entry).where(*conditions))).one()
        rows = (await self.session.exec(
            _entry_query().where(*conditions)
            .order_by(col(FestivalDay.date), col(Race.code), col(Entry.created_at),
                      col(Entry.id)).limit(limit).offset(offset))).all()
        return [entry_read(row) for row in rows], int(total)

    async def rows_for_export(self, festival_id: str, filters: EntryFilters
                              ) -> tuple[Festival, Sequence[Any]]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        query: Any = (
            sa.select(Entry, Race, col(FestivalDay.date), Horse, Rider, Owner)
            .join(Race, col(Race.id) == Entry.race_id)
            .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
            .join(Horse, col(Horse.id) == Entry.horse_id)
            .join(Rider, col(Rider.id) == Entry.rider_id)
            .join(Owner, col(Owner.id) == Entry.owner_id)
            .where(*self._conditions(festival.id, filters))
            .order_by(col(FestivalDay.date), col(Race.code), col(Entry.status),
                      col(Entry.waitlist_position), col(Entry.created_at), col(Entry.id)))
        return festival, (await self.session.exec(query)).all()

    async def mine(self, actor: Actor) -> list[schemas.EntryRead]:
        owner = await OwnerService(self.session).for_user(actor.user_id)
        rows = (await self.session.exec(
            _entry_query().where(Entry.owner_id == owner.id)
            .order_by(col(FestivalDay.date), col(Race.code), col(Entry.created_at)))).all()
        return [entry_read(row) for row in rows]

    async def summary(self, festival_id: str) -> schemas.EntrySummary:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        live: list[Any] = [Entry.festival_id == festival.id, col(Entry.status).in_(ACTIVE)]
        entries, horses, province_count = (await self.session.exec(
            select(sa.func.count(), sa.func.count(sa.distinct(col(Entry.horse_id))),
                   sa.func.count(sa.distinct(col(Entry.province)))).where(*live))).one()
        by_province = (await self.session.exec(
            select(Entry.province, sa.func.count()).where(*live)
            .group_by(col(Entry.province)).order_by(sa.func.count().desc(),
                                                    col(Entry.province)))).all()
        by_status = (await self.session.exec(
            select(Entry.status, sa.func.count()).where(Entry.festival_id == festival.id)
            .group_by(col(Entry.status)).order_by(col(Entry.status)))).all()
        by_race = (await self.session.exec(
            select(Race.code, sa.func.count()).select_from(Entry)
            .join(Race, col(Race.id) == Entry.race_id)
            .where(*live).group_by(col(Race.code)).order_by(col(Race.code)))).all()
        return schemas.EntrySummary(
            entries=int(entries), horses=int(horses), provinces=int(province_count),
            by_province={provinces.zh_name(p): int(n) for p, n in by_province},
            by_status={str(s): int(n) for s, n in by_status},
            by_race={c: int(n) for c, n in by_race})

    # --- paying -------------------------------------------------------------------------

    async def pay(self, actor: Actor, entry_id: str) -> schemas.EntryRead:
        """Start (or find) the payment of an entry that owes its fee: one moved up from the
        waiting list, one imported, or one whose checkout was left."""
        entry = await self._entry(actor, entry_id)
        if entry.status != EntryStatus.PENDING_PAYMENT:
            raise Conflict(f"This entry is {entry.status}; nothing to pay.",
                           code="nothing_to_pay")
        if entry.payment_id is not None:
            payments = self._payments()
            payment = await payments.get(entry.payment_id)
            if (payment.status in ("created", "pending") and payment.expires_at is not None
                    and payment.expires_at <= utcnow()):
                # The checkout ran out before it was paid: the place goes (on_failed moves
                # the waiting list up), as it would when the provider reports the expiry.
                await payments.cancel(payment.id, reason="checkout expired", source="system")
                return await self.read(entry)
        race = await self.session.get_one(Race, entry.race_id)
        horse = await self.session.get_one(Horse, entry.horse_id)
        await self._start_payment(entry, race, horse, idempotency_key=None)
        return await self.read(entry)

    # --- withdrawing, inspecting, scratching --------------------------------------------

    async def _lock_for_change(self, actor: Actor, entry_id: str) -> tuple[Entry, Race]:
        """The entry and its race, locked in the usual order: payment, race, entry."""
        entry = await self._entry(actor, entry_id)
        if entry.payment_id is not None and self.settings is not None:
            await self._payments().lock(entry.payment_id)
        race = await self.lock_race(entry.race_id)
        locked = (await self.session.exec(
            select(Entry).where(Entry.id == entry.id).with_for_update()
            .execution_options(populate_existing=True))).one()
        return locked, race

    async def withdraw(self, actor: Actor, entry_id: str, reason: str = "") -> schemas.Withdrawal:
        entry, race = await self._lock_for_change(actor, entry_id)
        return await self._leave(actor, entry, race, EntryStatus.WITHDRAWN,
                                 reason or "withdrawn by the owner")

    async def scratch(self, actor: Actor, entry_id: str, reason: str) -> schemas.Withdrawal:
        entry, race = await self._lock_for_change(actor, entry_id)
        return await self._leave(actor, entry, race, EntryStatus.SCRATCHED, reason)

    async def _leave(self, actor: Actor, entry: Entry, race: Race, to: EntryStatus,
                     reason: str) -> schemas.Withdrawal:
        if entry.status not in ACTIVE:
            raise Conflict(f"This entry is already {entry.status}.", code="entry_not_active")
        now = utcnow()
        before = EntryStatus(entry.status)
        self._move(entry, to, detail=reason, actor_id=actor.user_id)
        await self.session.flush()
        moved_up: list[Entry] = []
        if before in HOLDS_PLACE:
            await self._free_place(race)
            moved_up = await self.fill_from_waiting_list(race)
        if before == EntryStatus.PENDING_PAYMENT and entry.payment_id is not None:
            # Close the open checkout (Stripe's too), so the fee cannot be paid any more.
            await self._payments().cancel(entry.payment_id, reason=f"entry {to}",
                                          source="system")
        refund = fees.refund_for(entry, race, now, new_status=to,
                                 place_refilled=bool(moved_up))
        if refund.amount > 0 and entry.payment_id is not None:
            await self._payments().refund(
                entry.payment_id, amount=refund.amount,
                reason=f"entry {to}: {refund.rule} ({reason})"[:300],
                idempotency_key=f"entry-{entry.id}-{to}", actor_id=actor.user_id)
        await self.session.flush()
        return schemas.Withdrawal(
            entry=await self.read(entry),
            refund=schemas.RefundRead(amount=refund.amount, currency=entry.currency,
                                      rule=refund.rule, policy=fees.REFUND_POLICY["en"],
                                      payment_id=str(entry.payment_id)
                                      if entry.payment_id else None),
            moved_up_entry_id=str(moved_up[0].id) if moved_up else None)

    async def inspect(self, actor: Actor, entry_id: str,
                      data: schemas.InspectionIn) -> schemas.InspectionResult:
        """The pre-race inspection: passed and still eligible (with the measured height)
        → inspected; otherwise the entry is scratched, with the refund by rule."""
        entry, race = await self._lock_for_change(actor, entry_id)
        if entry.status not in (EntryStatus.CONFIRMED, EntryStatus.INSPECTED):
            raise Conflict(f"Only confirmed entries are inspected; this one is {entry.status}.",
                           code="not_confirmed")
        horse = await self.session.get_one(Horse, entry.horse_id)
        rider = await self.session.get_one(Rider, entry.rider_id)
        owner = await self.session.get_one(Owner, entry.owner_id)
        day = await self.session.get_one(FestivalDay, race.day_id)
        failures = eligibility.check(race, day.date, horse, rider, owner, Standing(),
                                     measured_height_cm=data.measured_height_cm)
        passed = data.passed and not failures
        measured = (f"; measured {data.measured_height_cm} cm"
                    if data.measured_height_cm is not None else "")
        self._event(entry, EntryEventKind.INSPECTION, actor_id=actor.user_id,
                    detail=(f"{'passed' if passed else 'failed'}{measured}"
                            + "".join(f"; {f.code}" for f in failures)
                            + (f"; {data.note}" if data.note else "")))
        refund = None
        if not passed:
            reason = "failed inspection: " + (", ".join(f.code for f in failures)
                                              or data.note or "not passed")
            left = await self._leave(actor, entry, race, EntryStatus.SCRATCHED, reason)
            refund = left.refund
        elif entry.status != EntryStatus.INSPECTED:
            self._move(entry, EntryStatus.INSPECTED, detail=data.note, actor_id=actor.user_id)
        return schemas.InspectionResult(
            entry=await self.read(entry), passed=passed,
            failures=[schemas.RuleFailureRead(code=f.code, message=f.message)
                      for f in failures], refund=refund)

    # --- what the payments domain tells us ----------------------------------------------

    async def _entry_for_payment(self, payment: PaymentView) -> Entry | None:
        entry = (await self.session.exec(
            select(Entry).where(Entry.id == payment.reference_id).with_for_update()
            .execution_options(populate_existing=True))).first()
        if entry is None:
            log.warning("entry fee payment %s for unknown entry %s", payment.id,
                        payment.reference_id)
        return entry

    async def payment_succeeded(self, payment: PaymentView) -> None:
        entry = await self._entry_for_payment(payment)
        if entry is None:
            return
        entry.payment_id = payment.id
        entry.amount_paid = payment.amount
        self._event(entry, EntryEventKind.PAID, amount=payment.amount,
                    detail=f"payment {payment.id} ({payment.provider})")
        if entry.status == EntryStatus.PENDING_PAYMENT:
            self._move(entry, EntryStatus.CONFIRMED, detail="fee paid")
        elif entry.status == EntryStatus.CANCELED:
            # Paid after its checkout had expired and the place was let go: take a place
            # again if one is free, else join the waiting list (paid).
            race = await self.lock_race(entry.race_id)
            if await self._take_place(race):
                self._move(entry, EntryStatus.CONFIRMED, detail="paid late; place free")
            else:
                entry.waitlist_position = await self._next_waitlist_position(race)
                self._move(entry, EntryStatus.WAITING, detail="paid late; race full")
        else:
            self._event(entry, EntryEventKind.PAID, detail=f"paid while {entry.status}: the "
                                                           "organiser refunds it")
        self.session.add(entry)
        await self.session.flush()

    async def payment_failed(self, payment: PaymentView) -> None:
        entry = await self._entry_for_payment(payment)
        if (entry is None or entry.payment_id != payment.id
                or entry.status != EntryStatus.PENDING_PAYMENT):
            return
        race = await self.lock_race(entry.race_id)
        self._move(entry, EntryStatus.CANCELED, detail=f"payment {payment.status}")
        await self.session.flush()
        await self._free_place(race)
        await self.fill_from_waiting_list(race)

    async def payment_refunded(self, payment: PaymentView, amount: int) -> None:
        entry = await self._entry_for_payment(payment)
        if entry is None:
            return
        entry.amount_refunded = payment.amount_refunded
        self._event(entry, EntryEventKind.REFUNDED, amount=amount,
                    detail=f"payment {payment.id}: {payment.amount_refunded} refunded in all")
        self.session.add(entry)
        await self.session.flush()


class EntryFeePayments:
    """The payments domain's handler for entry fees (``fulfilment.PaymentHandler``)."""

    async def on_succeeded(self, session: AsyncSession, payment: PaymentView,
                           settings: Settings) -> None:
        await EntryService(session, settings).payment_succeeded(payment)

    async def on_failed(self, session: AsyncSession, payment: PaymentView,
                        settings: Settings) -> None:
        await EntryService(session, settings).payment_failed(payment)

    async def on_refunded(self, session: AsyncSession, payment: PaymentView, amount: int,
                          settings: Settings) -> None:
        await EntryService(session, settings).payment_refunded(payment, amount)


fulfilment.register(ENTRY_FEE, EntryFeePayments())


async def entries_awaiting_fee(session: AsyncSession, festival_id: uuid.UUID, *,
                               limit: int) -> list[tuple[uuid.UUID, int, str]]:
    """(entry id, fee due, currency) of entries waiting for their fee with no payment
    started, oldest first: for the funding demo's cash at the desk."""
    rows = await session.exec(
        select(Entry.id, Entry.fee_due, Entry.currency)
        .where(Entry.festival_id == festival_id,
               Entry.status == EntryStatus.PENDING_PAYMENT,
               col(Entry.payment_id).is_(None), Entry.fee_due > 0)
        .order_by(col(Entry.created_at), col(Entry.id)).limit(limit))
    return [(entry_id, int(fee), currency) for entry_id, fee, currency in rows.all()]


# --- reads for the results domain --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryCard:
    """An entry as a start list or a result shows it."""

    entry_id: uuid.UUID
    race_id: uuid.UUID
    festival_id: uuid.UUID
    status: EntryStatus
    horse_id: uuid.UUID
    horse_name: str
    owner_id: uuid.UUID
    owner_name: str
    rider_id: uuid.UUID
    rider_name: str
    province: str
    county: str


def _card_query() -> Any:
    return (sa.select(col(Entry.id), col(Entry.race_id), col(Entry.festival_id),
                      col(Entry.status), col(Entry.horse_id),
                      col(Horse.name_zh), col(Entry.owner_id), col(Owner.name),
                      col(Entry.rider_id), col(Rider.name),
                      col(Entry.province), col(Entry.county))
            .join(Horse, col(Horse.id) == Entry.horse_id)
            .join(Rider, col(Rider.id) == Entry.rider_id)
            .join(Owner, col(Owner.id) == Entry.owner_id))


def _card(row: Sequence[Any]) -> EntryCard:
    return EntryCard(entry_id=row[0], race_id=row[1], festival_id=row[2],
                     status=EntryStatus(row[3]), horse_id=row[4], horse_name=row[5],
                     owner_id=row[6], owner_name=row[7], rider_id=row[8], rider_name=row[9],
                     province=row[10], county=row[11])


async def race_entries(session: AsyncSession, race_id: uuid.UUID,
                       statuses: Sequence[EntryStatus]) -> list[EntryCard]:
    """A race's entries in the given states, oldest first."""
    rows = (await session.exec(_card_query().where(
        Entry.race_id == race_id, col(Entry.status).in_(list(statuses)))
        .order_by(col(Entry.created_at), col(Entry.id)))).all()
    return [_card(row) for row in rows]


async def entry_cards(session: AsyncSession, entry_ids: Sequence[uuid.UUID]
                      ) -> dict[uuid.UUID, EntryCard]:
    if not entry_ids:
        return {}
    rows = (await session.exec(_card_query().where(col(Entry.id).in_(list(entry_ids))))).all()
    return {row[0]: _card(row) for row in rows}


async def festival_races(session: AsyncSession, festival_id: uuid.UUID
                         ) -> list[tuple[Race, dt.date]]:
    """A festival's races with their day's date, in running order (date, code)."""
    rows = (await session.exec(
        select(Race, col(FestivalDay.date))
        .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
        .where(Race.festival_id == festival_id)
        .order_by(col(FestivalDay.date), col(Race.code)))).all()
    return [(race, date) for race, date in rows]


async def race_date(session: AsyncSession, race: Race) -> dt.date:
    return (await session.get_one(FestivalDay, race.day_id)).date


async def owner_id_for(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID:
    """The owner profile of a signed-in owner (404 when they have none yet)."""
    return (await OwnerService(session).for_user(user_id)).id
