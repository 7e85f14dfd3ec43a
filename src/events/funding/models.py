"""Sponsors, their contributions in kind, and the append-only funding ledger.

Amounts are integer fen with a ``currency``. A ledger record is never edited or deleted:
on PostgreSQL (and SQLite) a trigger refuses ``UPDATE`` and ``DELETE`` on
``funding_record``; a correction is a new record that ``reverses`` the wrong one.
"""

import datetime as dt
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, TimestampMixin, utc_field, utcnow


class FundingSource(StrEnum):
    SELF_RAISED = "self_raised"
    """The organiser's own funds."""
    ENTRY_FEES = "entry_fees"
    SPONSORSHIP = "sponsorship"
    TICKET_REVENUE = "ticket_revenue"
    OTHER = "other"
    PRIZE_PAYOUT = "prize_payout"
    """Prize money paid out (posted by the results domain, never by hand)."""


MANUAL_SOURCES = frozenset(s for s in FundingSource if s is not FundingSource.PRIZE_PAYOUT)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Origin(StrEnum):
    """How a record came to be."""

    MANUAL = "manual"
    PAYMENT = "payment"  # a confirmed payment (online or cash at the desk)
    REFUND = "refund"
    PAYOUT = "payout"
    REVERSAL = "reversal"


class SponsorTier(StrEnum):
    TITLE = "title"
    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"
    COMMUNITY = "community"
    IN_KIND = "in_kind"


class SponsorTarget(StrEnum):
    """What a sponsor's name is attached to: the whole festival, a category (race) or an
    award ("拉萨啤酒杯" / "Lhasa Beer Cup")."""

    FESTIVAL = "festival"
    CATEGORY = "category"
    AWARD = "award"


class Sponsor(IdMixin, TimestampMixin, table=True):
    __table_args__ = (
        sa.UniqueConstraint("festival_id", "name_zh"),
        sa.CheckConstraint("pledged_fen >= 0", name="pledge_not_negative"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=254)
    tier: SponsorTier = Field(sa_type=sa.String(16))
    target: SponsorTarget = Field(sa_type=sa.String(16))
    target_id: uuid.UUID | None = Field(default=None, index=True)
    """The award category or award (awards domain) when ``target`` names one."""
    pledged_fen: int = Field(default=0, sa_type=sa.BigInteger)
    """Money promised (in kind is separate, in ``sponsor_in_kind``)."""
    currency: str = Field(max_length=3)
    pledged_on: dt.date | None = Field(default=None)
    due_on: dt.date | None = Field(default=None)
    """When the pledged money is expected."""
    note: str = Field(default="", max_length=1000)
    logo: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    logo_type: str | None = Field(default=None, max_length=32)
    recorded_by: uuid.UUID | None = Field(default=None)


class SponsorInKind(IdMixin, table=True):
    """A contribution in kind (a motorcycle for a prize) and its declared value."""

    __tablename__ = "sponsor_in_kind"
    __table_args__ = (sa.CheckConstraint("value_fen > 0", name="value_positive"),)

    sponsor_id: uuid.UUID = Field(foreign_key="sponsor.id", index=True)
    description_zh: str = Field(max_length=200)
    description_en: str = Field(max_length=200)
    value_fen: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    award_id: uuid.UUID | None = Field(default=None)
    """The award it is given as, when known (awards domain)."""
    received_on: dt.date | None = Field(default=None)
    position: int = Field(default=1)


class FundingRecord(IdMixin, table=True):
    """One movement of money. Append-only: the database refuses UPDATE and DELETE."""

    __tablename__ = "funding_record"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_funding_record_festival_date", "festival_id", "occurred_on"),
    )

    festival_id: uuid.UUID = Field(foreign_key="festival.id")
    source: FundingSource = Field(sa_type=sa.String(16), index=True)
    direction: Direction = Field(sa_type=sa.String(4))
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    occurred_on: dt.date
    """The day the money moved (festival's time zone)."""
    origin: Origin = Field(sa_type=sa.String(16))
    sponsor_id: uuid.UUID | None = Field(default=None, foreign_key="sponsor.id", index=True)
    payment_id: uuid.UUID | None = Field(default=None, index=True)
    """The payment (payments domain) that moved the money."""
    award_id: uuid.UUID | None = Field(default=None, index=True)
    entitlement_id: uuid.UUID | None = Field(default=None, index=True)
    """The prize entitlement (results domain) a payout settled."""
    reverses_id: uuid.UUID | None = Field(
        default=None, foreign_key="funding_record.id", unique=True
    )
    """The record this one reverses; a record is reversed at most once."""
    event_key: str | None = Field(default=None, max_length=120, unique=True)
    """What posted it automatically (``payment:<id>:received``): posted once only."""
    reference: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)
    recorded_by: uuid.UUID | None = Field(default=None)
    recorded_at: dt.datetime = utc_field(default_factory=utcnow)
