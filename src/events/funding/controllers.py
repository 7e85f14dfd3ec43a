"""Funding routes: sponsors (with logos and statements), the append-only ledger, reversals,
the summary with its coverage warning, exports and the two charts."""

import datetime as dt
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, current_principal, organiser_only
from events.config import Settings
from events.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized
from events.funding import charts, schemas
from events.funding.exports import ledger_csv, ledger_xlsx
from events.funding.media import statement_pdf
from events.funding.models import Direction, FundingSource, Origin
from events.funding.services import FundingService, RecordFilters
from events.pagination import Limit, Offset, Page
from events.problems import error_responses
from events.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

ERRORS = (NotFound, Unauthorized, Forbidden)
PDF = "application/pdf"
SVG = "image/svg+xml"
# Organisers' documents come in Chinese and English (page text also has Tibetan).
LangQuery = Annotated[Literal["zh", "en"], QueryParameter(description="zh (default) or en")]


def provide_funding(db_session: NamedDependency[AsyncSession]) -> FundingService:
    return FundingService(db_session)


class SponsorController(Controller):
    path = "/api/v1/festivals/{festival_id:str}/sponsors"
    tags = ["Funding"]
    dependencies = {"funding": Provide(provide_funding, sync_to_thread=False)}

    @get(
        operation_id="ListSponsors",
        summary="A festival's sponsors, first recorded first",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(*ERRORS),
    )
    async def list_sponsors(
        self,
        festival_id: FromPath[str],
        funding: NamedDependency[FundingService],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[schemas.SponsorRead]:
        items, total = await funding.list_sponsors(festival_id, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        operation_id="CreateSponsor",
        summary="Record a sponsor: names, contact, tier, what its name is on, pledge, "
        "contributions in kind",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(*ERRORS, Conflict),
    )
    async def create_sponsor(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: JSONBody[schemas.SponsorIn],
        funding: NamedDependency[FundingService],
    ) -> schemas.SponsorRead:
        sponsor, in_kind = await funding.create_sponsor(
            festival_id, data, actor_id=current_principal(request).id
        )
        return schemas.sponsor_read(sponsor, in_kind)

    @get(
        "/{sponsor_id:str}",
        operation_id="GetSponsor",
        summary="One sponsor",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(*ERRORS),
    )
    async def get_sponsor(
        self,
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        funding: NamedDependency[FundingService],
    ) -> schemas.SponsorRead:
        return await funding.read_sponsor(festival_id, sponsor_id)

    @put(
        "/{sponsor_id:str}/logo",
        operation_id="UploadSponsorLogo",
        summary="Upload the sponsor's logo (the image itself as the body: PNG, JPEG or "
        "WebP, at most 512 KiB)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        status_code=200,
        responses=error_responses(*ERRORS),
    )
    async def upload_logo(
        self,
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        body: RawBody,
        funding: NamedDependency[FundingService],
    ) -> schemas.SponsorRead:
        return await funding.set_logo(festival_id, sponsor_id, body)

    @get(
        "/{sponsor_id:str}/logo",
        operation_id="GetSponsorLogo",
        summary="The sponsor's logo (public: it is shown on public pages)",
        media_type="image/png",
        responses=error_responses(NotFound),
    )
    async def get_logo(
        self,
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        funding: NamedDependency[FundingService],
    ) -> Response[bytes]:
        body, media_type = await funding.logo(festival_id, sponsor_id)
        return Response(
            body,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    @get(
        "/{sponsor_id:str}/statement",
        operation_id="GetSponsorStatement",
        summary="What the sponsor pledged and gave, what it funded, where its name appears",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(*ERRORS),
    )
    async def statement(
        self,
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        funding: NamedDependency[FundingService],
    ) -> schemas.SponsorStatement:
        return (await funding.statement(festival_id, sponsor_id)).read

    @get(
        "/{sponsor_id:str}/statement.pdf",
        operation_id="GetSponsorStatementPdf",
        summary="The sponsor's statement as a PDF (zh or en)",
        media_type=PDF,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(*ERRORS, ServiceUnavailable),
    )
    async def statement_pdf(
        self,
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        funding: NamedDependency[FundingService],
        settings: NamedDependency[Settings],
        lang: LangQuery = "zh",
    ) -> Response[bytes]:
        statement = (await funding.statement(festival_id, sponsor_id)).read
        pdf = statement_pdf(statement, settings.ticket_font_path, lang)
        return Response(
            pdf,
            media_type=PDF,
            headers={
                "Content-Disposition": f'attachment; filename="sponsor-{sponsor_id}-{lang}.pdf"'
            },
        )


class FundingController(Controller):
    path = "/api/v1/festivals/{festival_id:str}/funding"
    tags = ["Funding"]
    guards = [organiser_only]
    security = BEARER_SECURITY
    dependencies = {"funding": Provide(provide_funding, sync_to_thread=False)}

    @get(
        operation_id="ListFundingRecords",
        summary="The funding ledger, newest first, with filters",
        responses=error_responses(*ERRORS),
    )
    async def list_records(
        self,
        festival_id: FromPath[str],
        funding: NamedDependency[FundingService],
        limit: Limit = 50,
        offset: Offset = 0,
        source: Annotated[
            FundingSource | None, QueryParameter(description="Only this source")
        ] = None,
        direction: Annotated[Direction | None, QueryParameter(description="in or out")] = None,
        sponsor_id: Annotated[
            str | None, QueryParameter(description="Only records linked to this sponsor")
        ] = None,
        origin: Annotated[
            Origin | None, QueryParameter(description="manual, payment, refund, payout or reversal")
        ] = None,
        date_from: Annotated[
            dt.date | None, QueryParameter(name="from", description="On or after this day")
        ] = None,
        date_to: Annotated[
            dt.date | None, QueryParameter(name="to", description="On or before this day")
        ] = None,
    ) -> Page[schemas.RecordRead]:
        filters = RecordFilters(
            source=source,
            direction=direction,
            sponsor_id=sponsor_id,
            origin=origin,
            date_from=date_from,
            date_to=date_to,
        )
        items, total = await funding.list_records(festival_id, filters, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post(
        operation_id="RecordFunding",
        summary="Record money received (or paid) by hand; the ledger is append-only",
        responses=error_responses(*ERRORS),
    )
    async def record(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: JSONBody[schemas.RecordIn],
        funding: NamedDependency[FundingService],
    ) -> schemas.RecordRead:
        row = await funding.record(festival_id, data, actor_id=current_principal(request).id)
        return schemas.record_read(row)

    @post(
        "/{record_id:str}/reversal",
        operation_id="ReverseFundingRecord",
        summary="Correct a record with a reversing one (the record itself stays)",
        responses=error_responses(*ERRORS, Conflict),
    )
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        record_id: FromPath[str],
        data: JSONBody[schemas.ReversalIn],
        funding: NamedDependency[FundingService],
    ) -> schemas.RecordRead:
        row = await funding.reverse(
            festival_id, record_id, data, actor_id=current_principal(request).id
        )
        return schemas.record_read(row)

    @get(
        "/summary",
        operation_id="SummariseFunding",
        summary="Totals per source and per sponsor; prize money committed, owed, paid; "
        "balance; coverage and its warnings",
        responses=error_responses(*ERRORS),
    )
    async def summary(
        self, festival_id: FromPath[str], funding: NamedDependency[FundingService]
    ) -> schemas.FundingSummary:
        return await funding.summary(festival_id)

    @get(
        "/charts/by-source.svg",
        operation_id="FundingBySourceChart",
        summary="Net money per source, as SVG",
        media_type=SVG,
        responses=error_responses(*ERRORS),
    )
    async def chart_by_source(
        self,
        festival_id: FromPath[str],
        funding: NamedDependency[FundingService],
        lang: LangQuery = "zh",
    ) -> Response[str]:
        svg = charts.by_source_svg(await funding.summary(festival_id), lang)
        return Response(svg, media_type=SVG, headers={"Cache-Control": "no-store"})

    @get(
        "/charts/coverage.svg",
        operation_id="FundingCoverageChart",
        summary="Prize money committed against money received, pledged and in kind, as SVG",
        media_type=SVG,
        responses=error_responses(*ERRORS),
    )
    async def chart_coverage(
        self,
        festival_id: FromPath[str],
        funding: NamedDependency[FundingService],
        lang: LangQuery = "zh",
    ) -> Response[str]:
        svg = charts.coverage_svg(await funding.summary(festival_id), lang)
        return Response(svg, media_type=SVG, headers={"Cache-Control": "no-store"})

    async def _export(
        self, festival_id: str, funding: FundingService
    ) -> tuple[list[Any], dict[str, str], schemas.FundingSummary]:
        festival = await funding.festival(festival_id)
        sponsors = {str(s.id): s.name_zh for s in await funding.sponsors(festival.id)}
        return (
            await funding.all_records(festival.id),
            sponsors,
            await funding.summary(festival.id),
        )

    @get(
        "/export.csv",
        operation_id="ExportFundingCsv",
        summary="The whole ledger as CSV (UTF-8 with BOM)",
        media_type=CSV_MEDIA_TYPE,
        responses=error_responses(*ERRORS),
    )
    async def export_csv(
        self, festival_id: FromPath[str], funding: NamedDependency[FundingService]
    ) -> Response[bytes]:
        records, sponsors, _ = await self._export(festival_id, funding)
        return Response(
            ledger_csv(records, sponsors),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="funding-{festival_id}.csv"'},
        )

    @get(
        "/export.xlsx",
        operation_id="ExportFundingXlsx",
        summary="The whole ledger and the totals per source, as an Excel workbook",
        media_type=XLSX_MEDIA_TYPE,
        responses=error_responses(*ERRORS),
    )
    async def export_xlsx(
        self, festival_id: FromPath[str], funding: NamedDependency[FundingService]
    ) -> Response[bytes]:
        records, sponsors, summary = await self._export(festival_id, funding)
        return Response(
            ledger_xlsx(records, sponsors, summary),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="funding-{festival_id}.xlsx"'},
        )
