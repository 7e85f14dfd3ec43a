"""Rules for a festival's award categories.

A category's code is unique at its festival (409 ``category_code_taken``); a category
with awards is deleted only with them (409 ``category_has_awards`` otherwise). Every
change refuses while the prize list is locked (see ``common.editable``).

Services never commit: the request (or the CLI's transaction) does.
"""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import schemas
from events.awards.common import FestivalScoped, count, delete_awards, editable
from events.awards.models import Award, AwardCategory
from events.db.base import utcnow
from events.errors import Conflict, NotFound
from events.festivals.models import Festival
from events.ids import parse_id


class CategoryService(FestivalScoped):
    async def categories(self, festival_id: uuid.UUID) -> Sequence[AwardCategory]:
        return (
            await self.session.exec(
                select(AwardCategory)
                .where(AwardCategory.festival_id == festival_id)
                .order_by(col(AwardCategory.display_order), col(AwardCategory.code))
            )
        ).all()

    async def category_totals(
        self, category_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per category: (awards, total value in fen)."""
        ids = list(category_ids)
        if not ids:
            return {}
        rows = await self.session.exec(
            select(
                col(Award.category_id),
                func.count(),
                func.coalesce(func.sum(col(Award.prize_fen) + col(Award.in_kind_value_fen)), 0),
            )
            .where(col(Award.category_id).in_(ids))
            .group_by(col(Award.category_id))
        )
        return {cid: (int(n), int(total)) for cid, n, total in rows.all()}

    async def list_categories(
        self, festival_id: str, *, limit: int, offset: int
    ) -> tuple[Festival, list[AwardCategory], int, dict[uuid.UUID, tuple[int, int]]]:
        festival = await self.festival(festival_id)
        total = await count(self.session, AwardCategory, festival.id)
        categories = list(
            (
                await self.session.exec(
                    select(AwardCategory)
                    .where(AwardCategory.festival_id == festival.id)
                    .order_by(col(AwardCategory.display_order), col(AwardCategory.code))
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        )
        totals = await self.category_totals(c.id for c in categories)
        return festival, categories, total, totals

    async def get_category(
        self, festival_id: uuid.UUID, category_id: str, *, for_update: bool = False
    ) -> AwardCategory:
        query = select(AwardCategory).where(
            AwardCategory.id == parse_id(category_id, "award category"),
            AwardCategory.festival_id == festival_id,
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        category = (await self.session.exec(query)).first()
        if category is None:
            raise NotFound(f"No award category with id {category_id!r} at this festival.")
        return category

    async def _code_taken(self, festival_id: uuid.UUID, code: str) -> bool:
        return (
            await self.session.exec(
                select(AwardCategory.id).where(
                    AwardCategory.festival_id == festival_id, AwardCategory.code == code
                )
            )
        ).first() is not None

    async def next_display_order(self, festival_id: uuid.UUID) -> int:
        return (
            int(
                (
                    await self.session.exec(
                        select(func.coalesce(func.max(AwardCategory.display_order), 0)).where(
                            AwardCategory.festival_id == festival_id
                        )
                    )
                ).one()
            )
            + 1
        )

    async def create_category(
        self, festival_id: str, data: schemas.CategoryCreate
    ) -> AwardCategory:
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
        taken = Conflict(f"The category code {data.code!r} is taken.", code="category_code_taken")
        if await self._code_taken(festival.id, data.code):
            raise taken
        category = AwardCategory(
            festival_id=festival.id,
            display_order=data.display_order or await self.next_display_order(festival.id),
            **data.model_dump(exclude={"display_order"}),
        )
        self.session.add(category)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise taken from exc
        return category

    async def update_category(
        self, festival_id: str, category_id: str, data: schemas.CategoryUpdate
    ) -> AwardCategory:
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
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

    async def delete_category(
        self, festival_id: str, category_id: str, *, with_awards: bool
    ) -> None:
        festival = await self.festival(festival_id)
        await editable(self.session, festival.id)
        category = await self.get_category(festival.id, category_id, for_update=True)
        n = int(
            (
                await self.session.exec(
                    select(func.count()).select_from(Award).where(Award.category_id == category.id)
                )
            ).one()
        )
        if n and not with_awards:
            raise Conflict(
                f"The category {category.code!r} has {n} awards; delete them "
                "first or send with_awards=true.",
                code="category_has_awards",
            )
        await delete_awards(self.session, [category.id])
        await self.session.delete(category)
        await self.session.flush()


async def category_names(
    session: AsyncSession, festival_id: uuid.UUID
) -> dict[uuid.UUID, AwardCategory]:
    """For the results domain: the festival's categories by id."""
    return {c.id: c for c in await CategoryService(session).categories(festival_id)}
