"""Rules for the awards of a festival's categories.

* Amounts are integer fen; an award's *value* is its prize money plus the declared value
  of its prize in kind. Amounts are never negative and every award is worth something.
* Places are unique and contiguous (1..N) within a category. Adding a place appends
  (``N+1``); deleting one moves the later places up. Non-monotonic tables (13th paid like
  1st) are allowed and flagged in the summary.
* Every change refuses while the prize list is locked (see ``common.editable``).

Services never commit: the request (or the CLI's transaction) does.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import allocation, schemas
from events.awards.categories import CategoryService
from events.awards.common import FestivalScoped, delete_awards, editable
from events.awards.mappers import award_read
from events.awards.models import Award, AwardCategory, AwardPayeeShare, PrizeList
from events.awards.summary import withholding_rule
from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.ids import parse_id


def award_rule_errors(
    *,
    place: int | None,
    name_zh: str,
    name_en: str,
    prize_fen: int,
    in_kind_zh: str,
    in_kind_en: str,
    in_kind_value_fen: int,
    payee_shares: Sequence[schemas.PayeeShareIn],
) -> list[tuple[str, str]]:
    """What is wrong with one award on its own, as ``(field, message)``."""
    errors: list[tuple[str, str]] = []
    if place is None and not (name_zh or name_en):
        errors.append(
            (
                "name_zh",
                "An award without a place is a named special award: "
                "give it a name (name_zh or name_en).",
            )
        )
    if prize_fen + in_kind_value_fen <= 0:
        errors.append(
            (
                "prize_fen",
                "The prize must be positive: prize money, or a prize in "
                "kind with a declared value.",
            )
        )
    if in_kind_value_fen and not (in_kind_zh or in_kind_en):
        errors.append(("in_kind_zh", "Describe the prize in kind whose value is declared."))
    if (in_kind_zh or in_kind_en) and not in_kind_value_fen:
        errors.append(("in_kind_value_fen", "Declare the value of the prize in kind."))
    seen: set[str] = set()
    for i, share in enumerate(payee_shares):
        if share.payee in seen:
            errors.append((f"payee_shares.{i}.payee", f"{share.payee.value} appears twice."))
        seen.add(share.payee)
    shared = sum(s.amount_fen for s in payee_shares)
    if shared > prize_fen:
        errors.append(
            (
                "payee_shares",
                f"The payee shares ({shared} fen) exceed the prize money ({prize_fen} fen).",
            )
        )
    return errors


class AwardService(FestivalScoped):
    """The awards within a festival's categories."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.category_service = CategoryService(session)

    async def shares_of(
        self, award_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[AwardPayeeShare]]:
        ids = list(award_ids)
        shares: dict[uuid.UUID, list[AwardPayeeShare]] = defaultdict(list)
        if ids:
            for share in (
                await self.session.exec(
                    select(AwardPayeeShare)
                    .where(col(AwardPayeeShare.award_id).in_(ids))
                    .order_by(col(AwardPayeeShare.payee))
                )
            ).all():
                shares[share.award_id].append(share)
        return shares

    @staticmethod
    def _award_order() -> tuple[Any, ...]:
        return (col(Award.place).is_(None), col(Award.place), col(Award.position))

    async def awards(
        self, festival_id: uuid.UUID, category_id: uuid.UUID | None = None
    ) -> Sequence[Award]:
        query = select(Award).where(Award.festival_id == festival_id)
        if category_id is not None:
            query = query.where(Award.category_id == category_id)
        return (
            await self.session.exec(
                query.join(AwardCategory, col(AwardCategory.id) == col(Award.category_id)).order_by(
                    col(AwardCategory.display_order), col(AwardCategory.code), *self._award_order()
                )
            )
        ).all()

    async def list_awards(
        self, festival_id: str, *, category_id: str | None, limit: int, offset: int
    ) -> tuple[list[schemas.AwardRead], int]:
        festival = await self.festival(festival_id)
        query = select(Award).where(Award.festival_id == festival.id)
        if category_id is not None:
            category = await self.category_service.get_category(festival.id, category_id)
            query = query.where(Award.category_id == category.id)
        total = int(
            (await self.session.exec(select(func.count()).select_from(query.subquery()))).one()
        )
        rows = (
            await self.session.exec(
                query.join(AwardCategory, col(AwardCategory.id) == col(Award.category_id))
                .order_by(
                    col(AwardCategory.display_order), col(AwardCategory.code), *self._award_order()
                )
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return await self.reads(festival.id, rows), total

    async def reads(
        self, festival_id: uuid.UUID, awards: Sequence[Award]
    ) -> list[schemas.AwardRead]:
        codes = {c.id: c.code for c in await self.category_service.categories(festival_id)}
        shares = await self.shares_of(a.id for a in awards)
        return [award_read(a, codes[a.category_id], shares.get(a.id, [])) for a in awards]

    async def get_award(self, festival_id: uuid.UUID, award_id: str) -> Award:
        award = await self.session.get(Award, parse_id(award_id, "award"))
        if award is None or award.festival_id != festival_id:
            raise NotFound(f"No award with id {award_id!r} at this festival.")
        return award

    async def read_award(self, festival_id: str, award_id: str) -> schemas.AwardRead:
        festival = await self.festival(festival_id)
        return (await self.reads(festival.id, [await self.get_award(festival.id, award_id)]))[0]

    async def _max(self, column: Any, category_id: uuid.UUID) -> int:
        return int(
            (
                await self.session.exec(
                    select(func.coalesce(func.max(column), 0)).where(
                        Award.category_id == category_id
                    )
                )
            ).one()
        )

    async def create_award(self, festival_id: str, data: schemas.AwardCreate) -> Award:
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
        try:
            category = await self.category_service.get_category(
                festival.id, data.category_id, for_update=True
            )
        except NotFound as exc:
            raise ValidationFailed([FieldError("category_id", exc.detail)]) from None
        errors = [
            FieldError(f, m)
            for f, m in award_rule_errors(
                place=data.place,
                name_zh=data.name_zh,
                name_en=data.name_en,
                prize_fen=data.prize_fen,
                in_kind_zh=data.in_kind_zh,
                in_kind_en=data.in_kind_en,
                in_kind_value_fen=data.in_kind_value_fen,
                payee_shares=data.payee_shares,
            )
        ]
        if errors:
            raise ValidationFailed(errors)
        if data.place is not None:
            last = await self._max(Award.place, category.id)
            if data.place <= last:
                raise Conflict(
                    f"Place {data.place} of {category.code!r} already has an award; "
                    "edit that award instead.",
                    code="place_taken",
                )
            if data.place > last + 1:
                raise ValidationFailed(
                    [
                        FieldError(
                            "place",
                            f"Places are contiguous: the next place of {category.code!r} is "
                            f"{last + 1}.",
                        )
                    ]
                )
        award = Award(
            festival_id=festival.id,
            category_id=category.id,
            place=data.place,
            position=await self._max(Award.position, category.id) + 1,
            currency=festival.currency,
            **data.model_dump(exclude={"category_id", "place", "payee_shares"}),
        )
        self.session.add(award)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"Place {data.place} of {category.code!r} already has an award.", code="place_taken"
            ) from exc
        self.add_shares(award.id, data.payee_shares)
        await self.session.flush()
        return award

    def add_shares(self, award_id: uuid.UUID, shares: Iterable[schemas.PayeeShareIn]) -> None:
        for share in shares:
            self.session.add(
                AwardPayeeShare(award_id=award_id, payee=share.payee, amount_fen=share.amount_fen)
            )

    async def update_award(
        self, festival_id: str, award_id: str, data: schemas.AwardUpdate
    ) -> Award:
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
        award = await self.get_award(festival.id, award_id)
        await self.category_service.get_category(
            festival.id, str(award.category_id), for_update=True
        )
        changes = {
            k: v
            for k, v in data.model_dump(exclude_unset=True).items()
            if v is not None or k == "ranked_by"
        }
        new_shares = data.payee_shares
        if new_shares is None:
            new_shares = [
                schemas.PayeeShareIn(payee=s.payee, amount_fen=s.amount_fen)
                for s in (await self.shares_of([award.id])).get(award.id, [])
            ]
        merged = {**award.model_dump(), **{k: v for k, v in changes.items() if k != "payee_shares"}}
        errors = [
            FieldError(f, m)
            for f, m in award_rule_errors(
                place=award.place,
                name_zh=merged["name_zh"],
                name_en=merged["name_en"],
                prize_fen=merged["prize_fen"],
                in_kind_zh=merged["in_kind_zh"],
                in_kind_en=merged["in_kind_en"],
                in_kind_value_fen=merged["in_kind_value_fen"],
                payee_shares=new_shares,
            )
        ]
        if errors:
            raise ValidationFailed(errors)
        for name, value in changes.items():
            if name != "payee_shares":
                setattr(award, name, value)
        award.updated_at = utcnow()
        self.session.add(award)
        if data.payee_shares is not None:
            await self.session.exec(
                sa.delete(AwardPayeeShare).where(col(AwardPayeeShare.award_id) == award.id)
            )
            self.add_shares(award.id, data.payee_shares)
        await self.session.flush()
        return award

    async def delete_award(self, festival_id: str, award_id: str) -> None:
        """Delete an award; the later places of its category move up one."""
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
        award = await self.get_award(festival.id, award_id)
        await self.category_service.get_category(
            festival.id, str(award.category_id), for_update=True
        )
        place, category_id = award.place, award.category_id
        await delete_awards(self.session, [], award_ids=[award.id])
        if place is None:
            return
        later = (
            await self.session.exec(
                select(Award)
                .where(Award.category_id == category_id, col(Award.place) > place)
                .order_by(col(Award.place))
            )
        ).all()
        for moved in later:  # ascending, one at a time: the unique place is never doubled
            assert moved.place is not None
            moved.place -= 1
            moved.updated_at = utcnow()
            self.session.add(moved)
            await self.session.flush()

    async def allocate(
        self, festival_id: str, category_id: str, data: schemas.AllocationRequest
    ) -> schemas.AllocationRead:
        festival = await self.festival(festival_id)
        category = await self.category_service.get_category(festival.id, category_id)
        table = {
            a.place: a.prize_fen
            for a in await self.awards(festival.id, category.id)
            if a.place is not None
        }
        try:
            result = allocation.allocate(
                table,
                [
                    allocation.Starter(
                        starter_id=s.starter_id, status=s.status, position=s.position
                    )
                    for s in data.starters
                ],
            )
        except allocation.AllocationError as exc:
            if exc.field.startswith("table"):
                raise Conflict(
                    f"The prize table of {category.code!r} is not usable: {exc.message}",
                    code="prize_table_invalid",
                ) from exc
            raise ValidationFailed([FieldError(exc.field, exc.message)]) from exc
        rule = withholding_rule(await self.session.get(PrizeList, festival.id))
        return schemas.AllocationRead(
            category_id=str(category.id),
            currency=festival.currency,
            table_total_fen=result.table_total_fen,
            awarded_fen=result.awarded_fen,
            undistributed_fen=result.undistributed_fen,
            unawarded_fen=result.unawarded_fen,
            unawarded_places=list(result.unawarded_places),
            remainder_rule=result.remainder_rule,
            starters=[
                schemas.StarterPrizeRead(
                    starter_id=p.starter_id,
                    status=p.status,
                    place=p.place,
                    pooled_places=list(p.pooled_places),
                    tied_with=p.tied_with,
                    prize_fen=p.prize_fen,
                    withheld_fen=rule.withheld_fen(p.prize_fen),
                    net_fen=p.prize_fen - rule.withheld_fen(p.prize_fen),
                )
                for p in result.prizes
            ],
        )


@dataclass(frozen=True)
class PrizeTable:
    """A category's place awards as the results domain needs them (amounts in fen)."""

    category_id: uuid.UUID
    ranked_by: str
    currency: str
    awards_by_place: dict[int, Award]
    shares: dict[uuid.UUID, list[AwardPayeeShare]]
    withholding: allocation.WithholdingRule

    @property
    def table(self) -> dict[int, int]:
        return {place: award.prize_fen for place, award in self.awards_by_place.items()}


async def prize_table(
    session: AsyncSession, festival_id: uuid.UUID, category_id: uuid.UUID
) -> PrizeTable | None:
    """For the results domain: a category's prize table, payee shares and withholding rule
    (None when the category does not exist at this festival)."""
    category = await session.get(AwardCategory, category_id)
    if category is None or category.festival_id != festival_id:
        return None
    service = AwardService(session)
    awards = [a for a in await service.awards(festival_id, category_id) if a.place is not None]
    festival = await service.festival(festival_id)
    return PrizeTable(
        category_id=category.id,
        ranked_by=str(category.ranked_by),
        currency=festival.currency,
        awards_by_place={a.place: a for a in awards if a.place is not None},
        shares=await service.shares_of(a.id for a in awards),
        withholding=withholding_rule(await session.get(PrizeList, festival_id)),
    )


async def award_names(session: AsyncSession, festival_id: uuid.UUID) -> dict[uuid.UUID, Award]:
    """For the results domain: the festival's awards by id."""
    return {a.id: a for a in await AwardService(session).awards(festival_id)}
