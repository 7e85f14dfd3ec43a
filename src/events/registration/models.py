"""Owners, their riders and horses, races, entries and their history.

An entry is one horse-rider pair in one race (DOMAIN rule 1). ``race.entered`` counts the
places held (pending payment, confirmed, inspected) and is what decides a place: it only
ever moves under the race's row lock, and a check constraint keeps it within the field.
Money is integer fen with its currency; times are UTC.
"""

import datetime as dt
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, TimestampMixin, utc_field, utcnow


class Species(StrEnum):
    HORSE = "horse"
    YAK = "yak"


class HorseSex(StrEnum):
    STALLION = "stallion"
    GELDING = "gelding"
    MARE = "mare"


class EntryStatus(StrEnum):
    WAITING = "waiting"
    """The race is full: on the waiting list, moved up in order when a place frees."""
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    INSPECTED = "inspected"
    """Passed the pre-race inspection (验马): identity and eligibility checked again."""
    WITHDRAWN = "withdrawn"
    """By the owner (or the organiser on their behalf)."""
    SCRATCHED = "scratched"
    """By the organiser: failed inspection, vet or stewards."""
    CANCELED = "canceled"
    """The fee was not paid: the payment failed or expired and the place was released."""


HOLDS_PLACE = (EntryStatus.PENDING_PAYMENT, EntryStatus.CONFIRMED, EntryStatus.INSPECTED)
ACTIVE = (EntryStatus.WAITING, *HOLDS_PLACE)
_ACTIVE_SQL = "status IN ('waiting', 'pending_payment', 'confirmed', 'inspected')"


class EntrySource(StrEnum):
    ONLINE = "online"
    IMPORT = "import"


class Owner(IdMixin, TimestampMixin, table=True):
    """A horse owner: their account (none for owners a delegation imported) and home."""

    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", unique=True, ondelete="SET NULL"
    )
    name: str = Field(max_length=100)
    mobile: str = Field(max_length=11, unique=True, index=True)
    """Eleven digits, normalised (no +86)."""
    province: str = Field(max_length=2, index=True)
    """ISO 3166-2:CN code, see ``registration.provinces``."""
    county: str = Field(max_length=100)
    township: str = Field(default="", max_length=100)


class Rider(IdMixin, TimestampMixin, table=True):
    __table_args__ = (sa.UniqueConstraint("owner_id", "name", "birth_date"),)

    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    birth_date: dt.date
    guardian_name: str = Field(default="", max_length=100)
    guardian_consent: bool = Field(default=False)
    """Needed for riders under 18 (DOMAIN rule 2)."""


class Horse(IdMixin, TimestampMixin, table=True):
    """A horse (or a yak, for the yak race) with a stable identity (DOMAIN rule 1)."""

    __table_args__ = (
        sa.Index("ix_horse_owner_name_year", "owner_id", "name_zh", "birth_year"),
        sa.CheckConstraint("height_cm > 0", name="height_positive"),
    )

    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True, ondelete="CASCADE")
    species: Species = Field(default=Species.HORSE, sa_type=sa.String(8))
    name_zh: str = Field(max_length=100)
    name_bo: str = Field(default="", max_length=100)
    name_en: str = Field(default="", max_length=100)
    sex: HorseSex = Field(sa_type=sa.String(12))
    birth_year: int
    colour: str = Field(default="", max_length=50)
    markings: str = Field(default="", max_length=200)
    breed: str = Field(default="", max_length=100)
    height_cm: int
    """Shoulder (withers) height."""
    microchip: str | None = Field(default=None, max_length=15, unique=True)
    passport_number: str | None = Field(default=None, max_length=50)
    origin_province: str = Field(max_length=2, index=True)


class Race(IdMixin, TimestampMixin, table=True):
    """A race of a festival day, its entry window, fees and eligibility conditions."""

    __tablename__ = "race"
    __table_args__ = (
        sa.UniqueConstraint("festival_id", "code"),
        sa.CheckConstraint("entered >= 0 AND entered <= field_size", name="entered_within_field"),
        sa.CheckConstraint("field_size > 0", name="field_size_positive"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    day_id: uuid.UUID = Field(foreign_key="festival_day.id", index=True)
    award_category_id: uuid.UUID | None = Field(default=None, index=True)
    """The award category the race is run for (``award_category.id``); not a foreign key
    so that registration does not depend on the awards migrations."""
    code: str = Field(max_length=32)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    name_bo: str = Field(default="", max_length=200)
    """Tibetan, shown on the owners' pages in Tibetan when set."""
    species: Species = Field(default=Species.HORSE, sa_type=sa.String(8))
    distance_m: int
    field_size: int
    entered: int = Field(default=0)
    """Places held: entries pending payment, confirmed or inspected."""
    waitlist_seq: int = Field(default=0)
    """The last waiting-list number handed out."""

    entries_open_at: dt.datetime = utc_field()
    entries_close_at: dt.datetime = utc_field()
    late_close_at: dt.datetime | None = utc_field(nullable=True, default=None)
    """Late entries, with the late fee, until this final close."""

    currency: str = Field(default="CNY", max_length=3)
    registration_fee: int = Field(default=0, sa_type=sa.BigInteger)
    start_fee: int = Field(default=0, sa_type=sa.BigInteger)
    late_fee: int = Field(default=0, sa_type=sa.BigInteger)

    age_min: int | None = None
    age_max: int | None = None
    age_reference_date: dt.date | None = None
    """Horse ages are counted as of this date (default: the race day)."""
    height_min_cm: int | None = None
    height_max_cm: int | None = None
    local_provinces: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """Local horses only: the horse's province of origin must be one of these codes."""
    local_counties: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """Local owners only: the owner's county must be one of these names."""
    max_per_county: int | None = None
    """At most this many horses per county (of the owner) in the race."""
    rider_min_age: int | None = None
    rider_max_age: int | None = None


class Entry(IdMixin, TimestampMixin, table=True):
    __table_args__ = (
        sa.Index(
            "uq_entry_active_horse",
            "race_id",
            "horse_id",
            unique=True,
            postgresql_where=sa.text(_ACTIVE_SQL),
            sqlite_where=sa.text(_ACTIVE_SQL),
        ),
        sa.UniqueConstraint("race_id", "waitlist_position"),
        sa.CheckConstraint(
            "fee_due >= 0 AND amount_paid >= 0 AND amount_refunded >= 0", name="money_not_negative"
        ),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    horse_id: uuid.UUID = Field(foreign_key="horse.id", index=True)
    rider_id: uuid.UUID = Field(foreign_key="rider.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True)
    status: EntryStatus = Field(sa_type=sa.String(20), index=True)
    source: EntrySource = Field(default=EntrySource.ONLINE, sa_type=sa.String(12))
    province: str = Field(max_length=2, index=True)
    """The owner's province when entering (delegations are counted by it)."""
    county: str = Field(max_length=100)
    waitlist_position: int | None = None

    currency: str = Field(max_length=3)
    registration_fee: int = Field(sa_type=sa.BigInteger)
    start_fee: int = Field(sa_type=sa.BigInteger)
    late_fee: int = Field(default=0, sa_type=sa.BigInteger)
    fee_due: int = Field(sa_type=sa.BigInteger)
    """registration + start (+ late), fixed when entering."""
    amount_paid: int = Field(default=0, sa_type=sa.BigInteger)
    amount_refunded: int = Field(default=0, sa_type=sa.BigInteger)
    payment_id: uuid.UUID | None = Field(default=None, index=True)
    """The payment for the fee (``payment.id``, payments domain)."""
    checkout_url: str | None = Field(default=None, sa_type=sa.Text)
    """Where the owner pays that payment (shown while the fee is due)."""
    status_changed_at: dt.datetime = utc_field(default_factory=utcnow)


class EntryEventKind(StrEnum):
    ENTERED = "entered"
    STATUS = "status"
    PAYMENT_STARTED = "payment_started"
    PAID = "paid"
    REFUNDED = "refunded"
    INSPECTION = "inspection"


class EntryEvent(IdMixin, table=True):
    """One thing that happened to an entry. Append-only: never updated, never deleted."""

    __tablename__ = "entry_event"

    entry_id: uuid.UUID = Field(foreign_key="entry.id", index=True, ondelete="CASCADE")
    kind: EntryEventKind = Field(sa_type=sa.String(20))
    from_status: str | None = Field(default=None, sa_type=sa.String(20))
    to_status: str | None = Field(default=None, sa_type=sa.String(20))
    amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    detail: str = Field(default="", max_length=500)
    actor_id: uuid.UUID | None = None
    at: dt.datetime = utc_field(default_factory=utcnow)


class EntryRequest(IdMixin, table=True):
    """An ``Idempotency-Key`` used to create an entry, with the answer given, for replays."""

    __tablename__ = "entry_request"
    __table_args__ = (sa.UniqueConstraint("actor_id", "key"),)

    actor_id: uuid.UUID
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    """SHA-256 of the request body: the same key with another body is refused."""
    entry_id: uuid.UUID | None = Field(default=None, foreign_key="entry.id", ondelete="CASCADE")
    response: str = Field(default="", sa_type=sa.Text)
    created_at: dt.datetime = utc_field(default_factory=utcnow)
