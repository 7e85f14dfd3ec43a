"""Ticketing's rows as responses: one mapper per response type, used by every route that
answers it (orders, tickets, revocations, the console's order search)."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.ticketing import schemas
from events.ticketing.models import OrderStatus


def effective_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    """A pending order past its hold shows as expired (no worker needs to have run)."""
    if status == OrderStatus.PENDING and expires_at is not None and expires_at <= now:
        return OrderStatus.EXPIRED
    return status


@dataclass(frozen=True, slots=True)
class TicketMedia:
    """What a printed ticket shows."""

    ticket: schemas.TicketRead
    festival_name_zh: str
    festival_name_en: str
    venue_zh: str
    venue_en: str
    festival_name_bo: str = ""


def ticket_media(ticket: schemas.TicketRead, row: Any) -> TicketMedia:
    """A ticket with its festival's names and venue (``row``: ``name_zh``, ``name_en``,
    ``venue_zh``, ``venue_en``, ``festival_bo``)."""
    return TicketMedia(
        ticket=ticket,
        festival_name_zh=row.name_zh,
        festival_name_en=row.name_en,
        venue_zh=row.venue_zh,
        venue_en=row.venue_en,
        festival_name_bo=row.festival_bo,
    )


def ticket_reads(rows: Sequence[Any], day_rows: Iterable[Any]) -> list[schemas.TicketRead]:
    """Tickets joined with their type and enclosure, and their days as
    ``(ticket_id, day_id, date, name_zh, name_en)`` rows."""
    days: dict[uuid.UUID, list[schemas.DayBrief]] = defaultdict(list)
    for ticket, day_id, date, zh, en in day_rows:
        days[ticket].append(schemas.DayBrief(id=str(day_id), date=date, name_zh=zh, name_en=en))
    return [
        schemas.TicketRead(
            id=str(r.id),
            status=r.status,
            ticket_type_id=str(r.ticket_type_id),
            name_zh=r.name_zh,
            name_en=r.name_en,
            audience=r.audience,
            enclosure=schemas.EnclosureBrief(
                id=str(r.enclosure_id), number=r.number, code=r.code, name_zh=r.e_zh, name_en=r.e_en
            ),
            days=days[r.id],
            price=r.price,
            currency=r.currency,
            serial=r.serial,
            token=r.token,
            name_bo=r.name_bo,
        )
        for r in rows
    ]


def order_read(
    order: Any, lines: Iterable[Any], tickets: list[schemas.TicketRead], now: datetime
) -> schemas.OrderRead:
    """An order row with its ``(ticket_type_id, name_zh, name_en, quantity, unit_price)``
    lines and its tickets."""
    status = effective_status(order.status, order.expires_at, now)
    return schemas.OrderRead(
        id=str(order.id),
        festival_id=str(order.festival_id),
        status=status,
        email=order.email,
        phone=order.phone,
        total=order.total,
        currency=order.currency,
        payment_id=str(order.payment_id) if order.payment_id else None,
        checkout_url=order.checkout_url if status == OrderStatus.PENDING else None,
        expires_at=order.expires_at if status == OrderStatus.PENDING else None,
        created_at=order.created_at,
        paid_at=order.paid_at,
        canceled_at=order.canceled_at,
        cancel_reason=order.cancel_reason,
        lines=[
            schemas.OrderLineRead(
                ticket_type_id=str(t), name_zh=zh, name_en=en, quantity=q, unit_price=p
            )
            for t, zh, en, q, p in lines
        ],
        tickets=tickets,
    )


def order_summary(row: Any, now: datetime) -> schemas.OrderSummary:
    """A row of an order list; its seventh column counts the order's valid tickets."""
    return schemas.OrderSummary(
        id=str(row.id),
        status=effective_status(row.status, row.expires_at, now),
        email=row.email,
        phone=row.phone,
        total=row.total,
        currency=row.currency,
        tickets=int(row[6]),
        created_at=row.created_at,
        paid_at=row.paid_at,
    )


def order_placed(
    order_id: uuid.UUID,
    status: str,
    payment_id: uuid.UUID | None,
    checkout_url: str | None,
    access_token: str,
    total: int,
    currency: str,
    expires_at: datetime | None,
    order_url: str,
) -> schemas.OrderPlaced:
    return schemas.OrderPlaced(
        order_id=str(order_id),
        status=status,
        payment_id=str(payment_id) if payment_id else None,
        checkout_url=checkout_url if status == OrderStatus.PENDING else None,
        access_token=access_token,
        total=total,
        currency=currency,
        expires_at=expires_at,
        order_url=order_url,
    )


def revocation_read(row: Any) -> schemas.RevocationRead:
    return schemas.RevocationRead(
        id=row.id,
        ticket_id=str(row.ticket_id),
        serial=row.serial,
        kid=row.kid,
        reason=row.reason,
        revoked_at=row.revoked_at,
    )
