"""Prize money owed: entitlements from official results, payouts, and the funding seam.

* **Entitlements** (DOMAIN rules 8-10). When a race becomes official (or is amended), its
  finishers' places go through ``events.awards.allocation.allocate`` with the category's
  prize table: dead heats pool the prizes of the places they occupy and split them in
  integer fen; the remainder rule is the allocation module's (each tied starter gets
  ``pool // n``; the ``pool % n`` fen stay with the organiser). A starter's prize is then
  split among payees: each fixed payee share of the award (the rider's 20,000 of a
  150,000 champion's prize) is scaled to the prize actually won
  (``share * prize // award prize``, rounded down) and the owner receives the rest.
  Withholding, when the prize list enables it, applies to prizes of the threshold or more,
  to each payee's part (rounded down, in the payee's favour).
* **Append-only.** An amendment recomputes: a row no longer due exactly as it was gets a
  ``clawback`` row (its amounts negated, ``replaces_id`` = the row) and, when the starter
  is still owed something, a ``moved_up`` row referencing it; a starter newly in the money
  gets a ``moved_up`` row referencing the row that held that award and payee before.
  The *current* entitlements are the non-clawback rows nobody clawed back.
* **Held.** While a race has an open objection its current entitlements are held: they
  cannot be marked paid.
* **Payouts.** ``mark_paid`` records one payout per entitlement with its reference; a retry
  with the same reference answers the same payout and changes nothing; another reference
  is refused (409 ``already_paid``). Each new payout is announced, inside the same
  transaction, to the listeners registered with ``register_payout_listener`` (the funding
  ledger), the way payments announces money to its ledger.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import allocation
from events.awards import prizes as award_prizes
from events.db.base import utcnow
from events.errors import Conflict, NotFound
from events.festivals import services as festival_services
from events.ids import parse_id
from events.registration import reads as registration_reads
from events.registration.models import Race
from events.results import reads, schemas
from events.results.models import (
    EntitlementKind,
    PrizeEntitlement,
    PrizePayout,
    ResultRow,
    ResultStatus,
    ResultVersion,
)
from events.results.notifications import notify

# --- the seam for the funding domain ------------------------------------------------------


@dataclass(frozen=True)
class PayoutPaid:
    entitlement_id: uuid.UUID
    festival_id: uuid.UUID
    award_id: uuid.UUID | None
    amount: int
    currency: str
    paid_at: datetime
    reference: str
    recorded_by: uuid.UUID | None


PayoutListener = Callable[[AsyncSession, PayoutPaid], Awaitable[None]]
_listeners: list[PayoutListener] = []


def register_payout_listener(callback: PayoutListener) -> None:
    """``callback(session, payout)`` is awaited inside the mark-paid transaction, once per
    new payout; when it raises, the payout is rolled back with it."""
    if callback not in _listeners:
        _listeners.append(callback)


def unregister_payout_listener(callback: PayoutListener) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


@dataclass(frozen=True)
class PrizeMoneyTotals:
    owed: int
    """Current (not clawed back) entitlements of official races, net of withholding."""
    paid: int
    held: int
    """Of ``owed``: under an open objection."""
    currency: str


# --- computing entitlements ---------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    entry_id: uuid.UUID
    payee: str
    award_id: uuid.UUID | None
    place: int
    pooled: tuple[int, ...]
    gross: int
    withheld: int

    def same_as(self, row: PrizeEntitlement) -> bool:
        return (
            row.award_id == self.award_id
            and row.place == self.place
            and row.gross_fen == self.gross
            and row.withheld_fen == self.withheld
            and tuple(row.pooled_places) == self.pooled
        )


def _current_query() -> Any:
    clawback = aliased(PrizeEntitlement)
    return select(PrizeEntitlement).where(
        PrizeEntitlement.kind != EntitlementKind.CLAWBACK,
        ~sa.exists().where(
            col(clawback.replaces_id) == col(PrizeEntitlement.id),
            col(clawback.kind) == EntitlementKind.CLAWBACK,
        ),
    )


async def current_entitlements(session: AsyncSession, race_id: uuid.UUID) -> list[PrizeEntitlement]:
    return list(
        (await session.exec(_current_query().where(PrizeEntitlement.race_id == race_id))).all()
    )


async def _due(session: AsyncSession, race: Race, rows: Sequence[ResultRow]) -> list[_Due]:
    if race.award_category_id is None:
        return []
    table = await award_prizes.prize_table(session, race.festival_id, race.award_category_id)
    if table is None or not table.awards_by_place:
        return []
    result = allocation.allocate(
        table.table,
        [
            allocation.Starter(
                starter_id=str(r.entry_id),
                position=r.place,
                status=allocation.StarterStatus(r.status),
            )
            for r in rows
        ],
    )
    due: list[_Due] = []
    for prize in result.prizes:
        if prize.prize_fen <= 0 or prize.place is None:
            continue
        award = table.awards_by_place.get(prize.place)
        entry_id = uuid.UUID(prize.starter_id)
        parts: list[tuple[str, int]] = []
        if award is not None and award.prize_fen > 0:
            for share in table.shares.get(award.id, []):
                parts.append(
                    (str(share.payee), share.amount_fen * prize.prize_fen // award.prize_fen)
                )
        owner_part = prize.prize_fen - sum(amount for _, amount in parts)
        parts.insert(0, ("owner", owner_part))
        subject = table.withholding.withheld_fen(prize.prize_fen) > 0
        for payee, gross in parts:
            if gross <= 0:
                continue
            withheld = gross * table.withholding.rate_bp // 10_000 if subject else 0
            due.append(
                _Due(
                    entry_id=entry_id,
                    payee=payee,
                    award_id=award.id if award else None,
                    place=prize.place,
                    pooled=prize.pooled_places,
                    gross=gross,
                    withheld=withheld,
                )
            )
    return due


async def settle(
    session: AsyncSession,
    race: Race,
    version: ResultVersion,
    rows: Sequence[ResultRow],
    actor_id: uuid.UUID | None,
    reason: str,
) -> int:
    """Bring the race's entitlements in line with ``version``; returns rows written."""
    due = await _due(session, race, rows)
    current = await current_entitlements(session, race.id)
    by_key = {(r.entry_id, r.payee): r for r in current}
    by_award = {(r.award_id, r.payee): r for r in current}
    cards = await registration_reads.entry_cards(session, [d.entry_id for d in due])
    currency = race.currency
    written = 0
    wanted = {(d.entry_id, d.payee): d for d in due}
    for key, row in by_key.items():
        if key in wanted and wanted[key].same_as(row):
            continue
        session.add(
            PrizeEntitlement(
                festival_id=row.festival_id,
                race_id=row.race_id,
                version_id=version.id,
                award_id=row.award_id,
                category_id=row.category_id,
                entry_id=row.entry_id,
                horse_id=row.horse_id,
                owner_id=row.owner_id,
                rider_id=row.rider_id,
                province=row.province,
                payee=row.payee,
                place=row.place,
                pooled_places=list(row.pooled_places),
                gross_fen=-row.gross_fen,
                withheld_fen=-row.withheld_fen,
                net_fen=-row.net_fen,
                currency=row.currency,
                kind=EntitlementKind.CLAWBACK,
                replaces_id=row.id,
                reason=reason or f"result version {version.number}",
                created_by=actor_id,
            )
        )
        written += 1
    first = not current
    for key, d in wanted.items():
        old = by_key.get(key)
        if old is not None and d.same_as(old):
            continue
        replaced = old or by_award.get((d.award_id, d.payee))
        card = cards[d.entry_id]
        session.add(
            PrizeEntitlement(
                festival_id=race.festival_id,
                race_id=race.id,
                version_id=version.id,
                award_id=d.award_id,
                category_id=race.award_category_id,
                entry_id=d.entry_id,
                horse_id=card.horse_id,
                owner_id=card.owner_id,
                rider_id=card.rider_id,
                province=card.province,
                payee=d.payee,
                place=d.place,
                pooled_places=list(d.pooled),
                gross_fen=d.gross,
                withheld_fen=d.withheld,
                net_fen=d.gross - d.withheld,
                currency=currency,
                kind=EntitlementKind.AWARDED if first else EntitlementKind.MOVED_UP,
                replaces_id=None if first or replaced is None else replaced.id,
                reason=reason or f"result version {version.number}",
                created_by=actor_id,
            )
        )
        written += 1
    await session.flush()
    if written:
        notify(session, race.festival_id, race.id, "prize_money")
    return written


# --- reading, paying, totals --------------------------------------------------------------


@dataclass(frozen=True)
class PrizeFilters:
    state: str | None = None
    """owed, held, paid, clawed_back, clawback; default: every row."""
    race_id: str | None = None
    owner_id: str | None = None
    payee: str | None = None


def _state(
    row: PrizeEntitlement,
    clawed: set[uuid.UUID | None],
    held_races: set[uuid.UUID],
    paid: dict[uuid.UUID, PrizePayout],
) -> str:
    if row.kind == EntitlementKind.CLAWBACK:
        return "clawback"
    if row.id in clawed:
        return "clawed_back"
    if row.id in paid:
        return "paid"
    return "held" if row.race_id in held_races else "owed"


class PrizeMoneyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, festival_id: uuid.UUID, filters: PrizeFilters) -> list[PrizeEntitlement]:
        query = select(PrizeEntitlement).where(PrizeEntitlement.festival_id == festival_id)
        if filters.race_id:
            query = query.where(PrizeEntitlement.race_id == parse_id(filters.race_id, "race"))
        if filters.owner_id:
            query = query.where(PrizeEntitlement.owner_id == parse_id(filters.owner_id, "owner"))
        if filters.payee:
            query = query.where(PrizeEntitlement.payee == filters.payee)
        return list(
            (
                await self.session.exec(
                    query.order_by(
                        col(PrizeEntitlement.created_at),
                        col(PrizeEntitlement.race_id),
                        col(PrizeEntitlement.place),
                        col(PrizeEntitlement.payee),
                        col(PrizeEntitlement.id),
                    )
                )
            ).all()
        )

    async def reads(
        self, festival_id: uuid.UUID, rows: Sequence[PrizeEntitlement]
    ) -> list[schemas.EntitlementRead]:
        ids = [r.id for r in rows]
        clawed = set(
            (
                await self.session.exec(
                    select(col(PrizeEntitlement.replaces_id)).where(
                        PrizeEntitlement.festival_id == festival_id,
                        PrizeEntitlement.kind == EntitlementKind.CLAWBACK,
                    )
                )
            ).all()
        )
        paid = (
            {
                p.entitlement_id: p
                for p in (
                    await self.session.exec(
                        select(PrizePayout).where(col(PrizePayout.entitlement_id).in_(ids))
                    )
                ).all()
            }
            if ids
            else {}
        )
        held = await reads.open_objections(self.session, list({r.race_id for r in rows}))
        cards = await registration_reads.entry_cards(self.session, list({r.entry_id for r in rows}))
        races = {
            race.id: race
            for race, _ in await registration_reads.festival_races(self.session, festival_id)
        }
        awards = await award_prizes.award_names(self.session, festival_id)
        out = []
        for r in rows:
            card, payout, award = (
                cards.get(r.entry_id),
                paid.get(r.id),
                awards.get(r.award_id) if r.award_id else None,
            )
            out.append(
                schemas.EntitlementRead(
                    id=str(r.id),
                    festival_id=str(r.festival_id),
                    race_id=str(r.race_id),
                    race_code=races[r.race_id].code if r.race_id in races else "",
                    award_id=str(r.award_id) if r.award_id else None,
                    award_name=(award.name_zh or f"{r.place}") if award else "",
                    category_id=str(r.category_id) if r.category_id else None,
                    entry_id=str(r.entry_id),
                    horse_id=str(r.horse_id),
                    horse_name=card.horse_name if card else "",
                    owner_id=str(r.owner_id),
                    owner_name=card.owner_name if card else "",
                    rider_name=card.rider_name if card else "",
                    province=r.province,
                    payee=r.payee,
                    place=r.place,
                    pooled_places=list(r.pooled_places),
                    gross_fen=r.gross_fen,
                    withheld_fen=r.withheld_fen,
                    net_fen=r.net_fen,
                    currency=r.currency,
                    kind=r.kind,
                    replaces_id=str(r.replaces_id) if r.replaces_id else None,
                    reason=r.reason,
                    created_at=r.created_at,
                    state=_state(r, clawed, held, paid),
                    paid_at=payout.paid_at if payout else None,
                    reference=payout.reference if payout else None,
                )
            )
        return out

    async def search(
        self, festival_id: str, filters: PrizeFilters, *, limit: int | None, offset: int
    ) -> tuple[list[schemas.EntitlementRead], int]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        items = await self.reads(festival.id, await self._rows(festival.id, filters))
        if filters.state:
            items = [i for i in items if i.state == filters.state]
        total = len(items)
        return items[offset : offset + limit if limit is not None else None], total

    async def mark_paid(
        self, entitlement_id: str, data: schemas.MarkPaidIn, actor_id: uuid.UUID | None
    ) -> schemas.PayoutRead:
        ent_id = parse_id(entitlement_id, "entitlement")
        row = (
            await self.session.exec(
                select(PrizeEntitlement).where(PrizeEntitlement.id == ent_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound(f"No prize entitlement {entitlement_id!r}.")
        existing = (
            await self.session.exec(select(PrizePayout).where(PrizePayout.entitlement_id == row.id))
        ).first()
        if existing is not None:
            if existing.reference != data.reference:
                raise Conflict(
                    f"Already paid with reference {existing.reference!r}.", code="already_paid"
                )
            return _payout_read(existing, replayed=True)
        if row.kind == EntitlementKind.CLAWBACK:
            raise Conflict("A clawback row is not paid out.", code="not_payable")
        clawed = (
            await self.session.exec(
                select(PrizeEntitlement.id).where(
                    PrizeEntitlement.replaces_id == row.id,
                    PrizeEntitlement.kind == EntitlementKind.CLAWBACK,
                )
            )
        ).first()
        if clawed is not None:
            raise Conflict(
                "This entitlement was clawed back by an amendment.", code="entitlement_clawed_back"
            )
        if row.race_id in await reads.open_objections(self.session, [row.race_id]):
            raise Conflict(
                "The race has an open objection: its prize money is held.", code="entitlement_held"
            )
        payout = PrizePayout(
            entitlement_id=row.id,
            festival_id=row.festival_id,
            amount=row.net_fen,
            currency=row.currency,
            reference=data.reference,
            paid_at=data.paid_at or utcnow(),
            recorded_by=actor_id,
        )
        self.session.add(payout)
        await self.session.flush()
        event = PayoutPaid(
            entitlement_id=row.id,
            festival_id=row.festival_id,
            award_id=row.award_id,
            amount=payout.amount,
            currency=payout.currency,
            paid_at=payout.paid_at,
            reference=payout.reference,
            recorded_by=actor_id,
        )
        for listener in list(_listeners):
            await listener(self.session, event)
        notify(self.session, row.festival_id, row.race_id, "prize_money")
        return _payout_read(payout, replayed=False)


def _payout_read(payout: PrizePayout, *, replayed: bool) -> schemas.PayoutRead:
    return schemas.PayoutRead(
        entitlement_id=str(payout.entitlement_id),
        amount=payout.amount,
        currency=payout.currency,
        reference=payout.reference,
        paid_at=payout.paid_at,
        recorded_by=str(payout.recorded_by) if payout.recorded_by else None,
        replayed=replayed,
    )


async def prize_money_totals(
    session: AsyncSession, festival_id: uuid.UUID | str
) -> PrizeMoneyTotals:
    """Owed (net, current entitlements of official races), paid and held, in fen."""
    festival = await festival_services.FestivalService(session).get(festival_id)
    current = list(
        (
            await session.exec(_current_query().where(PrizeEntitlement.festival_id == festival.id))
        ).all()
    )
    versions = await reads.latest_versions(session, list({r.race_id for r in current}))
    official = {
        race_id
        for race_id, v in versions.items()
        if v.status in (ResultStatus.OFFICIAL, ResultStatus.AMENDED)
    }
    current = [r for r in current if r.race_id in official]
    held_races = await reads.open_objections(session, list(official))
    paid = int(
        (
            await session.exec(
                select(sa.func.coalesce(sa.func.sum(col(PrizePayout.amount)), 0)).where(
                    PrizePayout.festival_id == festival.id
                )
            )
        ).one()
    )
    return PrizeMoneyTotals(
        owed=sum(r.net_fen for r in current),
        paid=paid,
        held=sum(r.net_fen for r in current if r.race_id in held_races),
        currency=festival.currency,
    )


async def prizes_by_entry(
    session: AsyncSession, race_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each starter's current prize money (gross, all payees), for result lists."""
    if not race_ids:
        return {}
    found: dict[uuid.UUID, int] = {}
    for row in (
        await session.exec(
            _current_query().where(col(PrizeEntitlement.race_id).in_(list(race_ids)))
        )
    ).all():
        found[row.entry_id] = found.get(row.entry_id, 0) + row.gross_fen
    return found
