"""Award routes: the public reads; organisers configure, import, publish and lock."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, organiser_only, requires_role
from events.access.models import Role
from events.awards import importing, schemas
from events.awards.categories import CategoryService
from events.awards.mappers import category_read, prize_list_read
from events.awards.prize_list import PrizeListService
from events.awards.prizes import AwardService
from events.errors import Conflict, NotFound, ValidationFailed
from events.pagination import Limit, Offset, Page
from events.problems import error_responses
from events.spreadsheets import CSV_MEDIA_TYPE as CSV
from events.spreadsheets import XLSX_MEDIA_TYPE as XLSX

DryRun = Annotated[
    bool, QueryParameter(description="Check the file and answer the report; store nothing")
]
Format = Annotated[
    Literal["csv", "json", "xlsx"] | None,
    QueryParameter(
        name="format", description="Default: JSON for application/json bodies, CSV otherwise"
    ),
]


def provide_category_service(db_session: NamedDependency[AsyncSession]) -> CategoryService:
    return CategoryService(db_session)


def provide_award_service(db_session: NamedDependency[AsyncSession]) -> AwardService:
    return AwardService(db_session)


def provide_prize_list_service(db_session: NamedDependency[AsyncSession]) -> PrizeListService:
    return PrizeListService(db_session)


@dataclass
class ImportOperation(Operation):
    """Documents the raw CSV or JSON body the import route reads itself."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=(
                "A whole prize list. CSV: one row per award; English or Chinese headers "
                "(category/类别代码, place/名次, prize_yuan/奖金(元), award_name_zh/奖项名称, ...; "
                'amounts in whole yuan, or *_fen columns). JSON: {"categories": [...], '
                '"awards": [...]} with amounts in fen.'
            ),
            content={
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                "application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
            },
        )


def _attachment(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class AwardController(Controller):
    path = "/api/v1/festivals/{festival_id:str}"
    tags = ["Awards"]
    dependencies = {
        "categories": Provide(provide_category_service, sync_to_thread=False),
        "awards": Provide(provide_award_service, sync_to_thread=False),
        "prize_list": Provide(provide_prize_list_service, sync_to_thread=False),
    }

    # --- categories ------------------------------------------------------------------------

    @get(
        "/award-categories",
        operation_id="ListAwardCategories",
        summary="Award categories of a festival, in display order (public)",
        responses=error_responses(NotFound),
    )
    async def list_categories(
        self,
        festival_id: FromPath[str],
        categories: NamedDependency[CategoryService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.CategoryRead]:
        festival, rows, total, totals = await categories.list_categories(
            festival_id, limit=limit, offset=offset
        )
        return Page(
            items=[category_read(c, festival.currency, *totals.get(c.id, (0, 0))) for c in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @post(
        "/award-categories",
        operation_id="CreateAwardCategory",
        summary="Add an award category",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def create_category(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.CategoryCreate],
        categories: NamedDependency[CategoryService],
    ) -> schemas.CategoryRead:
        category = await categories.create_category(festival_id, data)
        festival = await categories.festival(festival_id)
        return category_read(category, festival.currency, 0, 0)

    @get(
        "/award-categories/{category_id:str}",
        operation_id="GetAwardCategory",
        summary="An award category (public)",
        responses=error_responses(NotFound),
    )
    async def get_category(
        self,
        festival_id: FromPath[str],
        category_id: FromPath[str],
        categories: NamedDependency[CategoryService],
    ) -> schemas.CategoryRead:
        festival = await categories.festival(festival_id)
        category = await categories.get_category(festival.id, category_id)
        totals = await categories.category_totals([category.id])
        return category_read(category, festival.currency, *totals.get(category.id, (0, 0)))

    @patch(
        "/award-categories/{category_id:str}",
        operation_id="UpdateAwardCategory",
        summary="Edit an award category",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def update_category(
        self,
        festival_id: FromPath[str],
        category_id: FromPath[str],
        data: JSONBody[schemas.CategoryUpdate],
        categories: NamedDependency[CategoryService],
    ) -> schemas.CategoryRead:
        category = await categories.update_category(festival_id, category_id, data)
        festival = await categories.festival(festival_id)
        totals = await categories.category_totals([category.id])
        return category_read(category, festival.currency, *totals.get(category.id, (0, 0)))

    @delete(
        "/award-categories/{category_id:str}",
        operation_id="DeleteAwardCategory",
        summary="Delete an award category",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def delete_category(
        self,
        festival_id: FromPath[str],
        category_id: FromPath[str],
        categories: NamedDependency[CategoryService],
        with_awards: Annotated[
            bool,
            QueryParameter(
                description="Also delete its awards (otherwise 409 category_has_awards)"
            ),
        ] = False,
    ) -> None:
        await categories.delete_category(festival_id, category_id, with_awards=with_awards)

    @post(
        "/award-categories/{category_id:str}/allocation",
        operation_id="AllocatePrizes",
        summary="Each starter's prize from a final ranking (dead heats, DNS/DNF/DSQ); "
        "stores nothing",
        status_code=200,
        guards=[requires_role(Role.ORGANISER, Role.OFFICIAL)],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def allocate(
        self,
        festival_id: FromPath[str],
        category_id: FromPath[str],
        data: JSONBody[schemas.AllocationRequest],
        awards: NamedDependency[AwardService],
    ) -> schemas.AllocationRead:
        return await awards.allocate(festival_id, category_id, data)

    # --- the prize list as a whole -------------------------------------------------------------

    @get(
        "/awards/summary",
        operation_id="GetAwardsSummary",
        summary="Counts, totals (fen), extremes and flags of the prize list (public)",
        responses=error_responses(NotFound),
    )
    async def summary(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeSummary:
        return await prize_list.summary(festival_id)

    @post(
        "/awards/import",
        operation_id="ImportAwards",
        summary="Import a whole prize list (CSV or JSON), all or nothing",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        operation_class=ImportOperation,
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def import_awards(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
        dry_run: DryRun = False,
        file_format: Format = None,
    ) -> schemas.ImportReport:
        """Replaces the awards of every category the file has rows for; a bad row refuses
        the whole file (422 ``import_rejected``, every bad row named). Answers a report and
        the summary after the import."""
        body = await request.body()
        fmt = file_format or importing.detect_format(request.headers.get("content-type"), body)
        parsed = await anyio.to_thread.run_sync(importing.parse, body, fmt)  # CPU: off the loop
        return await prize_list.import_prize_list(festival_id, parsed, dry_run=dry_run)

    @get(
        "/awards/export.csv",
        operation_id="ExportAwardsCsv",
        summary="The prize list as CSV (reads back with ImportAwards; public)",
        media_type=CSV,
        responses=error_responses(NotFound),
    )
    async def export_csv(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
        lang: Annotated[Literal["en", "zh"], QueryParameter(description="Header language")] = "en",
    ) -> Response[bytes]:
        festival, categories, rows, shares = await prize_list.export(festival_id)
        header, lines = importing.export_rows(categories, rows, shares, lang)
        return _attachment(importing.to_csv(header, lines), CSV, f"{festival.slug}-awards.csv")

    @get(
        "/awards/export.xlsx",
        operation_id="ExportAwardsXlsx",
        summary="The prize list as an Excel workbook, with a summary sheet (public)",
        media_type=XLSX,
        responses=error_responses(NotFound),
    )
    async def export_xlsx(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
        lang: Annotated[Literal["en", "zh"], QueryParameter(description="Header language")] = "en",
    ) -> Response[bytes]:
        festival, categories, rows, shares = await prize_list.export(festival_id)
        header, lines = importing.export_rows(categories, rows, shares, lang)
        summary = await prize_list.summary(festival.id)
        return _attachment(
            importing.to_xlsx(header, lines, summary), XLSX, f"{festival.slug}-awards.xlsx"
        )

    @get(
        "/awards/settings",
        operation_id="GetPrizeListSettings",
        summary="Status (draft, published, locked) and withholding rule (public)",
        responses=error_responses(NotFound),
    )
    async def get_settings(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeListRead:
        return prize_list_read(*await prize_list.prize_list(festival_id))

    @patch(
        "/awards/settings",
        operation_id="UpdatePrizeListSettings",
        summary="Set the withholding rule (e.g. 20 % on prizes of 10,000 yuan or more)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def update_settings(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.PrizeListSettingsUpdate],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeListRead:
        row = await prize_list.update_settings(festival_id, data)
        return prize_list_read(await prize_list.festival(festival_id), row)

    @post(
        "/awards/publish",
        operation_id="PublishPrizeList",
        summary="Publish (advertise) the prize list; it stays editable until locked",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def publish(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeListRead:
        row = await prize_list.publish(festival_id)
        return prize_list_read(await prize_list.festival(festival_id), row)

    @post(
        "/awards/lock",
        operation_id="LockPrizeList",
        summary="Lock the prize list: every change is refused (409 prize_list_locked)",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def lock(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeListRead:
        row = await prize_list.lock(festival_id)
        return prize_list_read(await prize_list.festival(festival_id), row)

    @post(
        "/awards/unlock",
        operation_id="UnlockPrizeList",
        summary="Unlock a prize list the organiser locked (not once results are official)",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def unlock(
        self,
        festival_id: FromPath[str],
        prize_list: NamedDependency[PrizeListService],
    ) -> schemas.PrizeListRead:
        row = await prize_list.unlock(festival_id)
        return prize_list_read(await prize_list.festival(festival_id), row)

    # --- awards ----------------------------------------------------------------------------

    @get(
        "/awards",
        operation_id="ListAwards",
        summary="Awards of a festival by category and place (public)",
        responses=error_responses(NotFound),
    )
    async def list_awards(
        self,
        festival_id: FromPath[str],
        awards: NamedDependency[AwardService],
        limit: Limit = 200,
        offset: Offset = 0,
        category_id: Annotated[str | None, QueryParameter(description="Only this category")] = None,
    ) -> Page[schemas.AwardRead]:
        items, total = await awards.list_awards(
            festival_id, category_id=category_id, limit=limit, offset=offset
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        "/awards",
        operation_id="CreateAward",
        summary="Add an award: the next place of a category, or a named special award",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def create_award(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.AwardCreate],
        awards: NamedDependency[AwardService],
    ) -> schemas.AwardRead:
        award = await awards.create_award(festival_id, data)
        return (await awards.reads(award.festival_id, [award]))[0]

    @get(
        "/awards/{award_id:str}",
        operation_id="GetAward",
        summary="An award (public)",
        responses=error_responses(NotFound),
    )
    async def get_award(
        self,
        festival_id: FromPath[str],
        award_id: FromPath[str],
        awards: NamedDependency[AwardService],
    ) -> schemas.AwardRead:
        return await awards.read_award(festival_id, award_id)

    @patch(
        "/awards/{award_id:str}",
        operation_id="UpdateAward",
        summary="Edit an award's names, prize, prize in kind or payee split",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def update_award(
        self,
        festival_id: FromPath[str],
        award_id: FromPath[str],
        data: JSONBody[schemas.AwardUpdate],
        awards: NamedDependency[AwardService],
    ) -> schemas.AwardRead:
        award = await awards.update_award(festival_id, award_id, data)
        return (await awards.reads(award.festival_id, [award]))[0]

    @delete(
        "/awards/{award_id:str}",
        operation_id="DeleteAward",
        summary="Delete an award; the later places of its category move up",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def delete_award(
        self,
        festival_id: FromPath[str],
        award_id: FromPath[str],
        awards: NamedDependency[AwardService],
    ) -> None:
        await awards.delete_award(festival_id, award_id)


__all__ = ["AwardController"]
