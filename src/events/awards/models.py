"""Award categories, awards with their prizes, payee splits, and the festival's prize list.

Money is integer fen (``*_fen``) with the ``currency`` of the award; see
``events.awards.allocation`` for how a category's place awards are paid out.
"""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from events.db.base import IdMixin, TimestampMixin, utc_field, utcnow


class RankingMethod(StrEnum):
    """How a category (or a special award) decides its order."""

    FINISH_ORDER = "finish_order"
    TIME = "time"
    GAIT_LEGAL_TIME = "gait_legal_time"  # 走马: time, only for starters whose gait was legal
    COUNT = "count"  # khatas picked up, arrows on target
    JUDGES_SCORE = "judges_score"
    POINTS = "points"  # points across races (the horse king, 马王)


class Payee(StrEnum):
    """Who may receive a fixed part of a prize; the owner receives the rest."""

    RIDER = "rider"
    TRAINER = "trainer"
    STABLE = "stable"
    OTHER = "other"


class PrizeListStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # advertised; still editable
    LOCKED = "locked"  # frozen: no edits (by the organiser, or when results are official)


class LockReason(StrEnum):
    ORGANISER = "organiser"
    RESULTS_OFFICIAL = "results_official"


class AwardCategory(IdMixin, TimestampMixin, table=True):
    __tablename__ = "award_category"
    __table_args__ = (sa.UniqueConstraint("festival_id", "code"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=32)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    ranked_by: RankingMethod = Field(sa_type=sa.String(24))
    display_order: int = Field(default=1)
    sponsor_label_zh: str | None = Field(default=None, max_length=200)
    """Sponsor naming, e.g. 拉萨啤酒杯; a later issue links the sponsor record."""
    sponsor_label_en: str | None = Field(default=None, max_length=200)


class Award(IdMixin, TimestampMixin, table=True):
    """One award: a place in its category's prize table, or a named special award."""

    __table_args__ = (sa.UniqueConstraint("category_id", "place"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    category_id: uuid.UUID = Field(foreign_key="award_category.id", index=True, ondelete="CASCADE")
    place: int | None = Field(default=None)
    """1..N, unique and contiguous in the category; None for a named special award."""
    position: int = Field(default=1)
    """Order within the category (special awards keep the order they were given in)."""
    name_zh: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    ranked_by: RankingMethod | None = Field(default=None, sa_type=sa.String(24))
    """When this award is decided differently from its category (the horse king on
    points in a judged special-awards category)."""
    prize_fen: int = Field(default=0, sa_type=sa.BigInteger)
    """Prize money in fen."""
    currency: str = Field(default="CNY", max_length=3)
    in_kind_zh: str = Field(default="", max_length=200)
    in_kind_en: str = Field(default="", max_length=200)
    in_kind_value_fen: int = Field(default=0, sa_type=sa.BigInteger)
    """Declared value of the prize in kind, in fen."""


class AwardPayeeShare(IdMixin, table=True):
    """A fixed part of an award's prize money for someone other than the owner
    (a champion's 150,000 of which 20,000 to the rider)."""

    __tablename__ = "award_payee_share"
    __table_args__ = (sa.UniqueConstraint("award_id", "payee"),)

    award_id: uuid.UUID = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    payee: Payee = Field(sa_type=sa.String(16))
    amount_fen: int = Field(sa_type=sa.BigInteger)


class PrizeList(SQLModel, table=True):
    """A festival's prize list as a whole: publication, lock and withholding rule.

    Created on first use; a festival without a row has a draft list and no withholding.
    """

    __tablename__ = "prize_list"

    festival_id: uuid.UUID = Field(foreign_key="festival.id", primary_key=True, ondelete="CASCADE")
    status: PrizeListStatus = Field(default=PrizeListStatus.DRAFT, sa_type=sa.String(16))
    published_at: datetime | None = utc_field(nullable=True, default=None)
    locked_at: datetime | None = utc_field(nullable=True, default=None)
    lock_reason: LockReason | None = Field(default=None, sa_type=sa.String(24))
    withholding_enabled: bool = Field(default=False)
    withholding_rate_bp: int = Field(default=2000)
    """Basis points: 2000 = 20 %."""
    withholding_threshold_fen: int = Field(default=1_000_000, sa_type=sa.BigInteger)
    """Prizes of this amount or more are subject to withholding (1,000,000 fen = 10,000
    yuan)."""
    updated_at: datetime = utc_field(default_factory=utcnow)
