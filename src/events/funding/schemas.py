"""Wire types of funding. Amounts are integer fen (``*_fen`` or ``amount``) with a currency."""

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from pydantic import Field

from events.funding.models import (
    Direction,
    FundingRecord,
    FundingSource,
    Sponsor,
    SponsorInKind,
    SponsorTarget,
    SponsorTier,
)
from events.schemas import Input

Fen = Annotated[int, Field(gt=0, le=10**12, description="Integer fen, more than 0")]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class InKindIn(Input):
    description_zh: Text200
    description_en: Text200
    value_fen: Annotated[Fen, Field(description="Declared value in fen")]
    award_id: uuid.UUID | None = Field(default=None, description="The award it is given as, if any")
    received_on: dt.date | None = None


class SponsorIn(Input):
    name_zh: Text200
    name_en: Text200
    contact_name: Annotated[str, Field(max_length=100)] = ""
    contact_phone: Annotated[str, Field(max_length=40)] = ""
    contact_email: Annotated[str, Field(max_length=254)] = ""
    tier: SponsorTier
    target: SponsorTarget = SponsorTarget.FESTIVAL
    target_id: uuid.UUID | None = Field(
        default=None,
        description="The award category (target category) or award (target "
        "award) that carries the sponsor's name",
    )
    pledged_fen: Annotated[int, Field(ge=0, le=10**12, description="Money pledged, fen")] = 0
    pledged_on: dt.date | None = None
    due_on: dt.date | None = None
    note: Annotated[str, Field(max_length=1000)] = ""
    in_kind: Annotated[list[InKindIn], Field(max_length=50)] = []


class RecordIn(Input):
    """A receipt or a payment recorded by hand (automatic postings come from payments and
    prize payouts)."""

    source: Annotated[
        FundingSource,
        Field(description="self_raised, entry_fees, sponsorship, ticket_revenue or other"),
    ]
    direction: Direction = Direction.IN
    amount: Fen
    occurred_on: dt.date
    sponsor_id: uuid.UUID | None = None
    award_id: uuid.UUID | None = None
    reference: Annotated[str, Field(max_length=200)] = ""
    note: Annotated[str, Field(max_length=1000)] = ""


class ReversalIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    occurred_on: dt.date | None = Field(
        default=None, description="Default: today (festival's time zone)"
    )


class InKindRead(msgspec.Struct, kw_only=True):
    id: str
    description_zh: str
    description_en: str
    value_fen: int
    currency: str
    award_id: str | None
    received_on: dt.date | None


class SponsorRead(msgspec.Struct, kw_only=True):
    id: str
    festival_id: str
    name_zh: str
    name_en: str
    contact_name: str
    contact_phone: str
    contact_email: str
    tier: str
    target: str
    target_id: str | None
    pledged_fen: int
    currency: str
    pledged_on: dt.date | None
    due_on: dt.date | None
    note: str
    logo_url: str | None
    in_kind: list[InKindRead]
    in_kind_value_fen: int
    created_at: dt.datetime


class RecordRead(msgspec.Struct, kw_only=True):
    id: str
    festival_id: str
    source: str
    direction: str
    amount: int
    signed_amount: int
    """``amount`` for money in, ``-amount`` for money out."""
    currency: str
    occurred_on: dt.date
    origin: str
    sponsor_id: str | None
    payment_id: str | None
    award_id: str | None
    entitlement_id: str | None
    reverses_id: str | None
    reversed_by_id: str | None
    reference: str
    note: str
    recorded_by: str | None
    recorded_at: dt.datetime


class SourceTotal(msgspec.Struct, kw_only=True):
    source: str
    received_fen: int
    paid_out_fen: int
    net_fen: int
    records: int


class SponsorTotal(msgspec.Struct, kw_only=True):
    sponsor_id: str
    name_zh: str
    name_en: str
    tier: str
    pledged_fen: int
    received_fen: int
    outstanding_fen: int
    in_kind_value_fen: int


class PrizeMoney(msgspec.Struct, kw_only=True):
    committed_fen: int
    """The configured awards: prize money plus the declared value of prizes in kind."""
    committed_cash_fen: int
    committed_in_kind_fen: int
    owed_fen: int
    """Won in official results (results domain)."""
    paid_fen: int
    held_fen: int


class Coverage(msgspec.Struct, kw_only=True):
    income_fen: int
    """Net money received (every source but prize payouts; refunds and reversals off)."""
    pledged_outstanding_fen: int
    in_kind_contributed_fen: int
    cash_available_fen: int
    """income + pledged outstanding: what the cash prizes can be paid from."""
    cash_shortfall_fen: int
    """committed cash - cash available, when more than 0."""
    in_kind_shortfall_fen: int
    covered_bp: int
    """Share of the committed prizes covered, in basis points (10000 = all): cash available
    towards cash prizes plus contributions in kind towards prizes in kind."""


class FundingWarning(msgspec.Struct, kw_only=True):
    code: str
    detail: str
    amount_fen: int


class FundingSummary(msgspec.Struct, kw_only=True):
    festival_id: str
    currency: str
    amounts_unit: str
    received_fen: int
    """All money in (every record in, reversals of outflows included)."""
    paid_out_fen: int
    balance_fen: int
    """received - paid out: the money the festival holds."""
    records: int
    by_source: list[SourceTotal]
    by_sponsor: list[SponsorTotal]
    prize_money: PrizeMoney
    coverage: Coverage
    warnings: list[FundingWarning]


class StatementLine(msgspec.Struct, kw_only=True):
    id: str
    occurred_on: dt.date
    direction: str
    amount: int
    reference: str
    note: str
    reverses_id: str | None


class NamePlacement(msgspec.Struct, kw_only=True):
    kind: str
    """``festival``, ``category`` or ``award``."""
    name_zh: str
    name_en: str
    label_zh: str
    label_en: str
    prize_fen: int
    """The prize money of what the sponsor's name is on (the award, or the category's
    awards; 0 for the whole festival)."""


class SponsorStatement(msgspec.Struct, kw_only=True):
    festival_id: str
    festival_name_zh: str
    festival_name_en: str
    sponsor: SponsorRead
    pledged_fen: int
    received_fen: int
    outstanding_fen: int
    in_kind_value_fen: int
    lines: list[StatementLine]
    placements: list[NamePlacement]
    generated_at: dt.datetime


def in_kind_read(row: SponsorInKind) -> InKindRead:
    return InKindRead(
        id=str(row.id),
        description_zh=row.description_zh,
        description_en=row.description_en,
        value_fen=row.value_fen,
        currency=row.currency,
        award_id=str(row.award_id) if row.award_id else None,
        received_on=row.received_on,
    )


def sponsor_read(sponsor: Sponsor, in_kind: list[SponsorInKind]) -> SponsorRead:
    logo = (
        f"/api/v1/festivals/{sponsor.festival_id}/sponsors/{sponsor.id}/logo"
        if sponsor.logo_type
        else None
    )
    return SponsorRead(
        id=str(sponsor.id),
        festival_id=str(sponsor.festival_id),
        name_zh=sponsor.name_zh,
        name_en=sponsor.name_en,
        contact_name=sponsor.contact_name,
        contact_phone=sponsor.contact_phone,
        contact_email=sponsor.contact_email,
        tier=sponsor.tier,
        target=sponsor.target,
        target_id=str(sponsor.target_id) if sponsor.target_id else None,
        pledged_fen=sponsor.pledged_fen,
        currency=sponsor.currency,
        pledged_on=sponsor.pledged_on,
        due_on=sponsor.due_on,
        note=sponsor.note,
        logo_url=logo,
        in_kind=[in_kind_read(r) for r in in_kind],
        in_kind_value_fen=sum(r.value_fen for r in in_kind),
        created_at=sponsor.created_at,
    )


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def record_read(row: FundingRecord, reversed_by: uuid.UUID | None = None) -> RecordRead:
    return RecordRead(
        id=str(row.id),
        festival_id=str(row.festival_id),
        source=row.source,
        direction=row.direction,
        amount=row.amount,
        signed_amount=row.amount if row.direction == Direction.IN else -row.amount,
        currency=row.currency,
        occurred_on=row.occurred_on,
        origin=row.origin,
        sponsor_id=_id(row.sponsor_id),
        payment_id=_id(row.payment_id),
        award_id=_id(row.award_id),
        entitlement_id=_id(row.entitlement_id),
        reverses_id=_id(row.reverses_id),
        reversed_by_id=_id(reversed_by),
        reference=row.reference,
        note=row.note,
        recorded_by=_id(row.recorded_by),
        recorded_at=row.recorded_at,
    )
