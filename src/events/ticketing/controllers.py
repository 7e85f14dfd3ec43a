"""Ticketing routes: the catalogue (organisers edit, everyone reads), orders, ticket media."""

from typing import Annotated, Any

import anyio
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, current_principal, organiser_only
from events.access.models import Role
from events.access.principal import Principal
from events.config import Settings
from events.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from events.festivals import services as festival_services
from events.idempotency import IdempotencyKey
from events.ids import parse_id
from events.links import Links
from events.pagination import Limit, Offset, Page, page_of
from events.problems import error_responses
from events.ticketing import media, schemas
from events.ticketing.catalog import CatalogService
from events.ticketing.keys import KeyService
from events.ticketing.orders import OrderService
from events.ticketing.tickets import TicketService, revocations_since

AccessToken = Annotated[
    str | None,
    QueryParameter(
        name="access_token",
        max_length=200,
        required=False,
        description="The order's access token (from the order answer or the confirmation mail)",
    ),
]
FESTIVAL = "/festivals/{festival_id:str}"
NO_STORE = {"Cache-Control": "private, no-store"}


def provide_catalog(db_session: NamedDependency[AsyncSession]) -> CatalogService:
    return CatalogService(db_session)


def provide_orders(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    state: State,
) -> OrderService:
    return OrderService(db_session, settings, state.db, Links.for_request(request, settings))


def provide_tickets(
    db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]
) -> TicketService:
    return TicketService(db_session, settings)


def provide_keys(
    db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]
) -> KeyService:
    return KeyService(db_session, settings)


def caller(request: Request[Any, Any, Any]) -> Principal | None:
    principal = request.scope.get("user")
    return principal if isinstance(principal, Principal) else None


def is_organiser(request: Request[Any, Any, Any]) -> bool:
    principal = caller(request)
    return principal is not None and not principal.is_device and principal.role == Role.ORGANISER


class TicketingController(Controller):
    path = "/api/v1"
    tags = ["Ticketing"]
    dependencies = {
        "catalog": Provide(provide_catalog, sync_to_thread=False),
        "orders": Provide(provide_orders, sync_to_thread=False),
        "tickets": Provide(provide_tickets, sync_to_thread=False),
        "signing_keys": Provide(provide_keys, sync_to_thread=False),
    }

    # --- enclosures -------------------------------------------------------------------

    @get(
        FESTIVAL + "/enclosures",
        operation_id="ListEnclosures",
        summary="Enclosures (check-in lists) of a festival (public)",
        responses=error_responses(NotFound),
    )
    async def list_enclosures(
        self,
        festival_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.EnclosureRead]:
        return page_of(await catalog.enclosures(festival_id), limit, offset)

    @post(
        FESTIVAL + "/enclosures",
        operation_id="CreateEnclosure",
        summary="Add an enclosure (general ground, grandstand, VIP, ...)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def create_enclosure(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.EnclosureCreate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.EnclosureRead:
        return await catalog.create_enclosure(festival_id, data)

    @patch(
        FESTIVAL + "/enclosures/{enclosure_id:str}",
        operation_id="UpdateEnclosure",
        summary="Rename an enclosure, allow re-entry, set its gates",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def update_enclosure(
        self,
        festival_id: FromPath[str],
        enclosure_id: FromPath[str],
        data: JSONBody[schemas.EnclosureUpdate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.EnclosureRead:
        return await catalog.update_enclosure(festival_id, enclosure_id, data)

    # --- ticket types -----------------------------------------------------------------

    @get(
        FESTIVAL + "/ticket-types",
        operation_id="ListTicketTypes",
        summary="Ticket types with their remaining capacity (public)",
        description="Capacity is read from the database on every call, never cached. "
        "Organisers may add `include_inactive=true`.",
        responses=error_responses(NotFound),
    )
    async def list_ticket_types(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
        include_inactive: Annotated[
            bool, QueryParameter(description="also types switched off (organisers)")
        ] = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Response[Page[schemas.TicketTypeRead]]:
        items = await catalog.types(
            festival_id, include_inactive=include_inactive and is_organiser(request)
        )
        return Response(page_of(items, limit, offset), headers=NO_STORE)

    @post(
        FESTIVAL + "/ticket-types",
        operation_id="CreateTicketType",
        summary="Put a ticket type on sale (day ticket, pass, child ticket)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def create_ticket_type(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.TicketTypeCreate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.TicketTypeRead:
        return await catalog.create_type(festival_id, data)

    @get(
        FESTIVAL + "/ticket-types/{ticket_type_id:str}",
        operation_id="GetTicketType",
        summary="One ticket type with its remaining capacity (public)",
        responses=error_responses(NotFound),
    )
    async def get_ticket_type(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        ticket_type_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.TicketTypeRead:
        fid = parse_id(festival_id, "festival")
        ticket_type = await catalog.get_type(fid, ticket_type_id)
        found = await catalog.types(
            fid, include_inactive=is_organiser(request), only=[ticket_type.id]
        )
        if not found:  # switched off: only organisers see it
            raise NotFound(
                f"No ticket type with id {ticket_type_id!r} at this festival.",
                code="ticket_type_not_found",
            )
        return found[0]

    @patch(
        FESTIVAL + "/ticket-types/{ticket_type_id:str}",
        operation_id="UpdateTicketType",
        summary="Change a ticket type (days and enclosure only before it sells)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def update_ticket_type(
        self,
        festival_id: FromPath[str],
        ticket_type_id: FromPath[str],
        data: JSONBody[schemas.TicketTypeUpdate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.TicketTypeRead:
        return await catalog.update_type(festival_id, ticket_type_id, data)

    @delete(
        FESTIVAL + "/ticket-types/{ticket_type_id:str}",
        operation_id="DeleteTicketType",
        summary="Delete a ticket type that has no orders",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def delete_ticket_type(
        self,
        festival_id: FromPath[str],
        ticket_type_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
    ) -> None:
        await catalog.delete_type(festival_id, ticket_type_id)

    # --- quotas -----------------------------------------------------------------------

    @get(
        FESTIVAL + "/quotas",
        operation_id="ListQuotas",
        summary="Capacity quotas with sold, held and available places",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def list_quotas(
        self,
        festival_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.QuotaRead]:
        return page_of(await catalog.quotas(festival_id), limit, offset)

    @post(
        FESTIVAL + "/quotas",
        operation_id="CreateQuota",
        summary="Add a capacity quota (per type, per day, per enclosure)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def create_quota(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.QuotaCreate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.QuotaRead:
        return await catalog.create_quota(festival_id, data)

    @patch(
        FESTIVAL + "/quotas/{quota_id:str}",
        operation_id="UpdateQuota",
        summary="Rename or resize a quota (never below what is sold and held)",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ServiceUnavailable),
    )
    async def update_quota(
        self,
        festival_id: FromPath[str],
        quota_id: FromPath[str],
        data: JSONBody[schemas.QuotaUpdate],
        catalog: NamedDependency[CatalogService],
    ) -> schemas.QuotaRead:
        return await catalog.update_quota(festival_id, quota_id, data)

    @delete(
        FESTIVAL + "/quotas/{quota_id:str}",
        operation_id="DeleteQuota",
        summary="Delete a quota",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def delete_quota(
        self,
        festival_id: FromPath[str],
        quota_id: FromPath[str],
        catalog: NamedDependency[CatalogService],
    ) -> None:
        await catalog.delete_quota(festival_id, quota_id)

    # --- orders -----------------------------------------------------------------------

    @post(
        FESTIVAL + "/orders",
        operation_id="PlaceTicketOrder",
        summary="Buy tickets (public): capacity is held while the buyer pays",
        description="Answers with the checkout to pay at and an access token for the "
        "order. Free orders are issued at once. Honours `Idempotency-Key`.",
        responses=error_responses(
            NotFound, Conflict, Forbidden, ValidationFailed, ServiceUnavailable
        ),
    )
    async def place_order(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: JSONBody[schemas.OrderCreate],
        orders: NamedDependency[OrderService],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.OrderPlaced]:
        principal = caller(request)
        placed = await orders.place(
            festival_id,
            data,
            idempotency_key=idempotency_key,
            is_organiser=is_organiser(request),
            caller_id=principal.id if principal else None,
        )
        return Response(placed, status_code=201, headers=NO_STORE)

    @get(
        FESTIVAL + "/orders",
        operation_id="ListTicketOrders",
        summary="A festival's orders",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def list_orders(
        self,
        festival_id: FromPath[str],
        orders: NamedDependency[OrderService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        email: Annotated[str | None, QueryParameter(max_length=254)] = None,
    ) -> Page[schemas.OrderSummary]:
        items, total = await orders.list(
            festival_id, limit=limit, offset=offset, status=status, email=email
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/orders/{order_id:str}",
        operation_id="GetTicketOrder",
        summary="An order with its tickets (its access token, or an organiser)",
        responses=error_responses(NotFound, Forbidden),
    )
    async def get_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        orders: NamedDependency[OrderService],
        access_token: AccessToken = None,
    ) -> Response[schemas.OrderRead]:
        order = await orders.read(order_id, access_token, is_organiser=is_organiser(request))
        return Response(order, headers=NO_STORE)

    @post(
        "/orders/{order_id:str}/cancel",
        operation_id="CancelTicketOrder",
        summary="Cancel an order: unpaid (buyer or organiser) or paid, refunded (organiser)",
        status_code=200,
        responses=error_responses(NotFound, Forbidden, Conflict),
    )
    async def cancel_order(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[str],
        data: JSONBody[schemas.OrderCancel],
        orders: NamedDependency[OrderService],
        access_token: AccessToken = None,
    ) -> schemas.OrderRead:
        principal = caller(request)
        return await orders.cancel(
            order_id,
            access_token,
            reason=data.reason,
            is_organiser=is_organiser(request),
            actor_id=principal.id if principal else None,
            admitted_ok=data.admitted_ok,
        )

    # --- tickets ----------------------------------------------------------------------

    @get(
        "/tickets/{ticket_id:str}/qr.svg",
        operation_id="GetTicketQrSvg",
        summary="The ticket's QR code as SVG (its order's access token)",
        media_type="image/svg+xml",
        responses=error_responses(NotFound, Forbidden),
    )
    async def qr_svg(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[str],
        tickets: NamedDependency[TicketService],
        access_token: AccessToken = None,
    ) -> Response[bytes]:
        found = await tickets.authorised(
            ticket_id, access_token, is_organiser=is_organiser(request)
        )
        return Response(
            media.qr_svg(found.ticket.token), media_type="image/svg+xml", headers=NO_STORE
        )

    @get(
        "/tickets/{ticket_id:str}/qr.png",
        operation_id="GetTicketQrPng",
        summary="The ticket's QR code as PNG (its order's access token)",
        media_type="image/png",
        responses=error_responses(NotFound, Forbidden),
    )
    async def qr_png(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[str],
        tickets: NamedDependency[TicketService],
        access_token: AccessToken = None,
    ) -> Response[bytes]:
        found = await tickets.authorised(
            ticket_id, access_token, is_organiser=is_organiser(request)
        )
        return Response(media.qr_png(found.ticket.token), media_type="image/png", headers=NO_STORE)

    @get(
        "/tickets/{ticket_id:str}/ticket.pdf",
        operation_id="GetTicketPdf",
        summary="A printable PDF ticket in Chinese and English (its order's access token)",
        media_type="application/pdf",
        responses=error_responses(NotFound, Forbidden, ServiceUnavailable),
    )
    async def ticket_pdf(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[str],
        tickets: NamedDependency[TicketService],
        settings: NamedDependency[Settings],
        access_token: AccessToken = None,
    ) -> Response[bytes]:
        found = await tickets.authorised(
            ticket_id, access_token, is_organiser=is_organiser(request)
        )
        pdf = await anyio.to_thread.run_sync(
            media.ticket_pdf, found, settings.ticket_font_path, settings.ticket_tibetan_font_path
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": f'inline; filename="ticket-{found.ticket.id}.pdf"',
            },
        )

    @post(
        "/tickets/{ticket_id:str}/refund",
        operation_id="RefundTicket",
        summary="Refund one ticket: its token is revoked and its place freed",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ServiceUnavailable),
    )
    async def refund_ticket(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[str],
        data: JSONBody[schemas.TicketRefund],
        tickets: NamedDependency[TicketService],
    ) -> schemas.TicketRead:
        return await tickets.refund_ticket(
            ticket_id,
            reason=data.reason,
            actor_id=current_principal(request).id,
            admitted_ok=data.admitted_ok,
        )

    @post(
        "/tickets/{ticket_id:str}/reissue",
        operation_id="ReissueTicket",
        summary="A new QR for a valid ticket; the old one is revoked",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def reissue_ticket(
        self, ticket_id: FromPath[str], tickets: NamedDependency[TicketService]
    ) -> schemas.TicketRead:
        return await tickets.reissue(ticket_id)

    # --- keys -------------------------------------------------------------------------

    @get(
        FESTIVAL + "/ticket-keys",
        operation_id="ListTicketKeys",
        summary="Public keys that verify the festival's tickets, and revoked tokens",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def list_keys(
        self,
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        signing_keys: NamedDependency[KeyService],
        since: Annotated[int, QueryParameter(ge=0, le=2**62, description="revocation cursor")] = 0,
    ) -> schemas.TokenKeysRead:
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        rows = await signing_keys.key_rows(festival.id)
        revoked = await revocations_since(db_session, festival.id, since)
        return schemas.TokenKeysRead(
            festival_id=str(festival.id),
            keys=[schemas.SigningKeyRead(**row) for row in rows],
            revocations=revoked,
            cursor=revoked[-1].id if revoked else since,
        )

    @post(
        FESTIVAL + "/ticket-keys/rotate",
        operation_id="RotateTicketKey",
        summary="Retire the signing key; new tickets get a new one",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def rotate_key(
        self,
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        signing_keys: NamedDependency[KeyService],
    ) -> schemas.TokenKeysRead:
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        await signing_keys.rotate(festival.id)
        rows = await signing_keys.key_rows(festival.id)
        return schemas.TokenKeysRead(
            festival_id=str(festival.id),
            keys=[schemas.SigningKeyRead(**row) for row in rows],
            revocations=[],
            cursor=0,
        )
