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
from events.web.i18n import register

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


register(
    {
        "zh": {
            "console.nav.payments": "收款",
            "console.payments.title": "收款",
            "console.payments.summary": "对账",
            "console.payments.received": "收到（元）",
            "console.payments.refunded": "退款（元）",
            "console.payments.net": "净额（元）",
            "console.payments.count": "笔数",
            "console.payments.unmatched": "未匹配的支付通知",
            "console.payments.by_provider": "按支付方式",
            "console.payments.by_purpose": "按用途",
            "console.payments.status": "状态",
            "console.payments.provider": "支付方式",
            "console.payments.purpose": "用途",
            "console.payments.amount": "金额（元）",
            "console.payments.description": "说明",
            "console.payments.email": "邮箱",
            "console.payments.created": "时间",
            "console.payments.any": "全部",
            "console.payments.filter": "筛选",
            "console.payments.export_csv": "导出 CSV",
            "console.payments.export_xlsx": "导出 Excel",
            "console.payments.provider.stripe": "在线（Stripe）",
            "console.payments.provider.test": "测试",
            "console.payments.provider.cash": "现金",
            "console.payments.purpose.entry_fee": "报名费",
            "console.payments.purpose.ticket_order": "门票",
            "console.payments.status.created": "已创建",
            "console.payments.status.pending": "待支付",
            "console.payments.status.succeeded": "已收款",
            "console.payments.status.failed": "失败",
            "console.payments.status.expired": "已过期",
            "console.payments.status.cancelled": "已取消",
            "console.payments.status.partially_refunded": "部分退款",
            "console.payments.status.refunded": "已退款",
        },
        "en": {
            "console.nav.payments": "Payments",
            "console.payments.title": "Payments",
            "console.payments.summary": "Reconciliation",
            "console.payments.received": "Received (yuan)",
            "console.payments.refunded": "Refunded (yuan)",
            "console.payments.net": "Net (yuan)",
            "console.payments.count": "Payments",
            "console.payments.unmatched": "Unmatched provider events",
            "console.payments.by_provider": "By provider",
            "console.payments.by_purpose": "By purpose",
            "console.payments.status": "Status",
            "console.payments.provider": "Provider",
            "console.payments.purpose": "Purpose",
            "console.payments.amount": "Amount (yuan)",
            "console.payments.description": "Description",
            "console.payments.email": "E-mail",
            "console.payments.created": "Created",
            "console.payments.any": "Any",
            "console.payments.filter": "Filter",
            "console.payments.export_csv": "Export CSV",
            "console.payments.export_xlsx": "Export Excel",
            "console.payments.provider.stripe": "online (Stripe)",
            "console.payments.provider.test": "test",
            "console.payments.provider.cash": "cash",
            "console.payments.purpose.entry_fee": "entry fee",
            "console.payments.purpose.ticket_order": "tickets",
            "console.payments.status.created": "created",
            "console.payments.status.pending": "pending",
            "console.payments.status.succeeded": "succeeded",
            "console.payments.status.failed": "failed",
            "console.payments.status.expired": "expired",
            "console.payments.status.cancelled": "cancelled",
            "console.payments.status.partially_refunded": "partly refunded",
            "console.payments.status.refunded": "refunded",
        },
    }
)
