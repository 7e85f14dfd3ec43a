"""Wire types of ticketing: requests are pydantic (every bad field named), responses msgspec."""

import datetime as dt
from typing import Annotated, Literal

import msgspec
from pydantic import Field, field_validator, model_validator

from events.schemas import Email, Input

Name = Annotated[str, Field(min_length=1, max_length=200)]
OptionalName = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=2000)]
Code = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_-]+$")]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Fen = Annotated[int, Field(ge=0, le=100_000_000, description="minor units (fen)")]
Phone = Annotated[str, Field(min_length=6, max_length=32, pattern=r"^\+?[0-9][0-9 -]{4,30}$")]
Reason = Annotated[str, Field(min_length=1, max_length=200)]
Audience = Literal["adult", "child"]
Locale = Literal["zh", "en", "bo"]
"""The buyer's page language; mail in Tibetan is not written yet: it comes in Chinese first."""


# --- enclosures -----------------------------------------------------------------------


class EnclosureCreate(Input):
    code: Code
    name_zh: Name
    name_en: Name
    parent_id: Id | None = Field(default=None, description="the enclosure this one lies in")
    allow_reentry: bool = False
    gate_ids: Annotated[list[Id], Field(max_length=50)] = Field(
        default=[], description="gates leading in; none: every gate"
    )


class EnclosureUpdate(Input):
    name_zh: Name | None = None
    name_en: Name | None = None
    allow_reentry: bool | None = None
    gate_ids: Annotated[list[Id], Field(max_length=50)] | None = None


class EnclosureRead(msgspec.Struct):
    id: str
    number: int
    code: str
    name_zh: str
    name_en: str
    parent_id: str | None
    allow_reentry: bool
    gate_ids: list[str]


# --- ticket types ---------------------------------------------------------------------


class TicketTypeCreate(Input):
    code: Code
    name_zh: Name
    name_en: Name
    name_bo: OptionalName = ""
    description_zh: Text = ""
    description_en: Text = ""
    enclosure_id: Id
    day_ids: Annotated[list[Id], Field(min_length=1, max_length=60)]
    audience: Audience = "adult"
    price: Fen
    sales_start: dt.datetime | None = None
    sales_end: dt.datetime | None = None
    max_per_order: Annotated[int, Field(ge=1, le=100)] = 10
    is_active: bool = True
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    capacity: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(
        default=None, description="shortcut: a quota for this type alone"
    )

    @model_validator(mode="after")
    def _window(self) -> "TicketTypeCreate":
        if self.sales_start and self.sales_end and self.sales_end <= self.sales_start:
            raise ValueError("sales_end must be after sales_start")
        return self


class TicketTypeUpdate(Input):
    """Only the fields sent change. Days and enclosure are fixed once the type has sold."""

    name_zh: Name | None = None
    name_en: Name | None = None
    name_bo: OptionalName | None = None
    description_zh: Text | None = None
    description_en: Text | None = None
    enclosure_id: Id | None = None
    day_ids: Annotated[list[Id], Field(min_length=1, max_length=60)] | None = None
    price: Fen | None = None
    sales_start: dt.datetime | None = None
    sales_end: dt.datetime | None = None
    max_per_order: Annotated[int, Field(ge=1, le=100)] | None = None
    is_active: bool | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class EnclosureBrief(msgspec.Struct):
    id: str
    number: int
    code: str
    name_zh: str
    name_en: str


class DayBrief(msgspec.Struct):
    id: str
    date: dt.date
    name_zh: str
    name_en: str


class TicketTypeRead(msgspec.Struct):
    id: str
    festival_id: str
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    kind: Literal["day", "pass"]
    audience: str
    enclosure: EnclosureBrief
    days: list[DayBrief]
    price: int
    currency: str
    sales_start: dt.datetime | None
    sales_end: dt.datetime | None
    max_per_order: int
    is_active: bool
    on_sale: bool
    """Active and inside its sales window now."""
    remaining: int
    """What can still be bought now: the smallest room left in its quotas."""
    name_bo: str = ""


# --- quotas ---------------------------------------------------------------------------


class QuotaCreate(Input):
    name: Name
    size: Annotated[int, Field(ge=0, le=10_000_000)]
    day_id: Id | None = None
    enclosure_id: Id | None = None
    ticket_type_id: Id | None = None


class QuotaUpdate(Input):
    name: Name | None = None
    size: Annotated[int, Field(ge=0, le=10_000_000)] | None = None


class QuotaRead(msgspec.Struct):
    id: str
    name: str
    size: int
    sold: int
    held: int
    available: int
    day_id: str | None
    enclosure_id: str | None
    ticket_type_id: str | None


# --- orders and tickets ---------------------------------------------------------------


class OrderItem(Input):
    ticket_type_id: Id
    quantity: Annotated[int, Field(ge=1, le=100)]


class OrderCreate(Input):
    email: Email | None = None
    phone: Phone | None = None
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=30)]
    locale: Locale = "zh"
    payment_provider: Literal["cash"] | None = Field(
        default=None, description="'cash': sold at the ticket office (organisers only)"
    )

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _contact(self) -> "OrderCreate":
        if not self.email and not self.phone:
            raise ValueError("give an email address or a phone number")
        return self


class OrderPlaced(msgspec.Struct):
    order_id: str
    status: str
    payment_id: str | None
    checkout_url: str | None
    access_token: str
    total: int
    currency: str
    expires_at: dt.datetime | None
    order_url: str
    """The buyer's page for this order (tickets, QR codes, PDFs)."""


class OrderLineRead(msgspec.Struct):
    ticket_type_id: str
    name_zh: str
    name_en: str
    quantity: int
    unit_price: int


class TicketRead(msgspec.Struct):
    id: str
    status: str
    ticket_type_id: str
    name_zh: str
    name_en: str
    audience: str
    enclosure: EnclosureBrief
    days: list[DayBrief]
    price: int
    currency: str
    serial: int
    token: str
    """The QR content (signed; see docs/tickets.md)."""
    name_bo: str = ""


class OrderRead(msgspec.Struct):
    id: str
    festival_id: str
    status: str
    email: str | None
    phone: str | None
    total: int
    currency: str
    payment_id: str | None
    checkout_url: str | None
    expires_at: dt.datetime | None
    created_at: dt.datetime
    paid_at: dt.datetime | None
    canceled_at: dt.datetime | None
    cancel_reason: str
    lines: list[OrderLineRead]
    tickets: list[TicketRead]


class OrderSummary(msgspec.Struct):
    id: str
    status: str
    email: str | None
    phone: str | None
    total: int
    currency: str
    tickets: int
    created_at: dt.datetime
    paid_at: dt.datetime | None


class OrderCancel(Input):
    reason: Reason = "canceled"
    admitted_ok: bool = False
    """Refund tickets of a paid order even if some were already used to enter."""


class TicketRefund(Input):
    reason: Reason
    admitted_ok: bool = False
    """Refund even though the ticket was already used to enter (else 409
    ``ticket_admitted``)."""


# --- keys -----------------------------------------------------------------------------


class SigningKeyRead(msgspec.Struct):
    kid: int
    public_key: str
    """Raw 32-byte Ed25519 public key, base64."""
    active: bool
    created_at: dt.datetime
    retired_at: dt.datetime | None


class RevocationRead(msgspec.Struct):
    id: int
    ticket_id: str
    serial: int
    kid: int
    reason: str
    revoked_at: dt.datetime


class TokenKeysRead(msgspec.Struct):
    festival_id: str
    keys: list[SigningKeyRead]
    revocations: list[RevocationRead]
    cursor: int
    """Pass it as ``since`` next time to get only newer revocations."""
