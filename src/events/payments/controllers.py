"""Payment routes: Stripe's webhook, the test provider, refunds, cash, reconciliation."""

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter, RawBody
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, current_principal, organiser_only
from events.config import Settings
from events.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized
from events.idempotency import IdempotencyKey
from events.links import Links
from events.pagination import Limit, Offset, Page
from events.payments import schemas
from events.payments.gateway import PaymentProviderError
from events.payments.pages import result_page, test_checkout_page
from events.payments.reconciliation import ReconciliationService, to_csv, to_xlsx
from events.payments.services import (
    PaymentPurpose,
    PaymentService,
    PaymentStatus,
    Provider,
    check_pay_token,
)
from events.payments.webhooks import BadWebhook, StripeWebhookService
from events.problems import error_responses
from events.spreadsheets import XLSX_MEDIA_TYPE as XLSX

PayToken = Annotated[
    str | None,
    QueryParameter(
        name="pay_token",
        min_length=1,
        max_length=64,
        required=False,
        description="The payment's own token, from its pay link (checkout_url)",
    ),
]


def provide_payment_service(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> PaymentService:
    return PaymentService(db_session, settings, Links.for_request(request, settings))


def provide_webhook_service(
    db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]
) -> StripeWebhookService:
    return StripeWebhookService(db_session, settings)


def provide_reconciliation(db_session: NamedDependency[AsyncSession]) -> ReconciliationService:
    return ReconciliationService(db_session)


def _state(view: Any) -> schemas.PaymentState:
    return schemas.payment_state(
        view.id, view.status, view.provider, view.amount, view.amount_refunded, view.currency
    )


class PaymentController(Controller):
    path = "/api/v1/payments"
    tags = ["Payments"]
    dependencies = {
        "payments": Provide(provide_payment_service, sync_to_thread=False),
        "webhooks": Provide(provide_webhook_service, sync_to_thread=False),
    }

    @post(
        "/stripe/webhook",
        operation_id="ReceiveStripeWebhook",
        summary="Stripe's webhook (Stripe-Signature verified; redeliveries are no-ops)",
        status_code=200,
        responses=error_responses(BadWebhook, NotFound, Conflict, ServiceUnavailable),
    )
    async def stripe_webhook(
        self,
        body: RawBody,
        webhooks: NamedDependency[StripeWebhookService],
        stripe_signature: Annotated[
            str | None, HeaderParameter(name="Stripe-Signature", required=False)
        ] = None,
    ) -> schemas.WebhookAck:
        outcome = await webhooks.receive(body, stripe_signature)
        return schemas.WebhookAck(
            received=True,
            event_id=outcome.event_id,
            type=outcome.type,
            duplicate=outcome.duplicate,
            outcome=outcome.outcome,
        )

    @get(
        "/{payment_id:str}",
        operation_id="GetPayment",
        summary="A payment with its status history and refunds",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Unauthorized, Forbidden),
    )
    async def get_payment(
        self, payment_id: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> schemas.PaymentDetail:
        payment = await payments.get(payment_id)
        return schemas.payment_detail(
            payment, await payments.history(payment.id), await payments.refunds_of(payment.id)
        )

    @post(
        "/{payment_id:str}/refunds",
        operation_id="RefundPayment",
        summary="Refund all that remains of a payment, or part of it",
        description="Honours `Idempotency-Key`: a retry returns the same refund.",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(
            NotFound, Conflict, PaymentProviderError, ServiceUnavailable, Unauthorized, Forbidden
        ),
    )
    async def refund_payment(
        self,
        request: Request[Any, Any, Any],
        payment_id: FromPath[str],
        data: JSONBody[schemas.RefundIn],
        payments: NamedDependency[PaymentService],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.RefundCreated:
        actor = current_principal(request)
        payment = await payments.get(payment_id)
        refund = await payments.refund(
            payment.id,
            amount=data.amount,
            reason=data.reason,
            idempotency_key=idempotency_key,
            actor_id=actor.id,
        )
        return schemas.refund_created(refund, payment)

    @post(
        "/{payment_id:str}/cash",
        operation_id="RecordCashPayment",
        summary="Record cash taken on site for an open payment",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(
            NotFound, Conflict, PaymentProviderError, ServiceUnavailable, Unauthorized, Forbidden
        ),
    )
    async def record_cash(
        self,
        request: Request[Any, Any, Any],
        payment_id: FromPath[str],
        data: JSONBody[schemas.CashIn],
        payments: NamedDependency[PaymentService],
    ) -> schemas.PaymentRead:
        actor = current_principal(request)
        view = await payments.record_cash(
            payment_id, amount=data.amount, note=data.note, actor_id=actor.id
        )
        return schemas.payment_read(await payments.get(view.id))

    @post(
        "/{payment_id:str}/test-complete",
        operation_id="CompleteTestPayment",
        summary="Test provider: pay, as Stripe's webhook would confirm it (404 when off)",
        status_code=200,
        responses=error_responses(NotFound, Conflict, Unauthorized, Forbidden),
    )
    async def test_complete(
        self,
        payment_id: FromPath[str],
        payments: NamedDependency[PaymentService],
        pay_token: PayToken = None,
    ) -> schemas.PaymentState:
        return _state(await payments.test_complete(payment_id, pay_token))

    @post(
        "/{payment_id:str}/test-cancel",
        operation_id="CancelTestPayment",
        summary="Test provider: the payer cancels; what was held is released (404 when off)",
        status_code=200,
        responses=error_responses(NotFound, Conflict, Unauthorized, Forbidden),
    )
    async def test_cancel(
        self,
        payment_id: FromPath[str],
        payments: NamedDependency[PaymentService],
        pay_token: PayToken = None,
    ) -> schemas.PaymentState:
        return _state(await payments.test_cancel(payment_id, pay_token))


ORGANISER_ERRORS = (NotFound, Unauthorized, Forbidden)


class FestivalPaymentController(Controller):
    path = "/api/v1/festivals/{festival_id:str}/payments"
    tags = ["Payments"]
    guards = [organiser_only]
    security = BEARER_SECURITY
    dependencies = {
        "payments": Provide(provide_payment_service, sync_to_thread=False),
        "reconciliation": Provide(provide_reconciliation, sync_to_thread=False),
    }

    @get(
        operation_id="ListPayments",
        summary="A festival's payments, newest first",
        responses=error_responses(*ORGANISER_ERRORS),
    )
    async def list_payments(
        self,
        festival_id: FromPath[str],
        payments: NamedDependency[PaymentService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[
            PaymentStatus | None, QueryParameter(description="Only this status")
        ] = None,
        provider: Annotated[
            Provider | None, QueryParameter(description="Only this provider")
        ] = None,
        purpose: Annotated[
            PaymentPurpose | None, QueryParameter(description="Only this purpose")
        ] = None,
    ) -> Page[schemas.PaymentRead]:
        items, total = await payments.list(
            festival_id,
            limit=limit,
            offset=offset,
            status=status,
            provider=provider,
            purpose=purpose,
        )
        return Page(
            items=[schemas.payment_read(p) for p in items], total=total, limit=limit, offset=offset
        )

    @get(
        "/summary",
        operation_id="SummarisePayments",
        summary="Payments by status, provider and purpose; money received, refunded, net",
        responses=error_responses(*ORGANISER_ERRORS),
    )
    async def summary(
        self, festival_id: FromPath[str], reconciliation: NamedDependency[ReconciliationService]
    ) -> schemas.PaymentSummary:
        return await reconciliation.summary(festival_id)

    @get(
        "/export.csv",
        operation_id="ExportPaymentsCsv",
        summary="Every movement of money (payments and refunds) as CSV, for reconciliation",
        media_type="text/csv",
        responses=error_responses(*ORGANISER_ERRORS),
    )
    async def export_csv(
        self, festival_id: FromPath[str], reconciliation: NamedDependency[ReconciliationService]
    ) -> Response[bytes]:
        export = await reconciliation.export(festival_id)
        return Response(
            to_csv(export),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{export.filename}.csv"'},
        )

    @get(
        "/export.xlsx",
        operation_id="ExportPaymentsXlsx",
        summary="Every movement of money and the totals, as an Excel workbook",
        media_type=XLSX,
        responses=error_responses(*ORGANISER_ERRORS),
    )
    async def export_xlsx(
        self, festival_id: FromPath[str], reconciliation: NamedDependency[ReconciliationService]
    ) -> Response[bytes]:
        export = await reconciliation.export(festival_id)
        return Response(
            to_xlsx(export),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}.xlsx"'},
        )


class PaymentPageController(Controller):
    path = "/pay"
    tags = ["Payments"]
    dependencies = {"payments": Provide(provide_payment_service, sync_to_thread=False)}

    @get(
        "/test/{payment_id:str}",
        operation_id="TestCheckoutPage",
        summary="Test provider's checkout page (HTML; 404 when the test provider is off)",
        media_type=MediaType.HTML,
        responses=error_responses(NotFound, Unauthorized, Forbidden),
    )
    async def test_checkout(
        self,
        payment_id: FromPath[str],
        payments: NamedDependency[PaymentService],
        settings: NamedDependency[Settings],
        pay_token: PayToken = None,
    ) -> str:
        if not settings.test_payments_enabled:
            raise NotFound("The test payment provider is off.", code="test_provider_disabled")
        payment = await payments.get(payment_id)
        if payment.provider != Provider.TEST:
            raise NotFound(f"No test payment with id {payment_id!r}.", code="payment_not_found")
        check_pay_token(settings, payment.id, pay_token)
        return test_checkout_page(payment, pay_token or "")

    @get(
        "/{payment_id:str}/result",
        operation_id="PaymentResultPage",
        summary="Where the payer lands after checkout (HTML): paid or being confirmed, on "
        "to the order or entry page; otherwise the outcome and a link back to it",
        media_type=MediaType.HTML,
        responses=error_responses(NotFound),
    )
    async def result(
        self,
        payment_id: FromPath[str],
        payments: NamedDependency[PaymentService],
        canceled: Annotated[
            int, QueryParameter(ge=0, le=1, description="1: came back from cancelling")
        ] = 0,
    ) -> Response[Any]:
        payment = await payments.get(payment_id)
        back = Links.return_path(payment.purpose, payment.reference_id)
        if back is not None and not canceled and payment.status in RETURNING:
            # The order (or entry) page shows the tickets, or waits for the confirmation.
            # It opens on the payer's phone with the cookie its first visit left; the
            # link carries no access token (Stripe sees this address).
            return Redirect(back, status_code=303)
        return Response(
            result_page(payment, canceled=bool(canceled), back=back), media_type=MediaType.HTML
        )


RETURNING = frozenset({PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.SUCCEEDED})
