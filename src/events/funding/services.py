"""Sponsors and the funding ledger: rules, postings, the summary and the coverage of the
prize list.

Rules:
- The ledger is append-only. A record's ``amount`` is more than 0 and its ``direction``
  says which way the money went; a correction is a new record in the other direction that
  names the record it ``reverses`` (a record is reversed once, and a reversal is not
  reversed). The database refuses ``UPDATE`` and ``DELETE`` on the table (a trigger).
- Automatic postings carry an ``event_key`` (unique): a confirmed payment
  (``payment:<id>:received``), a refund (``payment:<id>:refund:<refunded total after>``)
  and a prize payout (``payout:<entitlement id>``) post once, however often and however
  concurrently they are delivered (``INSERT ... ON CONFLICT DO NOTHING``).
- Payments are heard through ``events.payments.fulfilment.register_ledger`` (registered
  when this module is imported), inside the payment's own transaction: cash taken at the
  desk is a payment too.
- Prize money owed and paid comes from the results domain through
  ``use_prize_money_provider``; prize money committed is the configured awards' total.

Nothing here commits: the request (or ``Database.transaction()``) does.
"""

import datetime as dt
import io
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards.categories import CategoryService
from events.awards.prize_list import PrizeListService
from events.awards.prizes import AwardService
from events.db.base import utcnow
from events.db.upsert import insert_once
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals import services as festival_services
from events.festivals.models import Festival
from events.funding import schemas
from events.funding.models import (
    MANUAL_SOURCES,
    Direction,
    FundingRecord,
    FundingSource,
    Origin,
    Sponsor,
    SponsorInKind,
    SponsorTarget,
)
from events.ids import parse_id
from events.payments import fulfilment
from events.payments import services as payment_services
from events.payments.fulfilment import LedgerEvent, PaymentView

LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 4096
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

SOURCE_OF_PURPOSE = {
    payment_services.PaymentPurpose.ENTRY_FEE.value: FundingSource.ENTRY_FEES,
    payment_services.PaymentPurpose.TICKET_ORDER.value: FundingSource.TICKET_REVENUE,
}


def signed(record: FundingRecord) -> int:
    return record.amount if record.direction == Direction.IN else -record.amount


def festival_today(festival: Festival, at: dt.datetime | None = None) -> dt.date:
    return (at or utcnow()).astimezone(ZoneInfo(festival.timezone)).date()


# --- prize money owed and paid (results domain) ------------------------------------------


class PrizeMoneyLike(Protocol):
    """What ``events.results.payouts.prize_money_totals`` answers (fen)."""

    @property
    def owed(self) -> int: ...

    @property
    def paid(self) -> int: ...

    @property
    def held(self) -> int: ...

    @property
    def currency(self) -> str: ...


@dataclass(frozen=True, slots=True)
class PrizeMoneyTotals:
    owed: int
    paid: int
    held: int
    currency: str


PrizeMoneyProvider = Callable[[AsyncSession, uuid.UUID], Awaitable[PrizeMoneyLike]]


async def no_prize_money(session: AsyncSession, festival_id: uuid.UUID) -> PrizeMoneyLike:
    """Until the results domain is wired in, nothing is owed and nothing paid.

    Results replaces this at import with ``use_prize_money_provider(prize_money_totals)``
    (``events.results.payouts``), which counts entitlements of official results.
    """
    festival = await festival_services.FestivalService(session).get(festival_id)
    return PrizeMoneyTotals(owed=0, paid=0, held=0, currency=festival.currency)


_prize_money: list[PrizeMoneyProvider] = [no_prize_money]


def use_prize_money_provider(provider: PrizeMoneyProvider) -> None:
    """Make ``provider`` (``async (session, festival_id) -> totals``) the source of prize
    money owed, paid and held."""
    _prize_money[0] = provider


def prize_money_provider() -> PrizeMoneyProvider:
    return _prize_money[0]


# --- automatic postings ------------------------------------------------------------------


async def _post_once(session: AsyncSession, record: FundingRecord) -> bool:
    """Insert an automatic record unless its ``event_key`` was already posted."""
    return await insert_once(session, record)


async def post_payment(
    session: AsyncSession, payment: PaymentView, event: LedgerEvent, amount: int
) -> None:
    """The payments ledger hook: a confirmed payment is income, a refund an outflow.

    Registered with ``fulfilment.register_ledger``; runs in the payment's transaction.
    """
    if amount <= 0:
        return
    festival = await festival_services.FestivalService(session).get(payment.festival_id)
    source = SOURCE_OF_PURPOSE.get(payment.purpose, FundingSource.OTHER)
    how = (
        "cash at the desk"
        if payment.provider == payment_services.Provider.CASH
        else f"{payment.provider} payment"
    )
    if event == LedgerEvent.RECEIVED:
        key, direction, origin = f"payment:{payment.id}:received", Direction.IN, Origin.PAYMENT
        note = f"{payment.purpose}: {how}"
    else:
        key = f"payment:{payment.id}:refund:{payment.amount_refunded}"
        direction, origin = Direction.OUT, Origin.REFUND
        note = f"{payment.purpose}: refund ({payment.amount_refunded} refunded in all)"
    await _post_once(
        session,
        FundingRecord(
            festival_id=payment.festival_id,
            source=source,
            direction=direction,
            amount=amount,
            currency=payment.currency,
            occurred_on=festival_today(festival),
            origin=origin,
            payment_id=payment.id,
            event_key=key,
            reference=f"payment {payment.id}",
            note=note,
        ),
    )


fulfilment.register_ledger(post_payment)


async def post_prize_payout(
    session: AsyncSession,
    *,
    festival_id: uuid.UUID,
    entitlement_id: uuid.UUID,
    award_id: uuid.UUID | None,
    amount: int,
    currency: str,
    paid_at: dt.datetime,
    reference: str,
    recorded_by: uuid.UUID | None,
) -> bool:
    """A prize entitlement was marked paid: post the outflow, once per entitlement.

    Meant as the results domain's payout listener (``PayoutPaid`` carries these fields).
    Returns False when this entitlement was already posted.
    """
    if isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed([FieldError("amount", "A positive whole number of fen.")])
    festival = await festival_services.FestivalService(session).get(festival_id)
    if currency.upper() != festival.currency:
        raise ValidationFailed(
            [FieldError("currency", f"This festival keeps its books in {festival.currency}.")]
        )
    return await _post_once(
        session,
        FundingRecord(
            festival_id=festival_id,
            source=FundingSource.PRIZE_PAYOUT,
            direction=Direction.OUT,
            amount=amount,
            currency=festival.currency,
            occurred_on=festival_today(festival, paid_at),
            origin=Origin.PAYOUT,
            award_id=award_id,
            entitlement_id=entitlement_id,
            event_key=f"payout:{entitlement_id}",
            reference=reference[:200],
            note="prize money paid",
            recorded_by=recorded_by,
        ),
    )


class PayoutLike(Protocol):
    """What ``events.results.payouts.PayoutPaid`` carries."""

    @property
    def entitlement_id(self) -> uuid.UUID: ...

    @property
    def festival_id(self) -> uuid.UUID: ...

    @property
    def award_id(self) -> uuid.UUID | None: ...

    @property
    def amount(self) -> int: ...

    @property
    def currency(self) -> str: ...

    @property
    def paid_at(self) -> dt.datetime: ...

    @property
    def reference(self) -> str: ...

    @property
    def recorded_by(self) -> uuid.UUID | None: ...


async def on_payout_paid(session: AsyncSession, paid: PayoutLike) -> None:
    """The results domain's payout listener (``register_payout_listener(on_payout_paid)``):
    awaited inside the mark-paid transaction, it posts the outflow once."""
    await post_prize_payout(
        session,
        festival_id=paid.festival_id,
        entitlement_id=paid.entitlement_id,
        award_id=paid.award_id,
        amount=paid.amount,
        currency=paid.currency,
        paid_at=paid.paid_at,
        reference=paid.reference,
        recorded_by=paid.recorded_by,
    )


# --- sponsor naming, for results and the overlay -----------------------------------------


@dataclass(frozen=True, slots=True)
class SponsorName:
    sponsor_id: uuid.UUID
    name_zh: str
    name_en: str

    @property
    def cup_zh(self) -> str:
        return f"{self.name_zh}杯"

    @property
    def cup_en(self) -> str:
        return f"{self.name_en} Cup"


async def sponsor_names_for(
    session: AsyncSession, festival_id: uuid.UUID
) -> dict[uuid.UUID, SponsorName]:
    """Award id or award category id -> the sponsor whose name it carries ("XX Cup").

    When several sponsors name the same thing, the first recorded wins.
    """
    rows = (
        await session.exec(
            select(Sponsor.id, Sponsor.target_id, Sponsor.name_zh, Sponsor.name_en)
            .where(
                Sponsor.festival_id == festival_id,
                col(Sponsor.target).in_([SponsorTarget.CATEGORY, SponsorTarget.AWARD]),
                col(Sponsor.target_id).is_not(None),
            )
            .order_by(col(Sponsor.created_at), col(Sponsor.id))
        )
    ).all()
    names: dict[uuid.UUID, SponsorName] = {}
    for sponsor_id, target_id, zh, en in rows:
        assert target_id is not None
        names.setdefault(target_id, SponsorName(sponsor_id, zh, en))
    return names


# --- logos -------------------------------------------------------------------------------


def check_logo(body: bytes) -> str:
    """The logo's media type, when ``body`` decodes as a PNG, JPEG or WebP image of
    reasonable size; otherwise 422 naming ``logo``."""
    if not body:
        raise ValidationFailed(
            [FieldError("logo", "Send the image as the request body.")], code="logo_missing"
        )
    if len(body) > LOGO_MAX_BYTES:
        raise ValidationFailed(
            [FieldError("logo", f"At most {LOGO_MAX_BYTES // 1024} KiB ({len(body)} bytes sent).")],
            code="logo_too_large",
        )
    from PIL import Image, UnidentifiedImageError  # only when a logo is uploaded

    try:
        with Image.open(io.BytesIO(body)) as image:
            kind = image.format or ""
            width, height = image.size
            if kind not in LOGO_FORMATS:
                raise ValueError(kind)
            if max(width, height) > LOGO_MAX_SIDE:
                raise ValidationFailed(
                    [FieldError("logo", f"At most {LOGO_MAX_SIDE} pixels a side.")],
                    code="logo_too_large",
                )
            image.load()  # decode it all: a truncated or forged file fails here
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError) as exc:
        raise ValidationFailed(
            [FieldError("logo", "A PNG, JPEG or WebP image.")], code="logo_not_an_image"
        ) from exc
    return LOGO_FORMATS[kind]


# --- the service -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordFilters:
    source: FundingSource | None = None
    direction: Direction | None = None
    sponsor_id: str | None = None
    origin: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    festival: Festival
    read: schemas.SponsorStatement


class FundingService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def festival(self, festival_id: str | uuid.UUID) -> Festival:
        return await festival_services.FestivalService(self.session).get(festival_id)

    # --- sponsors -----------------------------------------------------------------------

    async def _check_target(self, festival: Festival, data: schemas.SponsorIn) -> None:
        awards = AwardService(self.session)
        categories = CategoryService(self.session)
        if data.target == SponsorTarget.FESTIVAL:
            if data.target_id is not None:
                raise ValidationFailed(
                    [FieldError("target_id", "A festival-wide sponsor names no category or award.")]
                )
            return
        if data.target_id is None:
            raise ValidationFailed(
                [FieldError("target_id", f"Name the {data.target} this sponsor's name is on.")]
            )
        try:
            if data.target == SponsorTarget.CATEGORY:
                await categories.get_category(festival.id, str(data.target_id))
            else:
                await awards.get_award(festival.id, str(data.target_id))
        except NotFound as exc:
            raise ValidationFailed(
                [FieldError("target_id", exc.detail)], code="unknown_target"
            ) from exc

    async def create_sponsor(
        self, festival_id: str, data: schemas.SponsorIn, *, actor_id: uuid.UUID | None
    ) -> tuple[Sponsor, list[SponsorInKind]]:
        festival = await self.festival(festival_id)
        await self._check_target(festival, data)
        awards = AwardService(self.session)
        for index, item in enumerate(data.in_kind):
            if item.award_id is not None:
                try:
                    await awards.get_award(festival.id, str(item.award_id))
                except NotFound as exc:
                    raise ValidationFailed(
                        [FieldError(f"in_kind.{index}.award_id", exc.detail)], code="unknown_target"
                    ) from exc
        if data.pledged_on and data.due_on and data.due_on < data.pledged_on:
            raise ValidationFailed([FieldError("due_on", "Due on or after the pledge.")])
        taken = (
            await self.session.exec(
                select(Sponsor.id).where(
                    Sponsor.festival_id == festival.id, Sponsor.name_zh == data.name_zh
                )
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"This festival already has a sponsor named {data.name_zh!r}.",
                code="sponsor_exists",
                sponsor_id=str(taken),
            )
        sponsor = Sponsor(
            festival_id=festival.id,
            name_zh=data.name_zh,
            name_en=data.name_en,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            contact_email=data.contact_email,
            tier=data.tier,
            target=data.target,
            target_id=data.target_id,
            pledged_fen=data.pledged_fen,
            currency=festival.currency,
            pledged_on=data.pledged_on,
            due_on=data.due_on,
            note=data.note,
            recorded_by=actor_id,
        )
        if not await insert_once(self.session, sponsor):
            raise Conflict(
                f"This festival already has a sponsor named {data.name_zh!r}.",
                code="sponsor_exists",
            )
        items = [
            SponsorInKind(
                sponsor_id=sponsor.id,
                description_zh=i.description_zh,
                description_en=i.description_en,
                value_fen=i.value_fen,
                currency=festival.currency,
                award_id=i.award_id,
                received_on=i.received_on,
                position=n,
            )
            for n, i in enumerate(data.in_kind, start=1)
        ]
        self.session.add_all(items)
        await self.session.flush()
        return await self.get_sponsor(festival.id, sponsor.id), items

    async def get_sponsor(self, festival_id: uuid.UUID, sponsor_id: str | uuid.UUID) -> Sponsor:
        key = sponsor_id if isinstance(sponsor_id, uuid.UUID) else parse_id(sponsor_id, "sponsor")
        sponsor = await self.session.get(Sponsor, key, populate_existing=True)
        if sponsor is None or sponsor.festival_id != festival_id:
            raise NotFound(
                f"No sponsor with id {str(sponsor_id)!r} at this festival.",
                code="sponsor_not_found",
            )
        return sponsor

    async def in_kind_of(
        self, sponsor_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[SponsorInKind]]:
        ids = list(sponsor_ids)
        found: dict[uuid.UUID, list[SponsorInKind]] = defaultdict(list)
        if ids:
            for row in (
                await self.session.exec(
                    select(SponsorInKind)
                    .where(col(SponsorInKind.sponsor_id).in_(ids))
                    .order_by(col(SponsorInKind.position))
                )
            ).all():
                found[row.sponsor_id].append(row)
        return found

    async def sponsors(self, festival_id: uuid.UUID) -> Sequence[Sponsor]:
        return (
            await self.session.exec(
                select(Sponsor)
                .where(Sponsor.festival_id == festival_id)
                .order_by(col(Sponsor.created_at), col(Sponsor.id))
            )
        ).all()

    async def list_sponsors(
        self, festival_id: str, *, limit: int, offset: int
    ) -> tuple[list[schemas.SponsorRead], int]:
        festival = await self.festival(festival_id)
        total = (
            await self.session.exec(
                select(func.count()).select_from(Sponsor).where(Sponsor.festival_id == festival.id)
            )
        ).one()
        rows = list(
            (
                await self.session.exec(
                    select(Sponsor)
                    .where(Sponsor.festival_id == festival.id)
                    .order_by(col(Sponsor.created_at), col(Sponsor.id))
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        in_kind = await self.in_kind_of(s.id for s in rows)
        return [schemas.sponsor_read(s, in_kind.get(s.id, [])) for s in rows], int(total)

    async def read_sponsor(self, festival_id: str, sponsor_id: str) -> schemas.SponsorRead:
        festival = await self.festival(festival_id)
        sponsor = await self.get_sponsor(festival.id, sponsor_id)
        return schemas.sponsor_read(
            sponsor, (await self.in_kind_of([sponsor.id])).get(sponsor.id, [])
        )

    async def set_logo(self, festival_id: str, sponsor_id: str, body: bytes) -> schemas.SponsorRead:
        festival = await self.festival(festival_id)
        sponsor = await self.get_sponsor(festival.id, sponsor_id)
        media_type = check_logo(body)
        sponsor.logo, sponsor.logo_type = body, media_type
        sponsor.updated_at = utcnow()
        self.session.add(sponsor)
        await self.session.flush()
        return await self.read_sponsor(festival_id, sponsor_id)

    async def logo(self, festival_id: str, sponsor_id: str) -> tuple[bytes, str]:
        festival = await self.festival(festival_id)
        sponsor = await self.get_sponsor(festival.id, sponsor_id)
        if sponsor.logo is None or sponsor.logo_type is None:
            raise NotFound("This sponsor has no logo.", code="logo_not_found")
        return sponsor.logo, sponsor.logo_type

    # --- the ledger ---------------------------------------------------------------------

    async def record(
        self, festival_id: str, data: schemas.RecordIn, *, actor_id: uuid.UUID | None
    ) -> FundingRecord:
        """A receipt (or a payment) recorded by hand."""
        festival = await self.festival(festival_id)
        errors: list[FieldError] = []
        if data.source not in MANUAL_SOURCES:
            errors.append(
                FieldError(
                    "source",
                    "Prize payouts are posted when results mark an entitlement paid, not by hand.",
                )
            )
        if data.source == FundingSource.SPONSORSHIP and data.sponsor_id is None:
            errors.append(FieldError("sponsor_id", "Name the sponsor the money came from."))
        if errors:
            raise ValidationFailed(
                errors, code="invalid_source" if errors[0]["field"] == "source" else None
            )
        if data.sponsor_id is not None:
            try:
                await self.get_sponsor(festival.id, data.sponsor_id)
            except NotFound as exc:
                raise ValidationFailed(
                    [FieldError("sponsor_id", exc.detail)], code="unknown_sponsor"
                ) from exc
        if data.award_id is not None:
            try:
                await AwardService(self.session).get_award(festival.id, str(data.award_id))
            except NotFound as exc:
                raise ValidationFailed(
                    [FieldError("award_id", exc.detail)], code="unknown_award"
                ) from exc
        record = FundingRecord(
            festival_id=festival.id,
            source=data.source,
            direction=data.direction,
            amount=data.amount,
            currency=festival.currency,
            occurred_on=data.occurred_on,
            origin=Origin.MANUAL,
            sponsor_id=data.sponsor_id,
            award_id=data.award_id,
            reference=data.reference,
            note=data.note,
            recorded_by=actor_id,
        )
        self.session.add(record)
        await self.session.flush()
        return record

    async def get_record(self, festival_id: uuid.UUID, record_id: str | uuid.UUID) -> FundingRecord:
        key = (
            record_id if isinstance(record_id, uuid.UUID) else parse_id(record_id, "funding record")
        )
        record = (
            await self.session.exec(
                select(FundingRecord).where(
                    FundingRecord.id == key, FundingRecord.festival_id == festival_id
                )
            )
        ).first()
        if record is None:
            raise NotFound(
                f"No funding record with id {str(record_id)!r} at this festival.",
                code="record_not_found",
            )
        return record

    async def reversed_by(self, record_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        ids = list(record_ids)
        if not ids:
            return {}
        rows = (
            await self.session.exec(
                select(FundingRecord.reverses_id, FundingRecord.id).where(
                    col(FundingRecord.reverses_id).in_(ids)
                )
            )
        ).all()
        return {original: reversal for original, reversal in rows if original is not None}

    async def reverse(
        self,
        festival_id: str,
        record_id: str,
        data: schemas.ReversalIn,
        *,
        actor_id: uuid.UUID | None,
    ) -> FundingRecord:
        """Cancel a wrong record with one in the other direction; the wrong one stays."""
        festival = await self.festival(festival_id)
        original = await self.get_record(festival.id, record_id)
        if original.reverses_id is not None:
            raise Conflict(
                "This record is itself a reversal; record the right amount instead.",
                code="reversal_not_reversible",
            )
        reversal = FundingRecord(
            festival_id=festival.id,
            source=original.source,
            direction=Direction.OUT if original.direction == Direction.IN else Direction.IN,
            amount=original.amount,
            currency=original.currency,
            occurred_on=data.occurred_on or festival_today(festival),
            origin=Origin.REVERSAL,
            sponsor_id=original.sponsor_id,
            payment_id=original.payment_id,
            award_id=original.award_id,
            entitlement_id=original.entitlement_id,
            reverses_id=original.id,
            reference=f"reverses {original.id}",
            note=data.reason,
            recorded_by=actor_id,
        )
        # The unique reverses_id decides between concurrent reversals of one record.
        if not await insert_once(self.session, reversal):
            raise Conflict(
                "This record was already reversed.",
                code="already_reversed",
                reversed_by=str((await self.reversed_by([original.id])).get(original.id, "")),
            )
        return await self.get_record(festival.id, reversal.id)

    def _where(self, festival_id: uuid.UUID, filters: RecordFilters) -> list[object]:
        conditions: list[object] = [FundingRecord.festival_id == festival_id]
        if filters.source is not None:
            conditions.append(FundingRecord.source == filters.source)
        if filters.direction is not None:
            conditions.append(FundingRecord.direction == filters.direction)
        if filters.sponsor_id is not None:
            conditions.append(FundingRecord.sponsor_id == parse_id(filters.sponsor_id, "sponsor"))
        if filters.origin is not None:
            conditions.append(FundingRecord.origin == filters.origin)
        if filters.date_from is not None:
            conditions.append(col(FundingRecord.occurred_on) >= filters.date_from)
        if filters.date_to is not None:
            conditions.append(col(FundingRecord.occurred_on) <= filters.date_to)
        return conditions

    async def list_records(
        self, festival_id: str, filters: RecordFilters, *, limit: int, offset: int
    ) -> tuple[list[schemas.RecordRead], int]:
        festival = await self.festival(festival_id)
        where = self._where(festival.id, filters)
        total = (
            await self.session.exec(
                select(func.count()).select_from(FundingRecord).where(*where)  # type: ignore[arg-type]
            )
        ).one()
        rows = list(
            (
                await self.session.exec(
                    select(FundingRecord)
                    .where(*where)  # type: ignore[arg-type]
                    .order_by(
                        col(FundingRecord.occurred_on).desc(),
                        col(FundingRecord.recorded_at).desc(),
                        col(FundingRecord.id),
                    )
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        reversed_by = await self.reversed_by(r.id for r in rows)
        return [schemas.record_read(r, reversed_by.get(r.id)) for r in rows], int(total)

    async def all_records(self, festival_id: uuid.UUID) -> list[FundingRecord]:
        return list(
            (
                await self.session.exec(
                    select(FundingRecord)
                    .where(FundingRecord.festival_id == festival_id)
                    .order_by(
                        col(FundingRecord.occurred_on),
                        col(FundingRecord.recorded_at),
                        col(FundingRecord.id),
                    )
                )
            ).all()
        )

    # --- the summary and the coverage ---------------------------------------------------

    async def summary(self, festival_id: str | uuid.UUID) -> schemas.FundingSummary:
        festival = await self.festival(festival_id)
        query: Any = (
            sa.select(
                col(FundingRecord.source),
                col(FundingRecord.direction),
                col(FundingRecord.sponsor_id),
                func.sum(col(FundingRecord.amount)),
                func.count(),
            )
            .where(col(FundingRecord.festival_id) == festival.id)
            .group_by(
                col(FundingRecord.source),
                col(FundingRecord.direction),
                col(FundingRecord.sponsor_id),
            )
        )
        totals = (await self.session.exec(query)).all()
        by_source: dict[str, list[int]] = {s.value: [0, 0, 0] for s in FundingSource}
        sponsor_net: dict[uuid.UUID, int] = defaultdict(int)
        records = 0
        for source, direction, sponsor_id, amount, count in totals:
            amount, count = int(amount or 0), int(count)
            slot = by_source[source]
            slot[0 if direction == Direction.IN else 1] += amount
            slot[2] += count
            records += count
            if sponsor_id is not None and source == FundingSource.SPONSORSHIP:
                sponsor_net[sponsor_id] += amount if direction == Direction.IN else -amount
        received = sum(v[0] for v in by_source.values())
        paid_out = sum(v[1] for v in by_source.values())

        sponsors = await self.sponsors(festival.id)
        in_kind = await self.in_kind_of(s.id for s in sponsors)
        sponsor_totals = []
        for s in sponsors:
            got = sponsor_net.get(s.id, 0)
            sponsor_totals.append(
                schemas.SponsorTotal(
                    sponsor_id=str(s.id),
                    name_zh=s.name_zh,
                    name_en=s.name_en,
                    tier=s.tier,
                    pledged_fen=s.pledged_fen,
                    received_fen=got,
                    outstanding_fen=max(s.pledged_fen - got, 0),
                    in_kind_value_fen=sum(i.value_fen for i in in_kind.get(s.id, [])),
                )
            )

        prizes = await PrizeListService(self.session).summary(festival.id)
        owed_paid = await prize_money_provider()(self.session, festival.id)
        prize_money = schemas.PrizeMoney(
            committed_fen=prizes.total_prize,
            committed_cash_fen=prizes.total_cash_fen,
            committed_in_kind_fen=prizes.total_in_kind_value_fen,
            owed_fen=owed_paid.owed,
            paid_fen=owed_paid.paid,
            held_fen=owed_paid.held,
        )
        payouts = by_source[FundingSource.PRIZE_PAYOUT]
        income = (received - payouts[0]) - (paid_out - payouts[1])
        outstanding = sum(t.outstanding_fen for t in sponsor_totals)
        contributed = sum(t.in_kind_value_fen for t in sponsor_totals)
        available = income + outstanding
        cash_short = max(prizes.total_cash_fen - available, 0)
        kind_short = max(prizes.total_in_kind_value_fen - contributed, 0)
        # Cash covers cash prizes, contributions in kind cover prizes in kind.
        covering = min(max(available, 0), prizes.total_cash_fen) + min(
            contributed, prizes.total_in_kind_value_fen
        )
        covered = 10_000 if prizes.total_prize == 0 else covering * 10_000 // prizes.total_prize
        warnings = []
        if cash_short:
            warnings.append(
                schemas.FundingWarning(
                    code="commitments_exceed_funds",
                    amount_fen=cash_short,
                    detail=f"Prize money committed ({prizes.total_cash_fen} fen) exceeds money "
                    f"received and pledged ({available} fen) by {cash_short} fen.",
                )
            )
        if kind_short:
            warnings.append(
                schemas.FundingWarning(
                    code="in_kind_prizes_not_covered",
                    amount_fen=kind_short,
                    detail=f"Prizes in kind worth {prizes.total_in_kind_value_fen} fen are "
                    f"committed; sponsors contributed {contributed} fen in kind.",
                )
            )
        unpaid = owed_paid.owed - owed_paid.paid
        if unpaid > received - paid_out:
            warnings.append(
                schemas.FundingWarning(
                    code="owed_exceeds_balance",
                    amount_fen=unpaid - (received - paid_out),
                    detail=f"Prize money owed and unpaid ({unpaid} fen) exceeds the balance "
                    f"({received - paid_out} fen).",
                )
            )
        return schemas.FundingSummary(
            festival_id=str(festival.id),
            currency=festival.currency,
            amounts_unit="fen",
            received_fen=received,
            paid_out_fen=paid_out,
            balance_fen=received - paid_out,
            records=records,
            by_source=[
                schemas.SourceTotal(
                    source=k,
                    received_fen=v[0],
                    paid_out_fen=v[1],
                    net_fen=v[0] - v[1],
                    records=v[2],
                )
                for k, v in by_source.items()
            ],
            by_sponsor=sponsor_totals,
            prize_money=prize_money,
            coverage=schemas.Coverage(
                income_fen=income,
                pledged_outstanding_fen=outstanding,
                in_kind_contributed_fen=contributed,
                cash_available_fen=available,
                cash_shortfall_fen=cash_short,
                in_kind_shortfall_fen=kind_short,
                covered_bp=covered,
            ),
            warnings=warnings,
        )

    # --- a sponsor's statement ----------------------------------------------------------

    async def _placements(
        self, festival: Festival, sponsor: Sponsor
    ) -> list[schemas.NamePlacement]:
        name = SponsorName(sponsor.id, sponsor.name_zh, sponsor.name_en)
        awards = AwardService(self.session)
        categories = CategoryService(self.session)
        if sponsor.target == SponsorTarget.FESTIVAL or sponsor.target_id is None:
            return [
                schemas.NamePlacement(
                    kind="festival",
                    name_zh=festival.name_zh,
                    name_en=festival.name_en,
                    label_zh=sponsor.name_zh,
                    label_en=sponsor.name_en,
                    prize_fen=0,
                )
            ]
        try:
            if sponsor.target == SponsorTarget.CATEGORY:
                category = await categories.get_category(festival.id, str(sponsor.target_id))
                _, total = (await categories.category_totals([category.id])).get(
                    category.id, (0, 0)
                )
                return [
                    schemas.NamePlacement(
                        kind="category",
                        name_zh=category.name_zh,
                        name_en=category.name_en,
                        label_zh=f"{name.cup_zh} {category.name_zh}",
                        label_en=f"{name.cup_en} {category.name_en}",
                        prize_fen=total,
                    )
                ]
            award = await awards.get_award(festival.id, str(sponsor.target_id))
        except NotFound:
            return []  # the award or category was deleted since
        label = award.name_zh or f"第{award.place}名"
        label_en = award.name_en or f"place {award.place}"
        return [
            schemas.NamePlacement(
                kind="award",
                name_zh=label,
                name_en=label_en,
                label_zh=f"{name.cup_zh} {label}",
                label_en=f"{name.cup_en} {label_en}",
                prize_fen=award.prize_fen + award.in_kind_value_fen,
            )
        ]

    async def statement(self, festival_id: str, sponsor_id: str) -> Statement:
        festival = await self.festival(festival_id)
        sponsor = await self.get_sponsor(festival.id, sponsor_id)
        in_kind = (await self.in_kind_of([sponsor.id])).get(sponsor.id, [])
        rows = list(
            (
                await self.session.exec(
                    select(FundingRecord)
                    .where(
                        FundingRecord.festival_id == festival.id,
                        FundingRecord.sponsor_id == sponsor.id,
                    )
                    .order_by(col(FundingRecord.occurred_on), col(FundingRecord.recorded_at))
                )
            ).all()
        )
        received = sum(signed(r) for r in rows if r.source == FundingSource.SPONSORSHIP)
        return Statement(
            festival=festival,
            read=schemas.SponsorStatement(
                festival_id=str(festival.id),
                festival_name_zh=festival.name_zh,
                festival_name_en=festival.name_en,
                sponsor=schemas.sponsor_read(sponsor, in_kind),
                pledged_fen=sponsor.pledged_fen,
                received_fen=received,
                outstanding_fen=max(sponsor.pledged_fen - received, 0),
                in_kind_value_fen=sum(i.value_fen for i in in_kind),
                lines=[
                    schemas.StatementLine(
                        id=str(r.id),
                        occurred_on=r.occurred_on,
                        direction=r.direction,
                        amount=r.amount,
                        reference=r.reference,
                        note=r.note,
                        reverses_id=str(r.reverses_id) if r.reverses_id else None,
                    )
                    for r in rows
                ],
                placements=await self._placements(festival, sponsor),
                generated_at=utcnow(),
            ),
        )
