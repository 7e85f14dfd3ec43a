"""Rules for award categories, awards and a festival's prize list.

* Amounts are integer fen; an award's *value* is its prize money plus the declared value
  of its prize in kind. Amounts are never negative and every award is worth something.
* Places are unique and contiguous (1..N) within a category. Adding a place appends
  (``N+1``); deleting one moves the later places up. Non-monotonic tables (13th paid like
  1st) are allowed and flagged in the summary.
* A locked prize list (by the organiser, or when results are official: see
  ``lock_for_official_results``) refuses every change with 409 ``prize_list_locked``.
  Each change takes a shared lock on the festival's ``prize_list`` row; locking and
  imports take an exclusive one, so no change slips in after a lock and two imports of
  the same file run one after the other.
* An import replaces, all or nothing, the awards of every category it has rows for;
  categories it does not mention are untouched. Any bad row refuses the whole file
  (422 ``import_rejected``), every bad row named; a dry run answers the same report
  without storing anything.

Services never commit: the request (or the CLI's transaction) does.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import allocation, schemas
from events.awards.importing import AwardRow, ParsedPrizeList, RowError, RowRef
from events.awards.models import (
    Award,
    AwardCategory,
    AwardPayeeShare,
    LockReason,
    PrizeList,
    PrizeListStatus,
)
from events.awards.summary import build_summary, withholding_rule
from events.db.base import table_of, utcnow
from events.db.upsert import insert
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals import services as festival_services
from events.festivals.models import Festival
from events.ids import parse_id

_CATEGORY_REQUIRED = ("name_zh", "name_en", "ranked_by")


def award_rule_errors(*, place: int | None, name_zh: str, name_en: str, prize_fen: int,
                      in_kind_zh: str, in_kind_en: str, in_kind_value_fen: int,
                      payee_shares: Sequence[schemas.PayeeShareIn]) -> list[tuple[str, str]]:
    """What is wrong with one award on its own, as ``(field, message)``."""
    errors: list[tuple[str, str]] = []
    if place is None and not (name_zh or name_en):
        errors.append(("name_zh", "An award without a place is a named special award: "
                                  "give it a name (name_zh or name_en)."))
    if prize_fen + in_kind_value_fen <= 0:
        errors.append(("prize_fen", "The prize must be positive: prize money, or a prize in "
                                    "kind with a declared value."))
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
        errors.append(("payee_shares", f"The payee shares ({shared} fen) exceed the prize "
                                       f"money ({prize_fen} fen)."))
    return errors


@dataclass(frozen=True)
class _PlannedCategory:
    code: str
    existing: AwardCategory | None
    values: dict[str, Any]
    changed: bool


class AwardService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.festivals = festival_services.FestivalService(session)

    # --- festivals and the prize list state ------------------------------------------------

    async def festival(self, festival_id: str | uuid.UUID) -> Festival:
        return await self.festivals.get(festival_id)

    async def festival_by_id_or_slug(self, ref: str) -> Festival:
        """For the CLI: a festival by its id or its slug."""
        try:
            return await self.festivals.get(ref)
        except NotFound:
            festival = await self.festivals.get_by_slug(ref)
            if festival is None:
                raise NotFound(f"No festival with id or slug {ref!r}.") from None
            return festival

    async def _prize_list_row(self, festival_id: uuid.UUID, *, exclusive: bool) -> PrizeList:
        """The festival's prize list row, created on first use, locked for this transaction
        (shared for changes to awards, exclusive to change the list itself)."""
        await self.session.exec(
            insert(await self.session.connection(), table_of(PrizeList))
            .values(**PrizeList(festival_id=festival_id).model_dump())
            .on_conflict_do_nothing(index_elements=["festival_id"]))
        return (await self.session.exec(
            select(PrizeList).where(PrizeList.festival_id == festival_id)
            .with_for_update(read=not exclusive)
            .execution_options(populate_existing=True))).one()

    async def _editable(self, festival_id: uuid.UUID, *, exclusive: bool = False) -> PrizeList:
        row = await self._prize_list_row(festival_id, exclusive=exclusive)
        if row.status == PrizeListStatus.LOCKED:
            why = ("results are official" if row.lock_reason == LockReason.RESULTS_OFFICIAL
                   else "the organiser locked it")
            raise Conflict(f"The prize list is locked ({why}); it cannot be changed.",
                           code="prize_list_locked")
        return row

    async def prize_list(self, festival_id: str) -> tuple[Festival, PrizeList | None]:
        festival = await self.festival(festival_id)
        return festival, await self.session.get(PrizeList, festival.id)

    async def update_settings(self, festival_id: str, data: schemas.PrizeListSettingsUpdate
                              ) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await self._editable(festival.id, exclusive=True)
        for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return row

    async def publish(self, festival_id: str) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await self._editable(festival.id, exclusive=True)
        if not await self._count(Award, festival.id):
            raise Conflict("There are no awards to publish.", code="prize_list_empty")
        row.status = PrizeListStatus.PUBLISHED
        row.published_at = row.published_at or utcnow()
        return await self._save(row)

    async def lock(self, festival_id: str | uuid.UUID,
                   reason: LockReason = LockReason.ORGANISER) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await self._prize_list_row(festival.id, exclusive=True)
        if row.status == PrizeListStatus.LOCKED:
            if reason == LockReason.RESULTS_OFFICIAL:
                row.lock_reason = reason
                return await self._save(row)
            return row
        row.status = PrizeListStatus.LOCKED
        row.locked_at = utcnow()
        row.lock_reason = reason
        return await self._save(row)

    async def unlock(self, festival_id: str) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await self._prize_list_row(festival.id, exclusive=True)
        if row.status != PrizeListStatus.LOCKED:
            return row
        if row.lock_reason == LockReason.RESULTS_OFFICIAL:
            raise Conflict("Results are official: the prize list stays locked.",
                           code="prize_list_locked")
        row.status = (PrizeListStatus.PUBLISHED if row.published_at
                      else PrizeListStatus.DRAFT)
        row.locked_at = None
        row.lock_reason = None
        return await self._save(row)

    async def _save(self, row: PrizeList) -> PrizeList:
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return row

    async def _count(self, model: type[Award] | type[AwardCategory],
                     festival_id: uuid.UUID) -> int:
        return int((await self.session.exec(
            select(func.count()).select_from(model).where(
                col(model.festival_id) == festival_id))).one())

    # --- categories ------------------------------------------------------------------------

    async def categories(self, festival_id: uuid.UUID) -> Sequence[AwardCategory]:
        return (await self.session.exec(
            select(AwardCategory).where(AwardCategory.festival_id == festival_id)
            .order_by(col(AwardCategory.display_order), col(AwardCategory.code)))).all()

    async def category_totals(self, category_ids: Iterable[uuid.UUID]
                              ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per category: (awards, total value in fen)."""
        ids = list(category_ids)
        if not ids:
            return {}
        rows = await self.session.exec(
            select(col(Award.category_id), func.count(),
                      func.coalesce(func.sum(col(Award.prize_fen) + col(Award.in_kind_value_fen)),
                                    0))
            .where(col(Award.category_id).in_(ids)).group_by(col(Award.category_id)))
        return {cid: (int(count), int(total)) for cid, count, total in rows.all()}

    async def list_categories(self, festival_id: str, *, limit: int, offset: int
                              ) -> tuple[Festival, list[AwardCategory], int,
                                         dict[uuid.UUID, tuple[int, int]]]:
        festival = await self.festival(festival_id)
        total = await self._count(AwardCategory, festival.id)
        categories = list((await self.session.exec(
            select(AwardCategory).where(AwardCategory.festival_id == festival.id)
            .order_by(col(AwardCategory.display_order), col(AwardCategory.code))
            .limit(limit).offset(offset))).all())
        totals = await self.category_totals(c.id for c in categories)
        return festival, categories, total, totals

    async def get_category(self, festival_id: uuid.UUID, category_id: str, *,
                           for_update: bool = False) -> AwardCategory:
        query = select(AwardCategory).where(
            AwardCategory.id == parse_id(category_id, "award category"),
            AwardCategory.festival_id == festival_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        category = (await self.session.exec(query)).first()
        if category is None:
            raise NotFound(f"No award category with id {category_id!r} at this festival.")
        return category

    async def _code_taken(self, festival_id: uuid.UUID, code: str) -> bool:
        return (await self.session.exec(select(AwardCategory.id).where(
            AwardCategory.festival_id == festival_id, AwardCategory.code == code))
        ).first() is not None

    async def _next_display_order(self, festival_id: uuid.UUID) -> int:
        return int((await self.session.exec(
            select(func.coalesce(func.max(AwardCategory.display_order), 0))
            .where(AwardCategory.festival_id == festival_id))).one()) + 1

    async def create_category(self, festival_id: str, data: schemas.CategoryCreate
                              ) -> AwardCategory:
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        taken = Conflict(f"The category code {data.code!r} is taken.",
                         code="category_code_taken")
        if await self._code_taken(festival.id, data.code):
            raise taken
        category = AwardCategory(
            festival_id=festival.id,
            display_order=data.display_order or await self._next_display_order(festival.id),
            **data.model_dump(exclude={"display_order"}))
        self.session.add(category)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise taken from exc
        return category

    async def update_category(self, festival_id: str, category_id: str,
                              data: schemas.CategoryUpdate) -> AwardCategory:
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        category = await self.get_category(festival.id, category_id, for_update=True)
        changes = data.model_dump(exclude_unset=True)
        nullable = {"sponsor_label_zh", "sponsor_label_en"}
        changes = {k: v for k, v in changes.items() if v is not None or k in nullable}
        code = changes.get("code")
        taken = Conflict(f"The category code {code!r} is taken.", code="category_code_taken")
        if code and code != category.code and await self._code_taken(festival.id, code):
            raise taken
        for name, value in changes.items():
            setattr(category, name, value)
        category.updated_at = utcnow()
        self.session.add(category)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise taken from exc
        return category

    async def delete_category(self, festival_id: str, category_id: str, *,
                              with_awards: bool) -> None:
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        category = await self.get_category(festival.id, category_id, for_update=True)
        count = int((await self.session.exec(select(func.count()).select_from(Award).where(
            Award.category_id == category.id))).one())
        if count and not with_awards:
            raise Conflict(f"The category {category.code!r} has {count} awards; delete them "
                           "first or send with_awards=true.", code="category_has_awards")
        await self._delete_awards([category.id])
        await self.session.delete(category)
        await self.session.flush()

    # --- awards ----------------------------------------------------------------------------

    async def shares_of(self, award_ids: Iterable[uuid.UUID]
                        ) -> dict[uuid.UUID, list[AwardPayeeShare]]:
        ids = list(award_ids)
        shares: dict[uuid.UUID, list[AwardPayeeShare]] = defaultdict(list)
        if ids:
            for share in (await self.session.exec(
                    select(AwardPayeeShare).where(col(AwardPayeeShare.award_id).in_(ids))
                    .order_by(col(AwardPayeeShare.payee)))).all():
                shares[share.award_id].append(share)
        return shares

    @staticmethod
    def _award_order() -> tuple[Any, ...]:
        return (col(Award.place).is_(None), col(Award.place), col(Award.position))

    async def awards(self, festival_id: uuid.UUID,
                     category_id: uuid.UUID | None = None) -> Sequence[Award]:
        query = select(Award).where(Award.festival_id == festival_id)
        if category_id is not None:
            query = query.where(Award.category_id == category_id)
        return (await self.session.exec(query.join(
            AwardCategory, col(AwardCategory.id) == col(Award.category_id)).order_by(
            col(AwardCategory.display_order), col(AwardCategory.code),
            *self._award_order()))).all()

    async def list_awards(self, festival_id: str, *, category_id: str | None, limit: int,
                          offset: int) -> tuple[list[schemas.AwardRead], int]:
        festival = await self.festival(festival_id)
        query = select(Award).where(Award.festival_id == festival.id)
        if category_id is not None:
            category = await self.get_category(festival.id, category_id)
            query = query.where(Award.category_id == category.id)
        total = int((await self.session.exec(
            select(func.count()).select_from(query.subquery()))).one())
        rows = (await self.session.exec(query.join(
            AwardCategory, col(AwardCategory.id) == col(Award.category_id)).order_by(
            col(AwardCategory.display_order), col(AwardCategory.code), *self._award_order())
            .limit(limit).offset(offset))).all()
        return await self.reads(festival.id, rows), total

    async def reads(self, festival_id: uuid.UUID, awards: Sequence[Award]
                    ) -> list[schemas.AwardRead]:
        codes = {c.id: c.code for c in await self.categories(festival_id)}
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
        return int((await self.session.exec(select(func.coalesce(func.max(column), 0)).where(
            Award.category_id == category_id))).one())

    async def create_award(self, festival_id: str, data: schemas.AwardCreate) -> Award:
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        try:
            category = await self.get_category(festival.id, data.category_id, for_update=True)
        except NotFound as exc:
            raise ValidationFailed([FieldError("category_id", exc.detail)]) from None
        errors = [FieldError(f, m) for f, m in award_rule_errors(
            place=data.place, name_zh=data.name_zh, name_en=data.name_en,
            prize_fen=data.prize_fen, in_kind_zh=data.in_kind_zh, in_kind_en=data.in_kind_en,
            in_kind_value_fen=data.in_kind_value_fen, payee_shares=data.payee_shares)]
        if errors:
            raise ValidationFailed(errors)
        if data.place is not None:
            last = await self._max(Award.place, category.id)
            if data.place <= last:
                raise Conflict(f"Place {data.place} of {category.code!r} already has an award; "
                               "edit that award instead.", code="place_taken")
            if data.place > last + 1:
                raise ValidationFailed([FieldError(
                    "place", f"Places are contiguous: the next place of {category.code!r} is "
                             f"{last + 1}.")])
        award = Award(festival_id=festival.id, category_id=category.id, place=data.place,
                      position=await self._max(Award.position, category.id) + 1,
                      currency=festival.currency,
                      **data.model_dump(exclude={"category_id", "place", "payee_shares"}))
        self.session.add(award)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(f"Place {data.place} of {category.code!r} already has an award.",
                           code="place_taken") from exc
        self._add_shares(award.id, data.payee_shares)
        await self.session.flush()
        return award

    def _add_shares(self, award_id: uuid.UUID, shares: Iterable[schemas.PayeeShareIn]) -> None:
        for share in shares:
            self.session.add(AwardPayeeShare(award_id=award_id, payee=share.payee,
                                             amount_fen=share.amount_fen))

    async def update_award(self, festival_id: str, award_id: str, data: schemas.AwardUpdate
                           ) -> Award:
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        award = await self.get_award(festival.id, award_id)
        await self.get_category(festival.id, str(award.category_id), for_update=True)
        changes = {k: v for k, v in data.model_dump(exclude_unset=True).items()
                   if v is not None or k == "ranked_by"}
        new_shares = data.payee_shares
        if new_shares is None:
            new_shares = [schemas.PayeeShareIn(payee=s.payee, amount_fen=s.amount_fen)
                          for s in (await self.shares_of([award.id])).get(award.id, [])]
        merged = {**award.model_dump(), **{k: v for k, v in changes.items()
                                           if k != "payee_shares"}}
        errors = [FieldError(f, m) for f, m in award_rule_errors(
            place=award.place, name_zh=merged["name_zh"], name_en=merged["name_en"],
            prize_fen=merged["prize_fen"], in_kind_zh=merged["in_kind_zh"],
            in_kind_en=merged["in_kind_en"], in_kind_value_fen=merged["in_kind_value_fen"],
            payee_shares=new_shares)]
        if errors:
            raise ValidationFailed(errors)
        for name, value in changes.items():
            if name != "payee_shares":
                setattr(award, name, value)
        award.updated_at = utcnow()
        self.session.add(award)
        if data.payee_shares is not None:
            await self.session.exec(sa.delete(AwardPayeeShare).where(
                col(AwardPayeeShare.award_id) == award.id))
            self._add_shares(award.id, data.payee_shares)
        await self.session.flush()
        return award

    async def delete_award(self, festival_id: str, award_id: str) -> None:
        """Delete an award; the later places of its category move up one."""
        festival = await self.festival(festival_id)
        await self._editable(festival.id)
        award = await self.get_award(festival.id, award_id)
        await self.get_category(festival.id, str(award.category_id), for_update=True)
        place, category_id = award.place, award.category_id
        await self._delete_awards([], award_ids=[award.id])
        if place is None:
            return
        later = (await self.session.exec(select(Award).where(
            Award.category_id == category_id, col(Award.place) > place)
            .order_by(col(Award.place)))).all()
        for moved in later:  # ascending, one at a time: the unique place is never doubled
            assert moved.place is not None
            moved.place -= 1
            moved.updated_at = utcnow()
            self.session.add(moved)
            await self.session.flush()

    async def _delete_awards(self, category_ids: Sequence[uuid.UUID], *,
                             award_ids: Sequence[uuid.UUID] = ()) -> int:
        """Delete awards (and their payee shares) by category or by id; returns how many."""
        condition = (col(Award.category_id).in_(category_ids) if category_ids
                     else col(Award.id).in_(award_ids))
        ids = list((await self.session.exec(select(Award.id).where(condition))).all())
        if not ids:
            return 0
        await self.session.exec(sa.delete(AwardPayeeShare).where(
            col(AwardPayeeShare.award_id).in_(ids)))
        await self.session.exec(sa.delete(Award).where(col(Award.id).in_(ids)))
        return len(ids)

    # --- summary ---------------------------------------------------------------------------

    async def summary(self, festival_id: str | uuid.UUID) -> schemas.PrizeSummary:
        festival = await self.festival(festival_id)
        prize_list = await self.session.get(PrizeList, festival.id)
        return build_summary(festival, prize_list, await self.categories(festival.id),
                             await self.awards(festival.id))

    # --- allocation ------------------------------------------------------------------------

    async def allocate(self, festival_id: str, category_id: str,
                       data: schemas.AllocationRequest) -> schemas.AllocationRead:
        festival = await self.festival(festival_id)
        category = await self.get_category(festival.id, category_id)
        table = {a.place: a.prize_fen for a in await self.awards(festival.id, category.id)
                 if a.place is not None}
        try:
            result = allocation.allocate(table, [
                allocation.Starter(starter_id=s.starter_id, status=s.status,
                                   position=s.position) for s in data.starters])
        except allocation.AllocationError as exc:
            if exc.field.startswith("table"):
                raise Conflict(f"The prize table of {category.code!r} is not usable: "
                               f"{exc.message}", code="prize_table_invalid") from exc
            raise ValidationFailed([FieldError(exc.field, exc.message)]) from exc
        rule = withholding_rule(await self.session.get(PrizeList, festival.id))
        return schemas.AllocationRead(
            category_id=str(category.id), currency=festival.currency,
            table_total_fen=result.table_total_fen, awarded_fen=result.awarded_fen,
            undistributed_fen=result.undistributed_fen, unawarded_fen=result.unawarded_fen,
            unawarded_places=list(result.unawarded_places),
            remainder_rule=result.remainder_rule,
            starters=[schemas.StarterPrizeRead(
                starter_id=p.starter_id, status=p.status, place=p.place,
                pooled_places=list(p.pooled_places), tied_with=p.tied_with,
                prize_fen=p.prize_fen, withheld_fen=rule.withheld_fen(p.prize_fen),
                net_fen=p.prize_fen - rule.withheld_fen(p.prize_fen)) for p in result.prizes])

    # --- import and export -----------------------------------------------------------------

    async def import_prize_list(self, festival_id: str | uuid.UUID, parsed: ParsedPrizeList,
                                *, dry_run: bool) -> schemas.ImportReport:
        """Replace the awards of every category in ``parsed``, all or nothing."""
        festival = await self.festival(festival_id)
        await self._editable(festival.id, exclusive=True)  # imports run one at a time
        existing = {c.code: c for c in (await self.session.exec(
            select(AwardCategory).where(AwardCategory.festival_id == festival.id)
            .order_by(col(AwardCategory.id)).with_for_update()
            .execution_options(populate_existing=True))).all()}
        errors = list(parsed.errors)
        if not parsed.awards and not errors:
            errors.append(RowError(None, "awards", "The prize list has no awards."))
        planned = self._plan_categories(parsed, existing, errors)
        self._check_rows(parsed.awards, planned, errors)
        if errors:
            _reject(errors, parsed)

        touched = list(dict.fromkeys(row.award.category for row in parsed.awards))
        replaced = [existing[code].id for code in touched if code in existing]
        created = [p.code for p in planned.values() if not p.existing]
        updated = [p.code for p in planned.values() if p.existing and p.changed]
        if dry_run:
            categories, awards = await self._preview(festival, planned, parsed.awards, touched)
            replaced_count = sum(1 for a in await self.awards(festival.id)
                                 if a.category_id in replaced)
            summary = build_summary(festival, await self.session.get(PrizeList, festival.id),
                                    categories, awards)
        else:
            by_code = await self._store_categories(festival.id, planned)
            replaced_count = await self._delete_awards(replaced) if replaced else 0
            await self._store_awards(festival, by_code, parsed.awards)
            summary = await self.summary(festival.id)
        return schemas.ImportReport(
            dry_run=dry_run, stored=not dry_run, format=parsed.format, rows=parsed.rows,
            categories_created=created, categories_updated=updated,
            awards_created=len(parsed.awards), awards_replaced=replaced_count,
            summary=summary)

    def _plan_categories(self, parsed: ParsedPrizeList, existing: Mapping[str, AwardCategory],
                         errors: list[RowError]) -> dict[str, _PlannedCategory]:
        values: dict[str, dict[str, Any]] = {}
        sources: dict[str, dict[str, RowRef]] = defaultdict(dict)
        first_ref: dict[str, RowRef] = {}
        for draft in parsed.categories:
            if parsed.format == "json" and draft.code in values:
                errors.append(RowError(draft.ref, f"{draft.ref.path}.code",
                                       f"The category {draft.code!r} appears twice."))
                continue
            merged = values.setdefault(draft.code, {})
            first_ref.setdefault(draft.code, draft.ref)
            for name, value in draft.values.items():
                if name in merged and merged[name] != value:
                    other = sources[draft.code][name]
                    errors.append(RowError(draft.ref, draft.ref.field(name), (
                        f"The category {draft.code!r} has {name} {merged[name]!r} on "
                        f"{_where(other)}, not {value!r}.")))
                    continue
                merged[name] = value
                sources[draft.code].setdefault(name, draft.ref)
        codes = list(dict.fromkeys([*values, *(row.award.category for row in parsed.awards)]))
        planned: dict[str, _PlannedCategory] = {}
        for code in codes:
            given = values.get(code, {})
            current = existing.get(code)
            if current is None:
                missing = [name for name in _CATEGORY_REQUIRED if name not in given]
                if missing:
                    for row in parsed.awards:
                        if row.award.category == code:
                            errors.append(RowError(row.ref, row.ref.field("category"), (
                                f"Unknown category {code!r}: create it first, or give its "
                                f"{', '.join(_CATEGORY_REQUIRED)} in the file.")))
                    if code in first_ref and not any(
                            row.award.category == code for row in parsed.awards):
                        ref = first_ref[code]
                        errors.append(RowError(ref, ref.path, (
                            f"The new category {code!r} needs {', '.join(missing)}.")))
                    continue
                planned[code] = _PlannedCategory(code, None, given, True)
            else:
                changed = any(getattr(current, k) != v for k, v in given.items())
                planned[code] = _PlannedCategory(code, current, given, changed)
        return planned

    @staticmethod
    def _check_rows(rows: Sequence[AwardRow], planned: Mapping[str, _PlannedCategory],
                    errors: list[RowError]) -> None:
        places: dict[str, dict[int, AwardRow]] = defaultdict(dict)
        for row in rows:
            award = row.award
            for field, message in award_rule_errors(
                    place=award.place, name_zh=award.name_zh, name_en=award.name_en,
                    prize_fen=award.prize_fen, in_kind_zh=award.in_kind_zh,
                    in_kind_en=award.in_kind_en, in_kind_value_fen=award.in_kind_value_fen,
                    payee_shares=award.payee_shares):
                head, _, rest = field.partition(".")
                errors.append(RowError(row.ref, row.ref.field(head) + (f".{rest}" if rest
                                                                        else ""), message))
            if award.place is None:
                continue
            taken = places[award.category].get(award.place)
            if taken is not None:
                errors.append(RowError(row.ref, row.ref.field("place"), (
                    f"Place {award.place} of {award.category!r} is also on {_where(taken.ref)}.")))
            else:
                places[award.category][award.place] = row
        for code, by_place in places.items():
            if code not in planned:
                continue
            expected = 1
            for place in sorted(by_place):
                if place != expected:
                    row = by_place[place]
                    missing = (f"place {expected}" if place == expected + 1
                               else f"places {expected}-{place - 1}")
                    errors.append(RowError(row.ref, row.ref.field("place"), (
                        f"Places of {code!r} must run 1..N without gaps: {missing} "
                        f"{'is' if place == expected + 1 else 'are'} missing before "
                        f"place {place}.")))
                expected = place + 1

    async def _store_categories(self, festival_id: uuid.UUID,
                                planned: Mapping[str, _PlannedCategory]
                                ) -> dict[str, AwardCategory]:
        by_code = {}
        order = await self._next_display_order(festival_id)
        for plan in planned.values():
            category = plan.existing
            if category is None:
                values = dict(plan.values)
                category = AwardCategory(festival_id=festival_id, code=plan.code,
                                         display_order=values.pop("display_order", order),
                                         **values)
                order = max(order, category.display_order) + 1
            elif plan.changed:
                for name, value in plan.values.items():
                    setattr(category, name, value)
                category.updated_at = utcnow()
            self.session.add(category)
            by_code[plan.code] = category
        await self.session.flush()
        return by_code

    async def _store_awards(self, festival: Festival, by_code: Mapping[str, AwardCategory],
                            rows: Sequence[AwardRow]) -> None:
        positions: dict[str, int] = defaultdict(int)
        stored: list[tuple[Award, list[schemas.PayeeShareIn]]] = []
        for row in rows:
            positions[row.award.category] += 1
            award = _new_award(festival, by_code[row.award.category], row.award,
                               positions[row.award.category])
            self.session.add(award)
            stored.append((award, row.award.payee_shares))
        await self.session.flush()
        for award, shares in stored:
            self._add_shares(award.id, shares)
        await self.session.flush()

    async def _preview(self, festival: Festival, planned: Mapping[str, _PlannedCategory],
                       rows: Sequence[AwardRow], touched: Sequence[str]
                       ) -> tuple[list[AwardCategory], list[Award]]:
        """The categories and awards as they would be after the import; nothing stored."""
        categories = []
        order = await self._next_display_order(festival.id)
        for category in await self.categories(festival.id):
            plan = planned.get(category.code)
            if plan and plan.changed:
                category = AwardCategory(**{**category.model_dump(), **plan.values})
            categories.append(category)
        for plan in planned.values():
            if plan.existing is None:
                values = dict(plan.values)
                categories.append(AwardCategory(festival_id=festival.id, code=plan.code,
                                                display_order=values.pop("display_order", order),
                                                **values))
                order += 1
        by_code = {c.code: c for c in categories}
        awards = [a for a in await self.awards(festival.id)
                  if a.category_id not in {by_code[code].id for code in touched}]
        positions: dict[str, int] = defaultdict(int)
        for row in rows:
            positions[row.award.category] += 1
            awards.append(_new_award(festival, by_code[row.award.category], row.award,
                                     positions[row.award.category]))
        categories.sort(key=lambda c: (c.display_order, c.code))
        return categories, awards

    async def export(self, festival_id: str) -> tuple[
            Festival, Sequence[AwardCategory], Sequence[Award],
            dict[uuid.UUID, list[AwardPayeeShare]]]:
        festival = await self.festival(festival_id)
        awards = await self.awards(festival.id)
        return (festival, await self.categories(festival.id), awards,
                await self.shares_of(a.id for a in awards))


async def lock_for_official_results(session: AsyncSession, festival_id: uuid.UUID) -> None:
    """For the results domain: once results are official, the prize list is frozen for good
    (an organiser cannot unlock it)."""
    await AwardService(session).lock(festival_id, LockReason.RESULTS_OFFICIAL)


def _new_award(festival: Festival, category: AwardCategory, data: schemas.ImportAward,
               position: int) -> Award:
    return Award(festival_id=festival.id, category_id=category.id, position=position,
                 currency=festival.currency,
                 **data.model_dump(exclude={"category", "payee_shares"}))


def _where(ref: RowRef) -> str:
    return f"line {ref.row}" if ref.path.startswith("lines.") else ref.path


def _reject(errors: Sequence[RowError], parsed: ParsedPrizeList) -> None:
    ordered = sorted(errors, key=lambda e: (-1 if e.ref is None else e.ref.row))
    bad_rows = sorted({e.ref.row for e in errors if e.ref is not None})
    unit = "awards" if parsed.format == "json" else "lines"  # a CSV's or a sheet's lines
    raise ValidationFailed(
        [FieldError(e.field, e.message) for e in ordered],
        detail=(f"The prize list was refused and nothing was stored: {len(errors)} "
                f"problem(s)" + (f" on {unit} {', '.join(map(str, bad_rows))}."
                                 if bad_rows else ".")),
        code="import_rejected", bad_rows=bad_rows, stored=False)


def award_read(award: Award, category_code: str, shares: Sequence[AwardPayeeShare]
               ) -> schemas.AwardRead:
    shared = sum(s.amount_fen for s in shares)
    return schemas.AwardRead(
        id=str(award.id), festival_id=str(award.festival_id),
        category_id=str(award.category_id), category_code=category_code, place=award.place,
        position=award.position, name_zh=award.name_zh, name_en=award.name_en,
        ranked_by=award.ranked_by, prize_fen=award.prize_fen, currency=award.currency,
        in_kind_zh=award.in_kind_zh, in_kind_en=award.in_kind_en,
        in_kind_value_fen=award.in_kind_value_fen,
        value_fen=award.prize_fen + award.in_kind_value_fen,
        payee_shares=[schemas.PayeeShareRead(payee=s.payee, amount_fen=s.amount_fen)
                      for s in shares],
        owner_share_fen=award.prize_fen - shared,
        created_at=award.created_at, updated_at=award.updated_at)


def category_read(category: AwardCategory, currency: str, awards: int, total: int
                  ) -> schemas.CategoryRead:
    return schemas.CategoryRead(
        id=str(category.id), festival_id=str(category.festival_id), code=category.code,
        name_zh=category.name_zh, name_en=category.name_en, ranked_by=category.ranked_by,
        display_order=category.display_order, sponsor_label_zh=category.sponsor_label_zh,
        sponsor_label_en=category.sponsor_label_en, awards=awards, total_prize=total,
        currency=currency, created_at=category.created_at, updated_at=category.updated_at)


def prize_list_read(festival: Festival, row: PrizeList | None) -> schemas.PrizeListRead:
    row = row or PrizeList(festival_id=festival.id)
    return schemas.PrizeListRead(
        festival_id=str(festival.id), status=row.status, published_at=row.published_at,
        locked_at=row.locked_at, lock_reason=row.lock_reason,
        withholding_enabled=row.withholding_enabled,
        withholding_rate_bp=row.withholding_rate_bp,
        withholding_threshold_fen=row.withholding_threshold_fen, updated_at=row.updated_at)


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


async def prize_table(session: AsyncSession, festival_id: uuid.UUID,
                      category_id: uuid.UUID) -> PrizeTable | None:
    """For the results domain: a category's prize table, payee shares and withholding rule
    (None when the category does not exist at this festival)."""
    category = await session.get(AwardCategory, category_id)
    if category is None or category.festival_id != festival_id:
        return None
    service = AwardService(session)
    awards = [a for a in await service.awards(festival_id, category_id) if a.place is not None]
    festival = await service.festival(festival_id)
    return PrizeTable(
        category_id=category.id, ranked_by=str(category.ranked_by), currency=festival.currency,
        awards_by_place={a.place: a for a in awards if a.place is not None},
        shares=await service.shares_of(a.id for a in awards),
        withholding=withholding_rule(await session.get(PrizeList, festival_id)))


async def category_names(session: AsyncSession, festival_id: uuid.UUID
                         ) -> dict[uuid.UUID, AwardCategory]:
    """For the results domain: the festival's categories by id."""
    return {c.id: c for c in await AwardService(session).categories(festival_id)}


async def award_names(session: AsyncSession, festival_id: uuid.UUID) -> dict[uuid.UUID, Award]:
    """For the results domain: the festival's awards by id."""
    return {a.id: a for a in await AwardService(session).awards(festival_id)}
