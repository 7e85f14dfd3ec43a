"""Payments: the list with filters (status, provider, purpose), paged on the server; the
reconciliation summary (``payments.reconciliation``); the movements as CSV/XLSX."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only
from events.access.models import Role
from events.config import Settings
from events.console.forms import FormState
from events.console.layout import NavItem, add_nav, festival_page
from events.console.paging import Paged, PageNumber, window
from events.console.values import yuan
from events.payments import schemas
from events.payments.reconciliation import ReconciliationService, to_csv, to_xlsx
from events.payments.services import PaymentPurpose, PaymentService, PaymentStatus, Provider
from events.spreadsheets import XLSX_MEDIA_TYPE
from events.web.i18n import N_

add_nav(
    NavItem(
        "console.nav.payments",
        "/console/festivals/{festival}/payments",
        (Role.ORGANISER,),
        position=60,
    )
)

Choice = Annotated[str | None, QueryParameter(max_length=32)]


def _one_of(value: str | None, allowed: type[Any]) -> str | None:
    return value if value in {v.value for v in allowed} else None


class ConsolePaymentController(Controller):
    include_in_schema = False
    path = "/festivals/{festival_id:str}/payments"

    @get(
        operation_id="ConsolePaymentList",
        summary="Payments with filters and the reconciliation summary (page)",
        guards=[organiser_only],
    )
    async def payments(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        page: PageNumber = 1,
        status: Choice = None,
        provider: Choice = None,
        purpose: Choice = None,
    ) -> Response[Any]:
        chosen = {
            "status": _one_of(status, PaymentStatus),
            "provider": _one_of(provider, Provider),
            "purpose": _one_of(purpose, PaymentPurpose),
        }
        query = {k: v for k, v in chosen.items() if v}
        items, total = await PaymentService(db_session, settings).list(
            festival_id,
            **window(page),
            status=chosen["status"],
            provider=chosen["provider"],
            purpose=chosen["purpose"],
        )
        summary = await ReconciliationService(db_session).summary(festival_id)
        return await festival_page(
            request,
            db_session,
            festival_id,
            "payments/list.html",
            paged=Paged([schemas.payment_read(p) for p in items], total, page),
            query=query,
            form=FormState.of(query),
            summary=summary,
            yuan=yuan,
            statuses=[s.value for s in PaymentStatus],
            providers=[p.value for p in Provider],
            purposes=[p.value for p in PaymentPurpose],
        )

    @get(
        "/export.csv",
        operation_id="ConsolePaymentExportCsv",
        summary="Every movement of money, as CSV",
        guards=[organiser_only],
        media_type="text/csv",
    )
    async def export_csv(
        self, festival_id: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        export = await ReconciliationService(db_session).export(festival_id)
        return Response(
            to_csv(export),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export.filename}.csv"'},
        )

    @get(
        "/export.xlsx",
        operation_id="ConsolePaymentExportXlsx",
        summary="Every movement of money and the totals, as Excel",
        guards=[organiser_only],
        media_type=XLSX_MEDIA_TYPE,
    )
    async def export_xlsx(
        self, festival_id: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        export = await ReconciliationService(db_session).export(festival_id)
        return Response(
            to_xlsx(export),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}.xlsx"'},
        )


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.nav.payments"),
    N_("console.payments.email"),
    N_("console.payments.provider.cash"),
    N_("console.payments.provider.stripe"),
    N_("console.payments.provider.test"),
    N_("console.payments.purpose.entry_fee"),
    N_("console.payments.purpose.ticket_order"),
    N_("console.payments.status.cancelled"),
    N_("console.payments.status.created"),
    N_("console.payments.status.expired"),
    N_("console.payments.status.failed"),
    N_("console.payments.status.partially_refunded"),
    N_("console.payments.status.pending"),
    N_("console.payments.status.refunded"),
    N_("console.payments.status.succeeded"),
)
