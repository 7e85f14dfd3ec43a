"""A festival has meetings (e.g. the April and July meetings), each with race days, and gates."""

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlmodel import Field

from events.db.base import IdMixin, TimestampMixin, table_of


class Festival(IdMixin, TimestampMixin, table=True):
    slug: str = Field(max_length=64, unique=True, index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    name_bo: str = Field(default="", max_length=200)
    """Tibetan, shown on the pages in Tibetan when set (else the Chinese)."""
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    currency: str = Field(default="CNY", max_length=3)
    venue_zh: str = Field(default="", max_length=200)
    venue_en: str = Field(default="", max_length=200)
    venue_bo: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", sa_type=sa.Text)
    description_en: str = Field(default="", sa_type=sa.Text)


class Meeting(IdMixin, table=True):
    __table_args__ = (sa.UniqueConstraint("festival_id", "position"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    position: int = Field(ge=1)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)


class FestivalDay(IdMixin, table=True):
    """One calendar day of a meeting, in the festival's own time zone."""

    __tablename__ = "festival_day"
    __table_args__ = (sa.UniqueConstraint("festival_id", "date"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    date: dt.date
    name_zh: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)


class Gate(IdMixin, table=True):
    __table_args__ = (sa.UniqueConstraint("festival_id", "code"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=32)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)


# Typed Core handles, published for the read-only joins of other domains' hot paths.
FESTIVAL = table_of(Festival)
FESTIVAL_DAY = table_of(FestivalDay)
GATE = table_of(Gate)
