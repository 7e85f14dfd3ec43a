"""Entries: entering a race, paying the fee, withdrawing, inspecting, scratching. Services
flush; the request commits.

Places are taken and freed through ``places.RacePlaces``, under the race's row lock; locks
are taken in one order everywhere: the payment (when one is involved), then the race, then
the entry.

The entry fee is paid through the payments domain; ``EntryFeePayments`` (registered for
the ``entry_fee`` purpose when this module is imported) confirms the entry, releases its
place or records a refund as the payment moves.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.base import table_of, utcnow
from events.db.upsert import insert
from events.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
)
from events.festivals import services as festival_services
from events.festivals.models import Festival, FestivalDay
from events.idempotency import fingerprint, same_request
from events.ids import parse_id
from events.links import Links
from events.payments import fulfilment
from events.payments import services as payment_services
from events.payments.fulfilment import PaymentView
from events.registration import eligibility, fees, identity, provinces, schemas
from events.registration.common import Actor, _maybe_id
from events.registration.eligibility import RuleFailure, Standing
from events.registration.mappers import entry_read
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
from events.registration.owners import OwnerService
from events.registration.places import RacePlaces

log = logging.getLogger(__name__)

ENTRY_FEE = payment_services.PaymentPurpose.ENTRY_FEE


class Ineligible(DomainError):
    """The horse-rider pair fails one or more of the race's conditions; each is named."""

    status_code = 422
    code = "ineligible"
    title = "Not eligible"

    def __init__(self, failures: Sequence[RuleFailure]) -> None:
        codes = ", ".join(f.code for f in failures)
        super().__init__(
            f"Not eligible for this race: {codes}.",
            errors=[
                {"field": _RULE_FIELDS.get(f.code, "race_id"), "code": f.code, "message": f.message}
                for f in failures
            ],
        )
        self.failures = list(failures)


_RULE_FIELDS = {
    "wrong_species": "horse_id",
    "horse_too_young": "horse_id",
    "horse_too_old": "horse_id",
    "horse_too_small": "horse_id",
    "horse_too_tall": "horse_id",
    "not_local_horse": "horse_id",
    "horse_already_entered": "horse_id",
    "rider_too_young": "rider_id",
    "rider_too_old": "rider_id",
    "guardian_consent_missing": "rider_id",
    "rider_already_entered": "rider_id",
}


def _entry_query() -> Any:
    """An entry with what people read next to it: race, day, horse, rider and owner."""
    return (
        sa.select(
            Entry,
            col(Race.code),
            col(Race.name_zh),
            col(Race.name_en),
            col(FestivalDay.date),
            col(Horse.name_zh),
            col(Rider.name),
            col(Owner.name),
        )
        .join(Race, col(Race.id) == Entry.race_id)
        .join(FestivalDay, col(FestivalDay.id) == Race.day_id)
        .join(Horse, col(Horse.id) == Entry.horse_id)
        .join(Rider, col(Rider.id) == Entry.rider_id)
        .join(Owner, col(Owner.id) == Entry.owner_id)
    )


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


class EntryService(RacePlaces):
    """Entering, paying, withdrawing, inspecting; places and the waiting list.

    ``settings`` is needed for what talks to the payments domain (start a payment, refund);
    the payment handler, which has none, only moves entries.
    """

    def __init__(
        self, session: AsyncSession, settings: Settings | None = None, links: Links | None = None
    ) -> None:
        super().__init__(session)
        self.settings = settings
        self.links = links

    def _payments(self) -> payment_services.PaymentService:
        if self.settings is None:
            raise RuntimeError("EntryService needs settings to talk to payments")
        return payment_services.PaymentService(self.session, self.settings, self.links)

    # --- entering -----------------------------------------------------------------------

    async def _claim_key(self, actor: Actor, key: str, fingerprint: str) -> uuid.UUID | str:
        """Our claim on an ``Idempotency-Key`` (its row id), or the answer given before.

        ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent request with the same key waits
        for the first to commit, then finds its answer.
        """
        table = table_of(EntryRequest)
        claim_id = uuid.uuid4()
        claimed = (
            await self.session.exec(
                insert(await self.session.connection(), table)
                .values(
                    id=claim_id,
                    actor_id=actor.user_id,
                    key=key,
                    fingerprint=fingerprint,
                    response="",
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing()
                .returning(table.c.id)
            )
        ).first()
        if claimed is not None:
            return claim_id
        earlier = (
            await self.session.exec(
                select(EntryRequest).where(
                    EntryRequest.actor_id == actor.user_id, EntryRequest.key == key
                )
            )
        ).one()
        same_request(earlier.fingerprint, fingerprint, "entry")
        if not earlier.response:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed.",
                code="idempotency_key_in_progress",
            )
        return earlier.response

    async def create(
        self,
        actor: Actor,
        festival_id: str,
        data: schemas.EntryIn,
        *,
        idempotency_key: str | None = None,
    ) -> Created:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        race_id = _maybe_id(data.race_id, "race", "race_id")
        horse_id = _maybe_id(data.horse_id, "horse", "horse_id")
        rider_id = _maybe_id(data.rider_id, "rider", "rider_id")
        claim: uuid.UUID | None = None
        if idempotency_key is not None:
            claimed = await self._claim_key(
                actor, idempotency_key, request_fingerprint(festival.id, data)
            )
            if isinstance(claimed, str):
                return Created(msgspec.json.decode(claimed, type=schemas.EntryRead), True)
            claim = claimed

        race = await self.session.get(Race, race_id)
        if race is None or race.festival_id != festival.id:
            raise ValidationFailed([FieldError("race_id", "No such race at this festival.")])
        horse = await self.session.get(Horse, horse_id)
        owner = await self.session.get(Owner, horse.owner_id) if horse else None
        if (
            horse is None
            or owner is None
            or (not actor.is_organiser and owner.user_id != actor.user_id)
        ):
            raise ValidationFailed([FieldError("horse_id", "No such horse among yours.")])
        rider = await self.session.get(Rider, rider_id)
        if rider is None or rider.owner_id != owner.id:
            raise ValidationFailed(
                [FieldError("rider_id", "No such rider among the owner's riders.")]
            )
        now = utcnow()
        window = fees.window(race, now)
        if window is fees.Window.NOT_OPEN:
            raise Conflict(
                f"Entries for this race open at {race.entries_open_at.isoformat()}.",
                code="entries_not_open",
            )
        if window is fees.Window.CLOSED:
            raise Conflict("Entries for this race are closed.", code="entries_closed")

        race = await self.lock_race(race.id)
        day = await self.session.get_one(FestivalDay, race.day_id)
        standing = (await self._standings(race, [(owner, horse.id, rider.id)]))[0]
        failures = eligibility.check(race, day.date, horse, rider, owner, standing)
        if failures:
            raise Ineligible(failures)

        fee = fees.fee_for(race, now)
        entry = Entry(
            festival_id=festival.id,
            race_id=race.id,
            horse_id=horse.id,
            rider_id=rider.id,
            owner_id=owner.id,
            status=EntryStatus.WAITING,
            source=EntrySource.ONLINE,
            province=owner.province,
            county=owner.county,
            currency=race.currency,
            registration_fee=fee.registration,
            start_fee=fee.start,
            late_fee=fee.late,
            fee_due=fee.total,
        )
        if await self._take_place(race):
            entry.status = EntryStatus.PENDING_PAYMENT if fee.total > 0 else EntryStatus.CONFIRMED
        else:
            entry.waitlist_position = await self._next_waitlist_position(race)
        self.session.add(entry)
        await self.session.flush()
        late = " (late entry)" if fee.late else ""
        self._event(
            entry,
            EntryEventKind.ENTERED,
            to_status=entry.status,
            amount=fee.total,
            actor_id=actor.user_id,
            detail=(
                f"waiting list number {entry.waitlist_position}"
                if entry.waitlist_position
                else f"place taken{late}"
            ),
        )
        if entry.status == EntryStatus.PENDING_PAYMENT:
            await self._start_payment(entry, race, horse, idempotency_key=f"entry-{entry.id}")
        await self.session.flush()
        read = entry_read(
            (
                entry,
                race.code,
                race.name_zh,
                race.name_en,
                day.date,
                horse.name_zh,
                rider.name,
                owner.name,
            )
        )
        if claim is not None:
            await self.session.exec(
                sa.update(EntryRequest)
                .where(col(EntryRequest.id) == claim)
                .values(entry_id=entry.id, response=msgspec.json.encode(read).decode())
            )
        return Created(read, False)

    async def _standings(
        self, race: Race, pairs: Sequence[tuple[Owner, uuid.UUID, uuid.UUID]]
    ) -> list[Standing]:
        """What the (locked) race holds for each (owner, horse, rider) asking to enter."""
        active = (
            await self.session.exec(
                select(Entry.horse_id, Entry.rider_id, Entry.province, Entry.county).where(
                    Entry.race_id == race.id, col(Entry.status).in_(ACTIVE)
                )
            )
        ).all()
        horses = {h for h, _, _, _ in active}
        riders = {r for _, r, _, _ in active}
        counties: dict[tuple[str, str], int] = defaultdict(int)
        for _, _, province, county in active:
            counties[(province, county)] += 1
        return [
            Standing(
                county_entries=counties[(owner.province, owner.county)],
                horse_entered=horse_id in horses,
                rider_entered=rider_id in riders,
            )
            for owner, horse_id, rider_id in pairs
        ]

    async def _start_payment(
        self, entry: Entry, race: Race, horse: Horse, *, idempotency_key: str | None
    ) -> None:
        checkout = await self._payments().start(
            festival_id=entry.festival_id,
            purpose=ENTRY_FEE,
            reference_id=entry.id,
            amount=entry.fee_due - entry.amount_paid,
            currency=entry.currency,
            description=f"报名费 Entry fee: {race.name_zh} / {race.name_en} — {horse.name_zh}",
            customer_email=None,
            idempotency_key=idempotency_key,
        )
        entry.payment_id = checkout.payment_id
        entry.checkout_url = checkout.checkout_url
        self.session.add(entry)
        self._event(
            entry,
            EntryEventKind.PAYMENT_STARTED,
            amount=checkout.amount,
            detail=f"payment {checkout.payment_id} ({checkout.provider})",
        )
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
        events = (
            await self.session.exec(
                select(EntryEvent)
                .where(EntryEvent.entry_id == entry.id)
                .order_by(col(EntryEvent.at), col(EntryEvent.id))
            )
        ).all()
        return schemas.EntryDetail(
            **msgspec.structs.asdict(read),
            history=[
                schemas.EntryEventRead(
                    kind=e.kind,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    amount=e.amount,
                    detail=e.detail,
                    at=e.at,
                )
                for e in events
            ],
        )

    def _conditions(self, festival_id: uuid.UUID, filters: EntryFilters) -> list[Any]:
        conditions: list[Any] = [Entry.festival_id == festival_id]
        if filters.province is not None:
            found = provinces.find(filters.province)
            if found is None:
                raise ValidationFailed(
                    [FieldError("province", f"Unknown province {filters.province!r}.")]
                )
            conditions.append(Entry.province == found.code)
        if filters.race_id is not None:
            conditions.append(Entry.race_id == parse_id(filters.race_id, "race"))
        if filters.status is not None:
            conditions.append(Entry.status == filters.status)
        if filters.owner_id is not None:
            conditions.append(Entry.owner_id == filters.owner_id)
        if filters.microchip is not None:
            chip = identity.normalise_microchip(filters.microchip) or filters.microchip.strip()
            conditions.append(
                col(Entry.horse_id).in_(select(Horse.id).where(Horse.microchip == chip))
            )
        if filters.owner is not None:
            conditions.append(
                col(Entry.owner_id).in_(
                    select(Owner.id).where(
                        col(Owner.name).ilike(f"%{filters.owner.strip()}%")
                        | (Owner.mobile == (identity.normalise_mobile(filters.owner) or ""))
                    )
                )
            )
        return conditions

    async def search(
        self, festival_id: str, filters: EntryFilters, *, limit: int, offset: int
    ) -> tuple[list[schemas.EntryRead], int]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        conditions = self._conditions(festival.id, filters)
        total = (
            await self.session.exec(select(sa.func.count()).select_from(Entry).where(*conditions))
        ).one()
        rows = (
            await self.session.exec(
                _entry_query()
                .where(*conditions)
                .order_by(
                    col(FestivalDay.date), col(Race.code), col(Entry.created_at), col(Entry.id)
                )
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [entry_read(row) for row in rows], int(total)

    async def rows_for_export(
        self, festival_id: str, filters: EntryFilters
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
            .order_by(
                col(FestivalDay.date),
                col(Race.code),
                col(Entry.status),
                col(Entry.waitlist_position),
                col(Entry.created_at),
                col(Entry.id),
            )
        )
        return festival, (await self.session.exec(query)).all()

    async def mine(self, actor: Actor) -> list[schemas.EntryRead]:
        owner = await OwnerService(self.session).for_user(actor.user_id)
        rows = (
            await self.session.exec(
                _entry_query()
                .where(Entry.owner_id == owner.id)
                .order_by(col(FestivalDay.date), col(Race.code), col(Entry.created_at))
            )
        ).all()
        return [entry_read(row) for row in rows]

    async def summary(self, festival_id: str) -> schemas.EntrySummary:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        live: list[Any] = [Entry.festival_id == festival.id, col(Entry.status).in_(ACTIVE)]
        entries, horses, province_count = (
            await self.session.exec(
                select(
                    sa.func.count(),
                    sa.func.count(sa.distinct(col(Entry.horse_id))),
                    sa.func.count(sa.distinct(col(Entry.province))),
                ).where(*live)
            )
        ).one()
        by_province = (
            await self.session.exec(
                select(Entry.province, sa.func.count())
                .where(*live)
                .group_by(col(Entry.province))
                .order_by(sa.func.count().desc(), col(Entry.province))
            )
        ).all()
        by_status = (
            await self.session.exec(
                select(Entry.status, sa.func.count())
                .where(Entry.festival_id == festival.id)
                .group_by(col(Entry.status))
                .order_by(col(Entry.status))
            )
        ).all()
        by_race = (
            await self.session.exec(
                select(Race.code, sa.func.count())
                .select_from(Entry)
                .join(Race, col(Race.id) == Entry.race_id)
                .where(*live)
                .group_by(col(Race.code))
                .order_by(col(Race.code))
            )
        ).all()
        return schemas.EntrySummary(
            entries=int(entries),
            horses=int(horses),
            provinces=int(province_count),
            by_province={provinces.zh_name(p): int(n) for p, n in by_province},
            by_status={str(s): int(n) for s, n in by_status},
            by_race={c: int(n) for c, n in by_race},
        )

    # --- paying -------------------------------------------------------------------------

    async def pay(self, actor: Actor, entry_id: str) -> schemas.EntryRead:
        """Start (or find) the payment of an entry that owes its fee: one moved up from the
        waiting list, one imported, or one whose checkout was left."""
        entry = await self._entry(actor, entry_id)
        if entry.status != EntryStatus.PENDING_PAYMENT:
            raise Conflict(f"This entry is {entry.status}; nothing to pay.", code="nothing_to_pay")
        if entry.payment_id is not None:
            payments = self._payments()
            payment = await payments.get(entry.payment_id)
            if (
                payment.status in ("created", "pending")
                and payment.expires_at is not None
                and payment.expires_at <= utcnow()
            ):
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
        locked = (
            await self.session.exec(
                select(Entry)
                .where(Entry.id == entry.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one()
        return locked, race

    async def withdraw(self, actor: Actor, entry_id: str, reason: str = "") -> schemas.Withdrawal:
        entry, race = await self._lock_for_change(actor, entry_id)
        return await self._leave(
            actor, entry, race, EntryStatus.WITHDRAWN, reason or "withdrawn by the owner"
        )

    async def scratch(self, actor: Actor, entry_id: str, reason: str) -> schemas.Withdrawal:
        entry, race = await self._lock_for_change(actor, entry_id)
        return await self._leave(actor, entry, race, EntryStatus.SCRATCHED, reason)

    async def _leave(
        self, actor: Actor, entry: Entry, race: Race, to: EntryStatus, reason: str
    ) -> schemas.Withdrawal:
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
            await self._payments().cancel(entry.payment_id, reason=f"entry {to}", source="system")
        refund = fees.refund_for(entry, race, now, new_status=to, place_refilled=bool(moved_up))
        if refund.amount > 0 and entry.payment_id is not None:
            await self._payments().refund(
                entry.payment_id,
                amount=refund.amount,
                reason=f"entry {to}: {refund.rule} ({reason})"[:300],
                idempotency_key=f"entry-{entry.id}-{to}",
                actor_id=actor.user_id,
            )
        await self.session.flush()
        return schemas.Withdrawal(
            entry=await self.read(entry),
            refund=schemas.RefundRead(
                amount=refund.amount,
                currency=entry.currency,
                rule=refund.rule,
                policy=fees.REFUND_POLICY["en"],
                payment_id=str(entry.payment_id) if entry.payment_id else None,
            ),
            moved_up_entry_id=str(moved_up[0].id) if moved_up else None,
        )

    async def inspect(
        self, actor: Actor, entry_id: str, data: schemas.InspectionIn
    ) -> schemas.InspectionResult:
        """The pre-race inspection: passed and still eligible (with the measured height)
        → inspected; otherwise the entry is scratched, with the refund by rule."""
        entry, race = await self._lock_for_change(actor, entry_id)
        if entry.status not in (EntryStatus.CONFIRMED, EntryStatus.INSPECTED):
            raise Conflict(
                f"Only confirmed entries are inspected; this one is {entry.status}.",
                code="not_confirmed",
            )
        horse = await self.session.get_one(Horse, entry.horse_id)
        rider = await self.session.get_one(Rider, entry.rider_id)
        owner = await self.session.get_one(Owner, entry.owner_id)
        day = await self.session.get_one(FestivalDay, race.day_id)
        failures = eligibility.check(
            race,
            day.date,
            horse,
            rider,
            owner,
            Standing(),
            measured_height_cm=data.measured_height_cm,
        )
        passed = data.passed and not failures
        measured = (
            f"; measured {data.measured_height_cm} cm"
            if data.measured_height_cm is not None
            else ""
        )
        self._event(
            entry,
            EntryEventKind.INSPECTION,
            actor_id=actor.user_id,
            detail=(
                f"{'passed' if passed else 'failed'}{measured}"
                + "".join(f"; {f.code}" for f in failures)
                + (f"; {data.note}" if data.note else "")
            ),
        )
        refund = None
        if not passed:
            reason = "failed inspection: " + (
                ", ".join(f.code for f in failures) or data.note or "not passed"
            )
            left = await self._leave(actor, entry, race, EntryStatus.SCRATCHED, reason)
            refund = left.refund
        elif entry.status != EntryStatus.INSPECTED:
            self._move(entry, EntryStatus.INSPECTED, detail=data.note, actor_id=actor.user_id)
        return schemas.InspectionResult(
            entry=await self.read(entry),
            passed=passed,
            failures=[schemas.RuleFailureRead(code=f.code, message=f.message) for f in failures],
            refund=refund,
        )

    # --- what the payments domain tells us ----------------------------------------------

    async def _entry_for_payment(self, payment: PaymentView) -> Entry | None:
        entry = (
            await self.session.exec(
                select(Entry)
                .where(Entry.id == payment.reference_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).first()
        if entry is None:
            log.warning(
                "entry fee payment %s for unknown entry %s", payment.id, payment.reference_id
            )
        return entry

    async def payment_succeeded(self, payment: PaymentView) -> None:
        entry = await self._entry_for_payment(payment)
        if entry is None:
            return
        entry.payment_id = payment.id
        entry.amount_paid = payment.amount
        self._event(
            entry,
            EntryEventKind.PAID,
            amount=payment.amount,
            detail=f"payment {payment.id} ({payment.provider})",
        )
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
            self._event(
                entry,
                EntryEventKind.PAID,
                detail=f"paid while {entry.status}: the organiser refunds it",
            )
        self.session.add(entry)
        await self.session.flush()

    async def payment_failed(self, payment: PaymentView) -> None:
        entry = await self._entry_for_payment(payment)
        if (
            entry is None
            or entry.payment_id != payment.id
            or entry.status != EntryStatus.PENDING_PAYMENT
        ):
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
        self._event(
            entry,
            EntryEventKind.REFUNDED,
            amount=amount,
            detail=f"payment {payment.id}: {payment.amount_refunded} refunded in all",
        )
        self.session.add(entry)
        await self.session.flush()


class EntryFeePayments:
    """The payments domain's handler for entry fees (``fulfilment.PaymentHandler``)."""

    async def on_succeeded(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        await EntryService(session, settings).payment_succeeded(payment)

    async def on_failed(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        await EntryService(session, settings).payment_failed(payment)

    async def on_refunded(
        self, session: AsyncSession, payment: PaymentView, amount: int, settings: Settings
    ) -> None:
        await EntryService(session, settings).payment_refunded(payment, amount)


fulfilment.register(ENTRY_FEE, EntryFeePayments())
