"""Tickets: reading them (with their order's access token), refunding, reissuing, and the
revocation list check-in follows (``revocations_since``).

A cancelled, refunded or changed ticket's token is revoked (``ticket_revocation``).
Nothing here commits.
"""

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.base import utcnow
from events.errors import Conflict, Forbidden, NotFound
from events.festivals.models import FESTIVAL, FESTIVAL_DAY
from events.ids import parse_id
from events.payments import services as payment_services
from events.ticketing import common, hooks, keys, mappers, schemas, tokens
from events.ticketing.keys import KeyService
from events.ticketing.mappers import TicketMedia
from events.ticketing.models import (
    ENCLOSURE,
    ORDER,
    REVOCATION,
    TICKET,
    TICKET_DAY,
    TYPE,
    Audience,
    TicketStatus,
)


class TicketService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def reads(
        self, *, order_id: uuid.UUID | None = None, ticket_id: uuid.UUID | None = None
    ) -> list[schemas.TicketRead]:
        conn = await self.session.connection()
        condition = (TICKET.c.order_id == order_id) if order_id else (TICKET.c.id == ticket_id)
        rows = (
            await conn.execute(
                sa.select(
                    TICKET.c.id,
                    TICKET.c.status,
                    TICKET.c.ticket_type_id,
                    TYPE.c.name_zh,
                    TYPE.c.name_en,
                    TICKET.c.audience,
                    ENCLOSURE.c.id.label("enclosure_id"),
                    ENCLOSURE.c.number,
                    ENCLOSURE.c.code,
                    ENCLOSURE.c.name_zh.label("e_zh"),
                    ENCLOSURE.c.name_en.label("e_en"),
                    TICKET.c.price,
                    TICKET.c.currency,
                    TICKET.c.serial,
                    TICKET.c.token,
                    TYPE.c.name_bo,
                )
                .select_from(
                    TICKET.join(TYPE, TYPE.c.id == TICKET.c.ticket_type_id).join(
                        ENCLOSURE, ENCLOSURE.c.id == TICKET.c.enclosure_id
                    )
                )
                .where(condition)
                .order_by(TYPE.c.position, TYPE.c.code, TICKET.c.id)
            )
        ).all()
        if not rows:
            return []
        day_rows = await conn.execute(
            sa.select(
                TICKET_DAY.c.ticket_id,
                FESTIVAL_DAY.c.id,
                FESTIVAL_DAY.c.date,
                FESTIVAL_DAY.c.name_zh,
                FESTIVAL_DAY.c.name_en,
            )
            .select_from(TICKET_DAY.join(FESTIVAL_DAY, FESTIVAL_DAY.c.id == TICKET_DAY.c.day_id))
            .where(TICKET_DAY.c.ticket_id.in_([r.id for r in rows]))
            .order_by(FESTIVAL_DAY.c.date)
        )
        return mappers.ticket_reads(rows, day_rows)

    async def authorised(
        self, ticket_id: str, access_token: str | None, *, is_organiser: bool = False
    ) -> TicketMedia:
        """The ticket if the caller holds its order's access token (or organises)."""
        key = parse_id(ticket_id, "ticket")
        conn = await self.session.connection()
        row = (
            await conn.execute(
                sa.select(
                    ORDER.c.access_token_hash,
                    FESTIVAL.c.name_zh,
                    FESTIVAL.c.name_en,
                    FESTIVAL.c.venue_zh,
                    FESTIVAL.c.venue_en,
                    FESTIVAL.c.name_bo.label("festival_bo"),
                )
                .select_from(
                    TICKET.join(ORDER, ORDER.c.id == TICKET.c.order_id).join(
                        FESTIVAL, FESTIVAL.c.id == TICKET.c.festival_id
                    )
                )
                .where(TICKET.c.id == key)
            )
        ).first()
        if row is None:
            raise NotFound(f"No ticket with id {ticket_id!r}.", code="ticket_not_found")
        if not is_organiser and not keys.access_token_matches(access_token, row.access_token_hash):
            raise Forbidden("This link does not open this ticket.", code="invalid_access_token")
        ticket = (await self.reads(ticket_id=key))[0]
        return mappers.ticket_media(ticket, row)

    async def _ticket_order(self, ticket_id: str) -> tuple[uuid.UUID, Any]:
        key = parse_id(ticket_id, "ticket")
        conn = await self.session.connection()
        order_id = (
            await conn.execute(sa.select(TICKET.c.order_id).where(TICKET.c.id == key))
        ).scalar_one_or_none()
        if order_id is None:
            raise NotFound(f"No ticket with id {ticket_id!r}.", code="ticket_not_found")
        return key, await common.lock_payment_then_order(self.session, self.settings, order_id)

    async def refund_ticket(
        self,
        ticket_id: str,
        *,
        reason: str,
        actor_id: uuid.UUID | None = None,
        admitted_ok: bool = False,
    ) -> schemas.TicketRead:
        """Refund one ticket: revoke its token, free its place, give its price back."""
        key, order = await self._ticket_order(ticket_id)
        await self.refund_tickets(
            order, [key], reason=reason, actor_id=actor_id, admitted_ok=admitted_ok
        )
        return (await self.reads(ticket_id=key))[0]

    async def refund_tickets(
        self,
        order: Any,
        ticket_ids: Sequence[uuid.UUID] | None,
        *,
        reason: str,
        actor_id: uuid.UUID | None = None,
        admitted_ok: bool = False,
    ) -> None:
        """End valid tickets of a (locked) paid order and refund their prices. A ticket that
        is no longer valid is left as it is (a retry changes nothing). A ticket that has
        already been used to enter is refunded only when the organiser says so
        (``admitted_ok``): else ``409 ticket_admitted``, naming them and when they
        entered."""
        conn = await self.session.connection()
        now = utcnow()
        rows = await common.valid_tickets(conn, order.id, ticket_ids)
        if not rows:
            return
        if not admitted_ok:
            entered = await hooks.first_entries(self.session, [r.id for r in rows])
            if entered:
                raise Conflict(
                    "Already used to enter: refund anyway with admitted_ok set to true.",
                    code="ticket_admitted",
                    ticket_ids=sorted(str(t) for t in entered),
                    first_entry_at=min(entered.values()).isoformat(),
                )
        amount = sum(r.price for r in rows)
        status = TicketStatus.REFUNDED if amount > 0 else TicketStatus.CANCELED
        await common.end_tickets(conn, order.festival_id, rows, status, now)
        await common.settle_order_status(conn, order.id, now, reason)
        if amount > 0:
            if order.payment_id is None:
                raise Conflict("This order has no payment to refund.", code="no_payment")
            ids = ",".join(sorted(str(r.id) for r in rows))
            await payment_services.PaymentService(self.session, self.settings).refund(
                order.payment_id,
                amount=amount,
                reason=reason,
                idempotency_key=f"ticket-refund-{hashlib.sha256(ids.encode()).hexdigest()}",
                actor_id=actor_id,
            )

    async def reissue(self, ticket_id: str) -> schemas.TicketRead:
        """A new token for a valid ticket (e.g. its QR was shared): the serial goes up, the
        old token is revoked, the ticket keeps its place."""
        key, order = await self._ticket_order(ticket_id)
        conn = await self.session.connection()
        rows = await common.valid_tickets(conn, order.id, [key])
        if not rows:
            raise Conflict("Only a valid ticket can get a new code.", code="ticket_not_valid")
        old = rows[0]
        if old.serial >= 0xFFFF:
            raise Conflict("This ticket has been reissued too often.", code="ticket_not_valid")
        now = utcnow()
        await common.revoke(conn, order.festival_id, [old], "changed", now)
        ticket = (await self.reads(ticket_id=key))[0]
        kid, private_key = await KeyService(self.session, self.settings).signing_key(
            order.festival_id
        )
        token = tokens.sign_token(
            private_key,
            festival_id=order.festival_id,
            kid=kid,
            ticket_id=key,
            serial=old.serial + 1,
            enclosure=ticket.enclosure.number,
            flags=tokens.FLAG_CHILD if ticket.audience == Audience.CHILD else 0,
            days=[d.date for d in ticket.days],
        )
        await conn.execute(
            sa.update(TICKET)
            .where(TICKET.c.id == key)
            .values(serial=old.serial + 1, kid=kid, token=token)
        )
        return (await self.reads(ticket_id=key))[0]


async def revocations_since(
    session: AsyncSession, festival_id: uuid.UUID, since: int = 0, limit: int = 5000
) -> list[schemas.RevocationRead]:
    """Revoked tokens of a festival after the cursor ``since`` (a revocation id)."""
    conn = await session.connection()
    rows = await conn.execute(
        sa.select(REVOCATION)
        .where(REVOCATION.c.festival_id == festival_id, REVOCATION.c.id > since)
        .order_by(REVOCATION.c.id)
        .limit(limit)
    )
    return [mappers.revocation_read(r) for r in rows]
