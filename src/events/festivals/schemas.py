"""Wire types of festivals."""

import datetime as dt
from typing import Annotated

import msgspec
from pydantic import Field

from events.schemas import Input

Name = Annotated[str, Field(min_length=1, max_length=200)]
OptionalName = Annotated[str, Field(max_length=200)]
Slug = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="lower-case letters, digits and hyphens",
    ),
]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
TimeZone = Annotated[
    str, Field(min_length=1, max_length=64, description="IANA time zone, e.g. Asia/Shanghai")
]
Text = Annotated[str, Field(max_length=10_000)]


class DayIn(Input):
    date: dt.date
    name_zh: OptionalName = ""
    name_en: OptionalName = ""


class MeetingIn(Input):
    name_zh: Name
    name_en: Name
    days: Annotated[list[DayIn], Field(min_length=1, max_length=60)]


class GateIn(Input):
    code: Code
    name_zh: Name
    name_en: Name


class FestivalCreate(Input):
    slug: Slug
    name_zh: Name
    name_en: Name
    name_bo: OptionalName = ""
    timezone: TimeZone = "Asia/Shanghai"
    currency: Currency = "CNY"
    venue_zh: OptionalName = ""
    venue_en: OptionalName = ""
    venue_bo: OptionalName = ""
    description_zh: Text = ""
    description_en: Text = ""
    meetings: Annotated[list[MeetingIn], Field(max_length=20)] = []
    gates: Annotated[list[GateIn], Field(max_length=100)] = []


class FestivalUpdate(Input):
    """Only the fields sent are changed."""

    name_zh: Name | None = None
    name_en: Name | None = None
    name_bo: OptionalName | None = None
    timezone: TimeZone | None = None
    currency: Currency | None = None
    venue_zh: OptionalName | None = None
    venue_en: OptionalName | None = None
    venue_bo: OptionalName | None = None
    description_zh: Text | None = None
    description_en: Text | None = None


class GateUpdate(Input):
    name_zh: Name | None = None
    name_en: Name | None = None


class DayRead(msgspec.Struct):
    id: str
    date: dt.date
    name_zh: str
    name_en: str


class MeetingRead(msgspec.Struct):
    id: str
    position: int
    name_zh: str
    name_en: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    days: list[DayRead]


class GateRead(msgspec.Struct):
    id: str
    code: str
    name_zh: str
    name_en: str


class FestivalSummary(msgspec.Struct):
    id: str
    slug: str
    name_zh: str
    name_en: str
    timezone: str
    currency: str
    venue_zh: str
    venue_en: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    name_bo: str = ""
    venue_bo: str = ""


class FestivalRead(msgspec.Struct):
    id: str
    slug: str
    name_zh: str
    name_en: str
    timezone: str
    currency: str
    venue_zh: str
    venue_en: str
    description_zh: str
    description_en: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    meetings: list[MeetingRead]
    gates: list[GateRead]
    created_at: dt.datetime
    updated_at: dt.datetime
    name_bo: str = ""
    venue_bo: str = ""
