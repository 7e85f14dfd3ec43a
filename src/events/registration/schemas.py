"""Wire types of registration: pydantic inputs naming every bad field, msgspec outputs."""

import datetime as dt
from typing import Annotated

import msgspec
from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from events.access.schemas import Password, Username
from events.db.base import utcnow
from events.registration import identity, provinces
from events.registration.eligibility import ADULT_AGE, age_on
from events.registration.models import EntryStatus, HorseSex, Species
from events.schemas import Input

PersonName = Annotated[str, Field(min_length=1, max_length=100)]
Place = Annotated[str, Field(min_length=1, max_length=100)]
OptionalText100 = Annotated[str, Field(max_length=100)]
OptionalText200 = Annotated[str, Field(max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Fen = Annotated[int, Field(ge=0, le=100_000_000, description="Minor units (fen)")]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
HeightCm = Annotated[int, Field(ge=50, le=220, description="Shoulder height in cm")]
Age = Annotated[int, Field(ge=0, le=60)]
PROVINCE_HELP = (
    "one of the 34 provincial-level divisions, in Chinese or English (四川, 四川省, Sichuan or SC)"
)


def province_code(value: str) -> str:
    found = provinces.find(value)
    if found is None:
        raise ValueError(f"Unknown province {value!r}: use {PROVINCE_HELP}.")
    return found.code


def today() -> dt.date:
    return utcnow().date()


class RiderIn(Input):
    name: PersonName
    birth_date: dt.date
    guardian_name: OptionalText100 = ""
    guardian_consent: bool = Field(
        default=False, validate_default=True, description="Needed for riders under 18"
    )

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: dt.date) -> dt.date:
        if value > today():
            raise ValueError("The birth date is in the future.")
        if age_on(value, today()) > 100:
            raise ValueError("The birth date is more than 100 years ago.")
        return value

    @field_validator("guardian_consent")
    @classmethod
    def _consent(cls, value: bool, info: ValidationInfo) -> bool:
        born = info.data.get("birth_date")
        if born is not None and age_on(born, today()) < ADULT_AGE and not value:
            raise ValueError("A rider under 18 needs a guardian's consent.")
        return value


class OwnerIn(Input):
    """An owner's profile: who they are and where their horses come from."""

    name: PersonName
    mobile: Annotated[
        str, Field(min_length=1, max_length=20, description="Mainland China mobile, optionally +86")
    ]
    province: Annotated[str, Field(min_length=1, max_length=40, description=PROVINCE_HELP)]
    county: Place
    township: OptionalText100 = ""

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        mobile = identity.normalise_mobile(value)
        if mobile is None:
            raise ValueError(identity.MOBILE_MESSAGE)
        return mobile

    @field_validator("province")
    @classmethod
    def _province(cls, value: str) -> str:
        return province_code(value)


class OwnerSignUp(OwnerIn):
    """A new owner: an account with the owner role, the owner's profile and riders."""

    username: Username | None = Field(default=None, description="Defaults to the mobile number")
    password: Password
    riders: Annotated[list[RiderIn], Field(max_length=20)] = []


class HorseIn(Input):
    owner_id: Id | None = Field(default=None, description="Organisers only: whose horse")
    species: Species = Species.HORSE
    name_zh: PersonName
    name_bo: OptionalText100 = ""
    name_en: OptionalText100 = ""
    sex: HorseSex
    birth_year: Annotated[int, Field(ge=1980)]
    colour: Annotated[str, Field(max_length=50)] = ""
    markings: Annotated[str, Field(max_length=200)] = ""
    breed: OptionalText100 = ""
    height_cm: HeightCm
    microchip: Annotated[str, Field(max_length=30)] | None = None
    passport_number: Annotated[str, Field(max_length=50)] | None = None
    origin_province: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="Defaults to the owner's province"
    )
    confirm_duplicate: bool = Field(
        default=False,
        description="Register it although the owner has a horse of the same name and birth year",
    )

    @field_validator("birth_year")
    @classmethod
    def _year(cls, value: int) -> int:
        if value > today().year:
            raise ValueError(f"The birth year {value} is in the future.")
        return value

    @field_validator("microchip")
    @classmethod
    def _chip(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        chip = identity.normalise_microchip(value)
        if chip is None:
            raise ValueError(identity.MICROCHIP_MESSAGE)
        return chip

    @field_validator("passport_number")
    @classmethod
    def _passport(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("origin_province")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        return province_code(value) if value else None


class RaceRules(Input):
    """Eligibility conditions; leave out what does not apply."""

    age_min: Age | None = None
    age_max: Age | None = None
    age_reference_date: dt.date | None = Field(
        default=None, description="Horse ages as of this date (default: the race day)"
    )
    height_min_cm: HeightCm | None = None
    height_max_cm: HeightCm | None = None
    local_provinces: Annotated[list[str], Field(max_length=34)] = Field(
        default=[], description="Local horses only: provinces of origin"
    )
    local_counties: Annotated[list[Place], Field(max_length=100)] = Field(
        default=[], description="Local owners only: their counties"
    )
    max_per_county: Annotated[int, Field(ge=1, le=500)] | None = None
    rider_min_age: Age | None = None
    rider_max_age: Age | None = None

    @field_validator("local_provinces")
    @classmethod
    def _provinces(cls, value: list[str]) -> list[str]:
        return sorted({province_code(v) for v in value})


class RaceIn(RaceRules):
    day_id: Id
    code: Code
    name_zh: Name
    name_en: Name
    name_bo: OptionalText200 = ""
    award_category_id: Id | None = None
    species: Species = Species.HORSE
    distance_m: Annotated[int, Field(ge=50, le=100_000)]
    field_size: Annotated[int, Field(ge=1, le=500)]
    entries_open_at: AwareDatetime
    entries_close_at: AwareDatetime
    late_close_at: AwareDatetime | None = None
    registration_fee: Fen = Field(
        default=0, description="Minor units of the festival's currency; kept when withdrawing"
    )
    start_fee: Fen = 0
    late_fee: Fen = 0


class RaceUpdate(Input):
    """Only the fields sent change. Rules sent replace the old ones (null clears one)."""

    day_id: Id | None = None
    name_zh: Name | None = None
    name_en: Name | None = None
    name_bo: OptionalText200 | None = None
    award_category_id: Id | None = None
    distance_m: Annotated[int, Field(ge=50, le=100_000)] | None = None
    field_size: Annotated[int, Field(ge=1, le=500)] | None = None
    entries_open_at: AwareDatetime | None = None
    entries_close_at: AwareDatetime | None = None
    late_close_at: AwareDatetime | None = None
    registration_fee: Fen | None = None
    start_fee: Fen | None = None
    late_fee: Fen | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    age_reference_date: dt.date | None = None
    height_min_cm: HeightCm | None = None
    height_max_cm: HeightCm | None = None
    local_provinces: Annotated[list[str], Field(max_length=34)] | None = None
    local_counties: Annotated[list[Place], Field(max_length=100)] | None = None
    max_per_county: Annotated[int, Field(ge=1, le=500)] | None = None
    rider_min_age: Age | None = None
    rider_max_age: Age | None = None

    @field_validator("local_provinces")
    @classmethod
    def _provinces(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({province_code(v) for v in value})


class EntryIn(Input):
    race_id: Id
    horse_id: Id
    rider_id: Id


class WithdrawIn(Input):
    reason: Annotated[str, Field(max_length=300)] = ""


class InspectionIn(Input):
    """The pre-race inspection (验马): identity seen, height measured, rules re-checked."""

    passed: bool
    measured_height_cm: HeightCm | None = None
    note: Annotated[str, Field(max_length=300)] = ""


class ScratchIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=300)]


# --- responses --------------------------------------------------------------------------


class ProvinceRead(msgspec.Struct):
    code: str
    zh: str
    zh_full: str
    en: str
    kind: str


class RiderRead(msgspec.Struct):
    id: str
    owner_id: str
    name: str
    birth_date: dt.date
    guardian_name: str
    guardian_consent: bool


class OwnerRead(msgspec.Struct):
    id: str
    user_id: str | None
    name: str
    mobile: str
    province: str
    province_zh: str
    province_en: str
    county: str
    township: str
    riders: list[RiderRead]
    created_at: dt.datetime


class OwnerSignedUp(msgspec.Struct):
    owner: OwnerRead
    username: str
    access_token: str
    expires_at: dt.datetime
    role: str = "owner"
    token_type: str = "bearer"  # noqa: S105


class HorseRead(msgspec.Struct):
    id: str
    owner_id: str
    owner_name: str
    species: str
    name_zh: str
    name_bo: str
    name_en: str
    sex: str
    birth_year: int
    colour: str
    markings: str
    breed: str
    height_cm: int
    microchip: str | None
    passport_number: str | None
    origin_province: str
    created_at: dt.datetime


class FeesRead(msgspec.Struct):
    currency: str
    registration: int
    start: int
    late: int
    """Added for entries after the close, until the final close."""


class RulesRead(msgspec.Struct):
    age_min: int | None
    age_max: int | None
    age_reference_date: dt.date | None
    height_min_cm: int | None
    height_max_cm: int | None
    local_provinces: list[str]
    local_counties: list[str]
    max_per_county: int | None
    rider_min_age: int | None
    rider_max_age: int | None


class RaceRead(msgspec.Struct):
    id: str
    festival_id: str
    day_id: str
    date: dt.date
    award_category_id: str | None
    code: str
    name_zh: str
    name_en: str
    species: str
    distance_m: int
    field_size: int
    entered: int
    places_left: int
    waiting: int
    window: str
    """Now: not_open, open, late (with the late fee) or closed."""
    entries_open_at: dt.datetime
    entries_close_at: dt.datetime
    late_close_at: dt.datetime | None
    fees: FeesRead
    fee_now: int
    """What an entry made now owes (registration + start, + late when late)."""
    rules: RulesRead
    conditions: list[str]
    refund_policy: dict[str, str]
    name_bo: str = ""


class FeeRead(msgspec.Struct):
    currency: str
    registration: int
    start: int
    late: int
    total: int


class EntryRead(msgspec.Struct):
    id: str
    festival_id: str
    race_id: str
    race_code: str
    race_name_zh: str
    race_name_en: str
    race_date: dt.date
    horse_id: str
    horse_name: str
    rider_id: str
    rider_name: str
    owner_id: str
    owner_name: str
    province: str
    province_zh: str
    county: str
    status: EntryStatus
    waitlist_position: int | None
    source: str
    fee: FeeRead
    fee_due: int
    """The fee for this entry (registration + start + late), fixed when entering."""
    balance_due: int
    """What is still to pay now (0 once paid, and while on the waiting list)."""
    amount_paid: int
    amount_refunded: int
    currency: str
    payment_id: str | None
    checkout_url: str | None
    created_at: dt.datetime
    status_changed_at: dt.datetime


class EntryEventRead(msgspec.Struct):
    kind: str
    from_status: str | None
    to_status: str | None
    amount: int | None
    detail: str
    at: dt.datetime


class EntryDetail(EntryRead):
    history: list[EntryEventRead] = []


class RefundRead(msgspec.Struct):
    amount: int
    currency: str
    rule: str
    policy: str
    payment_id: str | None


class Withdrawal(msgspec.Struct):
    entry: EntryRead
    refund: RefundRead
    moved_up_entry_id: str | None
    """The waiting-list entry that took the freed place, if any."""


class RuleFailureRead(msgspec.Struct):
    code: str
    message: str


class InspectionResult(msgspec.Struct):
    entry: EntryRead
    passed: bool
    failures: list[RuleFailureRead]
    """The race's conditions the horse or rider failed at the inspection."""
    refund: RefundRead | None
    """When the entry was scratched: what goes back, by rule."""


class EntrySummary(msgspec.Struct):
    entries: int
    """Live entries: waiting, pending payment, confirmed, inspected."""
    horses: int
    provinces: int
    by_province: dict[str, int]
    """Live entries by the owner's province (Chinese short name)."""
    by_status: dict[str, int]
    """All entries by status, including withdrawn, scratched and cancelled."""
    by_race: dict[str, int]
    """Live entries by race code."""


class ImportProblem(msgspec.Struct):
    row: int
    """The spreadsheet row (the header is row 1)."""
    field: str
    message: str


class ImportCounts(msgspec.Struct):
    owners: int = 0
    horses: int = 0
    riders: int = 0
    entries: int = 0


class ImportReport(msgspec.Struct):
    dry_run: bool
    rows: int
    created: ImportCounts
    matched: ImportCounts
    waiting: int
    """Entries put on a waiting list because their race was full."""
    errors: list[ImportProblem]
    stored: bool
