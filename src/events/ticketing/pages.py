"""Spectators' pages, phone first, Chinese and English: choose a day and tickets, pay,
see the tickets with their QR codes and download the PDFs.

The pages use the public API from the browser (the order is placed with an
``Idempotency-Key``, so a double tap buys once); the order page polls its order while the
checkout is open in another tab, and shows the tickets as soon as they are issued.
"""

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.errors import DomainError
from events.festivals import services as festival_services
from events.links import Links
from events.money import format_money
from events.ticketing.catalog import CatalogService
from events.ticketing.orders import OrderService
from events.web.pages import page

ORDER_COOKIE = "order_access"
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


class TicketPageController(Controller):
    include_in_schema = False

    @get(
        "/festivals/{festival_id:str}/tickets",
        operation_id="TicketShopPage",
        summary="Buy tickets (page)",
    )
    async def shop(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        day: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Template:
        try:
            festival = await festival_services.FestivalService(db_session).read(festival_id)
        except DomainError as exc:
            return self._error(request, exc)
        types = await CatalogService(db_session).types(festival.id)
        days = sorted((d for m in festival.meetings for d in m.days), key=lambda d: d.date)
        with_tickets = [d for d in days if any(d.id in {x.id for x in t.days} for t in types)]
        chosen = next((d for d in with_tickets if d.id == day), None) or next(
            iter(with_tickets), None
        )
        offered = [t for t in types if chosen and chosen.id in {x.id for x in t.days}]
        response = page(
            request,
            "tickets/shop.html",
            festival=festival,
            days=with_tickets,
            chosen=chosen,
            types=offered,
            price=format_money,
        )
        response.headers.update({"Cache-Control": "no-store"})
        return response

    @get(
        "/orders/{order_id:str}",
        operation_id="TicketOrderPage",
        summary="An order's tickets (page)",
    )
    async def order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        access_token: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Template:
        links = Links.for_request(request, settings)
        orders = OrderService(db_session, settings, links=links)
        # Opened once with its link, the order is remembered on this device (a cookie for
        # this order's path), so the language switch and a bookmark keep working.
        remembered = request.cookies.get(ORDER_COOKIE)
        token = access_token or remembered
        try:
            order = await orders.read(order_id, token)
            festival = await festival_services.FestivalService(db_session).get(order.festival_id)
        except DomainError as exc:
            return self._error(request, exc)
        response = page(
            request,
            "tickets/order.html",
            order=order,
            festival=festival,
            festival_zone=ZoneInfo(festival.timezone),
            access_token=token,
            price=format_money,
        )
        response.headers.update(PRIVATE)
        if token != remembered:
            response.set_cookie(
                ORDER_COOKIE,
                token,
                path=f"/orders/{order.id}",
                max_age=180 * 24 * 3600,
                httponly=True,
                samesite="lax",
                secure=links.secure,
            )
        return response

    @staticmethod
    def _error(request: Request[Any, Any, Any], exc: DomainError) -> Template:
        response = page(request, "tickets/error.html", code=exc.instance_code)
        response.status_code = exc.status_code
        response.headers.update(PRIVATE)
        return response
