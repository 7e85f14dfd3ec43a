"""Ticketing: ticket types and quotas with what is left per day; orders found by e-mail,
phone or order number; cancel an order, refund a ticket (the amount shown first), reissue
a ticket; the cash desk, which sells and records cash in one form.

Each action calls the ticketing service the API route calls (``OrderService.place`` with
``payment_provider="cash"``, ``OrderService.cancel``, ``TicketService.refund_ticket`` and
``reissue``), so capacity, tokens, revocations and the payment stay right.
"""

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from markupsafe import Markup
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import current_principal, organiser_only
from events.access.models import Role
from events.config import Settings
from events.console.forms import Form, FormState, parse
from events.console.layout import NavItem, add_nav, festival_page
from events.console.paging import Paged, PageNumber, window
from events.console.values import blank_none, yuan
from events.db.deps import abandon
from events.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from events.festivals import services as festival_services
from events.ticketing import media, schemas, search
from events.ticketing.catalog import CatalogService
from events.ticketing.models import TicketStatus
from events.ticketing.orders import OrderService
from events.ticketing.tickets import TicketService
from events.web.i18n import N_

add_nav(
    NavItem(
        "console.nav.tickets",
        "/console/festivals/{festival}/tickets",
        (Role.ORGANISER,),
        position=50,
    ),
    NavItem(
        "console.nav.orders", "/console/festivals/{festival}/orders", (Role.ORGANISER,), position=51
    ),
    NavItem(
        "console.nav.cashdesk",
        "/console/festivals/{festival}/cash-desk",
        (Role.ORGANISER,),
        position=52,
    ),
)

Search = Annotated[str | None, QueryParameter(max_length=254)]
ORDER_STATUSES = ("pending", "paid", "refunded", "canceled", "expired")


class AmountChanged(Conflict):
    """The refund is no longer the amount that was shown."""


def _orders(
    request: Request[Any, Any, Any], session: AsyncSession, settings: Settings, state: State
) -> OrderService:
    return OrderService(session, settings, state.db)


def _qr(token: str) -> Markup:
    svg = media.qr_svg(token).decode()
    return Markup(svg[svg.index("<svg") :])  # noqa: S704 - our own SVG, no user text in it


class ConsoleTicketController(Controller):
    include_in_schema = False
    path = "/festivals/{festival_id:str}"

    # --- ticket types and quotas ----------------------------------------------------------

    async def _types_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        *,
        status: int = 200,
        form: FormState | None = None,
        failed_quota: str | None = None,
    ) -> Response[Any]:
        catalog = CatalogService(session)
        types = await catalog.types(festival_id, include_inactive=True)
        festival = await festival_services.FestivalService(session).read(festival_id)
        dates = {d.id: d.date.isoformat() for m in festival.meetings for d in m.days}
        quotas = sorted(
            await catalog.quotas(festival_id), key=lambda q: (dates.get(q.day_id or "", ""), q.name)
        )
        return await festival_page(
            request,
            session,
            festival_id,
            "tickets/types.html",
            status=status,
            types=types,
            quotas=quotas,
            dates=dates,
            yuan=yuan,
            form=form or FormState.of(),
            failed_quota=failed_quota,
        )

    @get(
        "/tickets",
        operation_id="ConsoleTicketTypes",
        summary="Ticket types and quotas, with what is left per day (page)",
        guards=[organiser_only],
    )
    async def ticket_types(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._types_page(request, db_session, festival_id)

    @post(
        "/tickets/quotas/{quota_id:str}",
        operation_id="ConsoleQuotaResize",
        summary="Resize a quota (never below what is sold and held) (form)",
        guards=[organiser_only],
    )
    async def resize_quota(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        quota_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        try:
            body = parse(schemas.QuotaUpdate, {"size": data.get("size", "").strip() or None})
            await CatalogService(db_session).update_quota(festival_id, quota_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            form = FormState.failed(data, exc)
            if "_" in form.errors:  # a size below what is taken: next to the size
                form.errors["size"] = form.errors.pop("_")
            return await self._types_page(
                request,
                db_session,
                festival_id,
                status=_status(exc),
                form=form,
                failed_quota=quota_id,
            )
        return Redirect(f"/console/festivals/{festival_id}/tickets", status_code=303)

    # --- orders -------------------------------------------------------------------------

    @get(
        "/orders",
        operation_id="ConsoleOrderList",
        summary="Orders, found by e-mail, phone or order number (page)",
        guards=[organiser_only],
    )
    async def orders(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page: PageNumber = 1,
        q: Search = None,
        status: Search = None,
    ) -> Response[Any]:
        query = {k: v for k, v in {"q": q, "status": status}.items() if v}
        items, total = await search.find_orders(
            db_session,
            festival_id,
            q=q,
            status=status if status in ORDER_STATUSES else None,
            **window(page),
        )
        return await festival_page(
            request,
            db_session,
            festival_id,
            "tickets/orders.html",
            paged=Paged(items, total, page),
            query=query,
            form=FormState.of(query),
            statuses=ORDER_STATUSES,
            number=search.order_number,
            yuan=yuan,
        )

    async def _order_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        state: State,
        festival_id: str,
        order_id: str,
        *,
        status: int = 200,
        form: FormState | None = None,
        sold: bool = False,
    ) -> Response[Any]:
        order = await _orders(request, session, settings, state).read(
            order_id, None, is_organiser=True
        )
        if order.festival_id != festival_id:
            raise NotFound(
                f"No order with id {order_id!r} at this festival.", code="order_not_found"
            )
        valid = [t for t in order.tickets if t.status == TicketStatus.VALID]
        return await festival_page(
            request,
            session,
            festival_id,
            "tickets/order.html",
            status=status,
            order=order,
            number=search.order_number(order.id),
            yuan=yuan,
            form=form or FormState.of(),
            refundable=sum(t.price for t in valid),
            qr=_qr,
            sold=sold,
        )

    @get(
        "/orders/{order_id:str}",
        operation_id="ConsoleOrderDetail",
        summary="An order with its tickets and actions (page)",
        guards=[organiser_only],
    )
    async def order(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        order_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
        sold: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> Response[Any]:
        return await self._order_page(
            request, db_session, settings, state, festival_id, order_id, sold=bool(sold)
        )

    @post(
        "/orders/{order_id:str}/cancel",
        operation_id="ConsoleOrderCancel",
        summary="Cancel an order; a paid one is refunded (form)",
        guards=[organiser_only],
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        order_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> Response[Any]:
        orders = _orders(request, db_session, settings, state)
        try:
            body = parse(
                schemas.OrderCancel,
                {
                    "reason": data.get("reason", "").strip() or "cancelled",
                    "admitted_ok": data.get("admitted_ok") == "on",
                },
            )
            current = await orders.read(order_id, None, is_organiser=True)
            _same_amount(
                sum(t.price for t in current.tickets if t.status == TicketStatus.VALID)
                if current.status != "pending"
                else 0,
                data.get("expected_amount"),
            )
            await orders.cancel(
                order_id,
                None,
                reason=body.reason,
                is_organiser=True,
                actor_id=current_principal(request).id,
                admitted_ok=body.admitted_ok,
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._order_page(
                request,
                db_session,
                settings,
                state,
                festival_id,
                order_id,
                status=_status(exc),
                form=FormState.failed(data, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/orders/{order_id}", status_code=303)

    @post(
        "/orders/{order_id:str}/tickets/{ticket_id:str}/refund",
        operation_id="ConsoleTicketRefund",
        summary="Refund one ticket with the amount shown (form)",
        guards=[organiser_only],
    )
    async def refund_ticket(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        order_id: FromPath[str],
        ticket_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> Response[Any]:
        tickets = TicketService(db_session, settings)
        try:
            body = parse(
                schemas.TicketRefund,
                {
                    "reason": data.get("reason", "").strip() or "refunded at the office",
                    "admitted_ok": data.get("admitted_ok") == "on",
                },
            )
            current = await _ticket_of(request, db_session, settings, state, order_id, ticket_id)
            _same_amount(current.price, data.get("expected_amount"))
            await tickets.refund_ticket(
                ticket_id,
                reason=body.reason,
                actor_id=current_principal(request).id,
                admitted_ok=body.admitted_ok,
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._order_page(
                request,
                db_session,
                settings,
                state,
                festival_id,
                order_id,
                status=_status(exc),
                form=FormState.failed(data, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/orders/{order_id}", status_code=303)

    @post(
        "/orders/{order_id:str}/tickets/{ticket_id:str}/reissue",
        operation_id="ConsoleTicketReissue",
        summary="A new code for a ticket; the old one is revoked (form)",
        guards=[organiser_only],
    )
    async def reissue(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        order_id: FromPath[str],
        ticket_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> Response[Any]:
        try:
            await _ticket_of(request, db_session, settings, state, order_id, ticket_id)
            await TicketService(db_session, settings).reissue(ticket_id)
        except DomainError as exc:
            await abandon(db_session)
            return await self._order_page(
                request,
                db_session,
                settings,
                state,
                festival_id,
                order_id,
                status=exc.status_code,
                form=FormState.failed({}, exc),
            )
        return Redirect(f"/console/festivals/{festival_id}/orders/{order_id}", status_code=303)

    # --- the cash desk ------------------------------------------------------------------

    async def _desk(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        form: FormState,
        status: int = 200,
    ) -> Response[Any]:
        types = [t for t in await CatalogService(session).types(festival_id) if t.on_sale]
        return await festival_page(
            request,
            session,
            festival_id,
            "tickets/cashdesk.html",
            status=status,
            types=types,
            form=form,
            yuan=yuan,
            sale_key=lambda: uuid.uuid4().hex,
        )

    @get(
        "/cash-desk",
        operation_id="ConsoleCashDesk",
        summary="The cash desk (page)",
        guards=[organiser_only],
    )
    async def cash_desk(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        return await self._desk(request, db_session, festival_id, FormState.of())

    @post(
        "/cash-desk",
        operation_id="ConsoleCashSale",
        summary="Sell tickets for cash: the order is paid and issued at once (form)",
        guards=[organiser_only],
    )
    async def sell(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        state: State,
    ) -> Response[Any]:
        items = []
        for key, value in data.items():
            if key.startswith("qty_") and value.strip() not in ("", "0"):
                items.append({"ticket_type_id": key[4:], "quantity": value.strip()})
        principal = current_principal(request)
        try:
            if not items:
                raise ValidationFailed([FieldError("items", "Choose at least one ticket.")])
            body = parse(
                schemas.OrderCreate,
                {
                    "email": blank_none(data.get("email")),
                    "phone": blank_none(data.get("phone")),
                    "items": items,
                    "locale": "en" if data.get("locale") == "en" else "zh",
                    "payment_provider": "cash",
                },
            )
            placed = await _orders(request, db_session, settings, state).place(
                festival_id,
                body,
                idempotency_key=blank_none(data.get("sale_key")),
                is_organiser=True,
                caller_id=principal.id,
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            form = FormState.failed(data, exc, fields=_item_fields(items))
            form.values.pop("sale_key", None)  # the next attempt is a new sale
            if isinstance(exc, PydanticValidationError) and "_" in form.errors:
                # the order's own check (an e-mail or a phone): next to the phone
                form.errors["phone"] = form.errors.pop("_")
            return await self._desk(request, db_session, festival_id, form, status=_status(exc))
        return Redirect(
            f"/console/festivals/{festival_id}/orders/{placed.order_id}?sold=1", status_code=303
        )


def _item_fields(items: list[dict[str, str]]) -> dict[str, str]:
    names = {}
    for i, item in enumerate(items):
        for part in ("quantity", "ticket_type_id"):
            names[f"items.{i}.{part}"] = f"qty_{item['ticket_type_id']}"
    return names


def _status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, DomainError) else 422


def _same_amount(amount: int, expected: str | None) -> None:
    if expected is None or expected.strip() != str(amount):
        raise AmountChanged(
            f"The amount to refund is now {yuan(amount)}; nothing was done. Check it and "
            "confirm again.",
            code="refund_changed",
        )


async def _ticket_of(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    settings: Settings,
    state: State,
    order_id: str,
    ticket_id: str,
) -> schemas.TicketRead:
    order = await _orders(request, session, settings, state).read(order_id, None, is_organiser=True)
    for ticket in order.tickets:
        if ticket.id == ticket_id:
            return ticket
    raise NotFound(f"No ticket with id {ticket_id!r} in this order.", code="ticket_not_found")


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.cashdesk.quantity"),
    N_("console.nav.cashdesk"),
    N_("console.nav.orders"),
    N_("console.nav.tickets"),
    N_("console.orders.refund"),
    N_("console.status.expired"),
    N_("console.status.paid"),
    N_("console.status.partially_refunded"),
    N_("console.status.pending"),
    N_("console.status.refunded"),
    N_("console.status.revoked"),
    N_("console.status.valid"),
)
