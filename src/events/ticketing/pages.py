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
from events.ticketing.services import OrderService
from events.web.i18n import register
from events.web.pages import page

ORDER_COOKIE = "order_access"
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


class TicketPageController(Controller):
    include_in_schema = False

    @get("/festivals/{festival_id:str}/tickets", operation_id="TicketShopPage",
         summary="Buy tickets (page)")
    async def shop(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
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
            iter(with_tickets), None)
        offered = [t for t in types if chosen and chosen.id in {x.id for x in t.days}]
        response = page(request, "tickets/shop.html", festival=festival, days=with_tickets,
                        chosen=chosen, types=offered, price=format_money)
        response.headers.update({"Cache-Control": "no-store"})
        return response

    @get("/orders/{order_id:str}", operation_id="TicketOrderPage",
         summary="An order's tickets (page)")
    async def order(self, request: Request[Any, Any, Any], order_id: FromPath[str],
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
            festival = await festival_services.FestivalService(db_session).get(
                order.festival_id)
        except DomainError as exc:
            return self._error(request, exc)
        response = page(request, "tickets/order.html", order=order, festival=festival,
                        festival_zone=ZoneInfo(festival.timezone), access_token=token,
                        price=format_money)
        response.headers.update(PRIVATE)
        if token != remembered:
            response.set_cookie(ORDER_COOKIE, token, path=f"/orders/{order.id}",
                                max_age=180 * 24 * 3600, httponly=True, samesite="lax",
                                secure=links.secure)
        return response

    @staticmethod
    def _error(request: Request[Any, Any, Any], exc: DomainError) -> Template:
        response = page(request, "tickets/error.html", code=exc.instance_code)
        response.status_code = exc.status_code
        response.headers.update(PRIVATE)
        return response


register({
    "zh": {
        "tickets.title": "购票",
        "tickets.choose_day": "选择日期",
        "tickets.none": "这一天暂无门票出售。",
        "tickets.remaining": "余票 {n}",
        "tickets.sold_out": "已售罄",
        "tickets.not_on_sale": "未开售",
        "tickets.pass": "通票",
        "tickets.child": "儿童",
        "tickets.free": "免费",
        "tickets.quantity": "数量",
        "tickets.contact": "联系方式",
        "tickets.email": "电子邮箱",
        "tickets.phone": "手机号码",
        "tickets.contact_hint": "电子邮箱或手机号码至少填写一项，确认邮件会发到邮箱。",
        "tickets.total": "合计",
        "tickets.buy": "去支付",
        "tickets.get_free": "领取门票",
        "tickets.working": "正在提交……",
        "tickets.pick_some": "请至少选择一张门票。",
        "tickets.error.sold_out": "余票不足，请减少数量或选择其他门票。",
        "tickets.error.sales_closed": "该门票当前不在销售期。",
        "tickets.error.validation_failed": "请检查填写的内容。",
        "tickets.error.over_order_limit": "超出每单购买上限。",
        "tickets.error.over_limit_named": "“{name}”每单最多 {n} 张，请减少数量或分开下单。",
        "tickets.error.contact_needed": "请填写电子邮箱或手机号码（二者之一），门票会发送到这里。",
        "tickets.error.capacity_busy": "购票人数较多，请稍后重试。",
        "tickets.error.other": "出错了，请重试。",
        "order.title": "我的门票",
        "order.number": "订单号",
        "order.pay": "去支付",
        "order.pay_hint": "请在 {time} 前完成支付，支付后本页会自动显示门票。",
        "order.waiting": "等待支付确认……",
        "order.tickets": "门票",
        "order.show_at_gate": "入场时请出示二维码，每个场区每天限入场一次。",
        "order.pdf": "下载PDF门票",
        "order.keep_private": "请勿转发本页链接，持有二维码即可入场。",
        "order.enclosure": "场区",
        "order.days": "日期",
        "order.buy_more": "继续购票",
        "error.title": "无法打开",
        "error.not_found": "找不到该页面。",
        "error.invalid_access_token": "链接无效，请使用确认邮件中的链接。",
        "error.other": "出错了。",
    },
    "en": {
        "tickets.title": "Tickets",
        "tickets.choose_day": "Choose a day",
        "tickets.none": "No tickets on sale for this day.",
        "tickets.remaining": "{n} left",
        "tickets.sold_out": "Sold out",
        "tickets.not_on_sale": "Not on sale",
        "tickets.pass": "Pass",
        "tickets.child": "Child",
        "tickets.free": "Free",
        "tickets.quantity": "Quantity",
        "tickets.contact": "Contact",
        "tickets.email": "Email",
        "tickets.phone": "Mobile phone",
        "tickets.contact_hint": "Give an email or a phone number; the confirmation goes to "
                                "the email.",
        "tickets.total": "Total",
        "tickets.buy": "Pay",
        "tickets.get_free": "Get tickets",
        "tickets.working": "Sending…",
        "tickets.pick_some": "Choose at least one ticket.",
        "tickets.error.sold_out": "Not enough tickets left; choose fewer or another ticket.",
        "tickets.error.sales_closed": "These tickets are not on sale now.",
        "tickets.error.validation_failed": "Please check what you entered.",
        "tickets.error.over_order_limit": "That is more than one order may hold.",
        "tickets.error.over_limit_named": "At most {n} of “{name}” per order: choose fewer "
                                          "or place a second order.",
        "tickets.error.contact_needed": "Enter an email address or a mobile number (either "
                                        "one): your tickets are sent there.",
        "tickets.error.capacity_busy": "Many people are buying; please try again.",
        "tickets.error.other": "Something went wrong; please try again.",
        "order.title": "My tickets",
        "order.number": "Order",
        "order.pay": "Pay now",
        "order.pay_hint": "Please pay before {time}; your tickets appear here once paid.",
        "order.waiting": "Waiting for the payment…",
        "order.tickets": "Tickets",
        "order.show_at_gate": "Show the QR code at the gate: once per enclosure per day.",
        "order.pdf": "Download PDF",
        "order.keep_private": "Do not share this link: whoever holds the QR code gets in.",
        "order.enclosure": "Enclosure",
        "order.days": "Days",
        "order.buy_more": "Buy more tickets",
        "error.title": "Cannot open this page",
        "error.not_found": "This page does not exist.",
        "error.invalid_access_token": "This link is not valid; use the link in your "
                                      "confirmation email.",
        "error.other": "Something went wrong.",
    },
})
