"""Rules for a festival's prize list as a whole: its settings, publishing and locking, its
summary, and the import and export of every award at once.

* A locked prize list (by the organiser, or when results are official: see
  ``lock_for_official_results``) refuses every change with 409 ``prize_list_locked``.
  Locking and imports take the exclusive lock on the festival's ``prize_list`` row (see
  ``events.awards.common``), so no change slips in after a lock and two imports of the
  same file run one after the other.
* An import replaces, all or nothing, the awards of every category it has rows for;
  categories it does not mention are untouched. Any bad row refuses the whole file
  (422 ``import_rejected``), every bad row named; a dry run answers the same report
  without storing anything.

Services never commit: the request (or the CLI's transaction) does.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import schemas
from events.awards.categories import CategoryService
from events.awards.common import FestivalScoped, count, delete_awards, editable, prize_list_row
from events.awards.importing import AwardRow, ParsedPrizeList, RowError, RowRef
from events.awards.models import (
    Award,
    AwardCategory,
    AwardPayeeShare,
    LockReason,
    PrizeList,
    PrizeListStatus,
)
from events.awards.prizes import AwardService, award_rule_errors
from events.awards.summary import build_summary
from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals.models import Festival

_CATEGORY_REQUIRED = ("name_zh", "name_en", "ranked_by")


@dataclass(frozen=True)
class _PlannedCategory:
    code: str
    existing: AwardCategory | None
    values: dict[str, Any]
    changed: bool


class PrizeListService(FestivalScoped):
    """A festival's prize list: settings, publish, lock, summary, import and export."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.category_service = CategoryService(session)
        self.award_service = AwardService(session)

    async def festival_by_id_or_slug(self, ref: str) -> Festival:
        """For the CLI: a festival by its id or its slug."""
        try:
            return await self.festivals.get(ref)
        except NotFound:
            festival = await self.festivals.get_by_slug(ref)
            if festival is None:
                raise NotFound(f"No festival with id or slug {ref!r}.") from None
            return festival

    async def prize_list(self, festival_id: str) -> tuple[Festival, PrizeList | None]:
        festival = await self.festival(festival_id)
        return festival, await self.session.get(PrizeList, festival.id)

    async def update_settings(
        self, festival_id: str, data: schemas.PrizeListSettingsUpdate
    ) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await editable(self.session, festival.id, exclusive=True)
        for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return row

    async def publish(self, festival_id: str) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await editable(self.session, festival.id, exclusive=True)
        if not await count(self.session, Award, festival.id):
            raise Conflict("There are no awards to publish.", code="prize_list_empty")
        row.status = PrizeListStatus.PUBLISHED
        row.published_at = row.published_at or utcnow()
        return await self._save(row)

    async def lock(
        self, festival_id: str | uuid.UUID, reason: LockReason = LockReason.ORGANISER
    ) -> PrizeList:
        festival = await self.festival(festival_id)
        row = await prize_list_row(self.session, festival.id, exclusive=True)
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
        row = await prize_list_row(self.session, festival.id, exclusive=True)
        if row.status != PrizeListStatus.LOCKED:
            return row
        if row.lock_reason == LockReason.RESULTS_OFFICIAL:
            raise Conflict(
                "Results are official: the prize list stays locked.", code="prize_list_locked"
            )
        row.status = PrizeListStatus.PUBLISHED if row.published_at else PrizeListStatus.DRAFT
        row.locked_at = None
        row.lock_reason = None
        return await self._save(row)

    async def _save(self, row: PrizeList) -> PrizeList:
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return row

    async def summary(self, festival_id: str | uuid.UUID) -> schemas.PrizeSummary:
        festival = await self.festival(festival_id)
        prize_list = await self.session.get(PrizeList, festival.id)
        return build_summary(
            festival,
            prize_list,
            await self.category_service.categories(festival.id),
            await self.award_service.awards(festival.id),
        )

    # --- import and export -----------------------------------------------------------------

    async def import_prize_list(
        self, festival_id: str | uuid.UUID, parsed: ParsedPrizeList, *, dry_run: bool
    ) -> schemas.ImportReport:
        """Replace the awards of every category in ``parsed``, all or nothing."""
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id, exclusive=True)  # imports run one at a time
        existing = {
            c.code: c
            for c in (
                await self.session.exec(
                    select(AwardCategory)
                    .where(AwardCategory.festival_id == festival.id)
                    .order_by(col(AwardCategory.id))
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).all()
        }
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
            replaced_count = sum(
                1 for a in await self.award_service.awards(festival.id) if a.category_id in replaced
            )
            summary = build_summary(
                festival, await self.session.get(PrizeList, festival.id), categories, awards
            )
        else:
            by_code = await self._store_categories(festival.id, planned)
            replaced_count = await delete_awards(self.session, replaced) if replaced else 0
            await self._store_awards(festival, by_code, parsed.awards)
            summary = await self.summary(festival.id)
        return schemas.ImportReport(
            dry_run=dry_run,
            stored=not dry_run,
            format=parsed.format,
            rows=parsed.rows,
            categories_created=created,
            categories_updated=updated,
            awards_created=len(parsed.awards),
            awards_replaced=replaced_count,
            summary=summary,
        )

    def _plan_categories(
        self, parsed: ParsedPrizeList, existing: Mapping[str, AwardCategory], errors: list[RowError]
    ) -> dict[str, _PlannedCategory]:
        values: dict[str, dict[str, Any]] = {}
        sources: dict[str, dict[str, RowRef]] = defaultdict(dict)
        first_ref: dict[str, RowRef] = {}
        for draft in parsed.categories:
            if parsed.format == "json" and draft.code in values:
                errors.append(
                    RowError(
                        draft.ref,
                        f"{draft.ref.path}.code",
                        f"The category {draft.code!r} appears twice.",
                    )
                )
                continue
            merged = values.setdefault(draft.code, {})
            first_ref.setdefault(draft.code, draft.ref)
            for name, value in draft.values.items():
                if name in merged and merged[name] != value:
                    other = sources[draft.code][name]
                    errors.append(
                        RowError(
                            draft.ref,
                            draft.ref.field(name),
                            (
                                f"The category {draft.code!r} has {name} {merged[name]!r} on "
                                f"{_where(other)}, not {value!r}."
                            ),
                        )
                    )
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
                            errors.append(
                                RowError(
                                    row.ref,
                                    row.ref.field("category"),
                                    (
                                        f"Unknown category {code!r}: create it first, or give its "
                                        f"{', '.join(_CATEGORY_REQUIRED)} in the file."
                                    ),
                                )
                            )
                    if code in first_ref and not any(
                        row.award.category == code for row in parsed.awards
                    ):
                        ref = first_ref[code]
                        errors.append(
                            RowError(
                                ref,
                                ref.path,
                                (f"The new category {code!r} needs {', '.join(missing)}."),
                            )
                        )
                    continue
                planned[code] = _PlannedCategory(code, None, given, True)
            else:
                changed = any(getattr(current, k) != v for k, v in given.items())
                planned[code] = _PlannedCategory(code, current, given, changed)
        return planned

    @staticmethod
    def _check_rows(
        rows: Sequence[AwardRow], planned: Mapping[str, _PlannedCategory], errors: list[RowError]
    ) -> None:
        places: dict[str, dict[int, AwardRow]] = defaultdict(dict)
        for row in rows:
            award = row.award
            for field, message in award_rule_errors(
                place=award.place,
                name_zh=award.name_zh,
                name_en=award.name_en,
                prize_fen=award.prize_fen,
                in_kind_zh=award.in_kind_zh,
                in_kind_en=award.in_kind_en,
                in_kind_value_fen=award.in_kind_value_fen,
                payee_shares=award.payee_shares,
            ):
                head, _, rest = field.partition(".")
                errors.append(
                    RowError(row.ref, row.ref.field(head) + (f".{rest}" if rest else ""), message)
                )
            if award.place is None:
                continue
            taken = places[award.category].get(award.place)
            if taken is not None:
                errors.append(
                    RowError(
                        row.ref,
                        row.ref.field("place"),
                        (
                            f"Place {award.place} of {award.category!r} is also on "
                            f"{_where(taken.ref)}."
                        ),
                    )
                )
            else:
                places[award.category][award.place] = row
        for code, by_place in places.items():
            if code not in planned:
                continue
            expected = 1
            for place in sorted(by_place):
                if place != expected:
                    row = by_place[place]
                    missing = (
                        f"place {expected}"
                        if place == expected + 1
                        else f"places {expected}-{place - 1}"
                    )
                    errors.append(
                        RowError(
                            row.ref,
                            row.ref.field("place"),
                            (
                                f"Places of {code!r} must run 1..N without gaps: {missing} "
                                f"{'is' if place == expected + 1 else 'are'} missing before "
                                f"place {place}."
                            ),
                        )
                    )
                expected = place + 1

    async def _store_categories(
        self, festival_id: uuid.UUID, planned: Mapping[str, _PlannedCategory]
    ) -> dict[str, AwardCategory]:
        by_code = {}
        order = await self.category_service.next_display_order(festival_id)
        for plan in planned.values():
            category = plan.existing
            if category is None:
                values = dict(plan.values)
                category = AwardCategory(
                    festival_id=festival_id,
                    code=plan.code,
                    display_order=values.pop("display_order", order),
                    **values,
                )
                order = max(order, category.display_order) + 1
            elif plan.changed:
                for name, value in plan.values.items():
                    setattr(category, name, value)
                category.updated_at = utcnow()
            self.session.add(category)
            by_code[plan.code] = category
        await self.session.flush()
        return by_code

    async def _store_awards(
        self, festival: Festival, by_code: Mapping[str, AwardCategory], rows: Sequence[AwardRow]
    ) -> None:
        positions: dict[str, int] = defaultdict(int)
        stored: list[tuple[Award, list[schemas.PayeeShareIn]]] = []
        for row in rows:
            positions[row.award.category] += 1
            award = _new_award(
                festival, by_code[row.award.category], row.award, positions[row.award.category]
            )
            self.session.add(award)
            stored.append((award, row.award.payee_shares))
        await self.session.flush()
        for award, shares in stored:
            self.award_service.add_shares(award.id, shares)
        await self.session.flush()

    async def _preview(
        self,
        festival: Festival,
        planned: Mapping[str, _PlannedCategory],
        rows: Sequence[AwardRow],
        touched: Sequence[str],
    ) -> tuple[list[AwardCategory], list[Award]]:
        """The categories and awards as they would be after the import; nothing stored."""
        categories = []
        order = await self.category_service.next_display_order(festival.id)
        for category in await self.category_service.categories(festival.id):
            plan = planned.get(category.code)
            if plan and plan.changed:
                category = AwardCategory(**{**category.model_dump(), **plan.values})
            categories.append(category)
        for plan in planned.values():
            if plan.existing is None:
                values = dict(plan.values)
                categories.append(
                    AwardCategory(
                        festival_id=festival.id,
                        code=plan.code,
                        display_order=values.pop("display_order", order),
                        **values,
                    )
                )
                order += 1
        by_code = {c.code: c for c in categories}
        awards = [
            a
            for a in await self.award_service.awards(festival.id)
            if a.category_id not in {by_code[code].id for code in touched}
        ]
        positions: dict[str, int] = defaultdict(int)
        for row in rows:
            positions[row.award.category] += 1
            awards.append(
                _new_award(
                    festival, by_code[row.award.category], row.award, positions[row.award.category]
                )
            )
        categories.sort(key=lambda c: (c.display_order, c.code))
        return categories, awards

    async def export(
        self, festival_id: str
    ) -> tuple[
        Festival, Sequence[AwardCategory], Sequence[Award], dict[uuid.UUID, list[AwardPayeeShare]]
    ]:
        festival = await self.festival(festival_id)
        awards = await self.award_service.awards(festival.id)
        return (
            festival,
            await self.category_service.categories(festival.id),
            awards,
            await self.award_service.shares_of(a.id for a in awards),
        )


async def lock_for_official_results(session: AsyncSession, festival_id: uuid.UUID) -> None:
    """For the results domain: once results are official, the prize list is frozen for good
    (an organiser cannot unlock it)."""
    await PrizeListService(session).lock(festival_id, LockReason.RESULTS_OFFICIAL)


def _new_award(
    festival: Festival, category: AwardCategory, data: schemas.ImportAward, position: int
) -> Award:
    return Award(
        festival_id=festival.id,
        category_id=category.id,
        position=position,
        currency=festival.currency,
        **data.model_dump(exclude={"category", "payee_shares"}),
    )


def _where(ref: RowRef) -> str:
    return f"line {ref.row}" if ref.path.startswith("lines.") else ref.path


def _reject(errors: Sequence[RowError], parsed: ParsedPrizeList) -> None:
    ordered = sorted(errors, key=lambda e: -1 if e.ref is None else e.ref.row)
    bad_rows = sorted({e.ref.row for e in errors if e.ref is not None})
    unit = "awards" if parsed.format == "json" else "lines"  # a CSV's or a sheet's lines
    raise ValidationFailed(
        [FieldError(e.field, e.message) for e in ordered],
        detail=(
            f"The prize list was refused and nothing was stored: {len(errors)} "
            f"problem(s)" + (f" on {unit} {', '.join(map(str, bad_rows))}." if bad_rows else ".")
        ),
        code="import_rejected",
        bad_rows=bad_rows,
        stored=False,
    )
