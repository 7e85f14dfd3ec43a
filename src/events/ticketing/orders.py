"""Selling tickets: orders, holds, issuing signed tickets, cancelling and refunding.

Rules (docs/tickets.md has the whole story):
- Capacity is decided atomically in the database (``capacity``): never oversold, held
  capacity counted until its ``expires_at``, expired holds simply stop counting.
- An order holds capacity while its buyer pays; the payment's success issues the tickets
  in the same transaction (``TicketOrderPayments.on_succeeded``); failure releases the hold.
  A payment that succeeds after its hold lapsed gets tickets if there is still room,
  else the order is cancelled and the money refunded at once.
- ``Idempotency-Key`` on a new order: the same request gets the same order back; another
  request with that key is ``409 idempotency_key_reused``.
- A cancelled, refunded or changed ticket's token is revoked (``ticket_revocation``).
- Nothing here commits.

Other domains (check-in) use ``keys.KeyService.public_keys``,
``tickets.revocations_since`` and ``events.ticketing.tokens.verify_token``.
"""

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import ConfigurationError, Settings
from events.db.base import UTCDateTime, utcnow
from events.db.engine import Database
from events.db.fast import Statement
from events.db.locks import set_session_lock_timeout
from events.db.upsert import insert
from events.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from events.festivals import services as festival_services
from events.festivals.models import FESTIVAL, FESTIVAL_DAY
from events.idempotency import fingerprint, same_request
from events.ids import parse_id
from events.links import Links
from events.payments import fulfilment
from events.payments import services as payment_services
from events.payments.fulfilment import PaymentView
from events.ticketing import capacity, common, hooks, keys, mappers, schemas, tokens
from events.ticketing.capacity import SOLD_OUT
from events.ticketing.catalog import on_sale
from events.ticketing.keys import KeyService
from events.ticketing.mappers import effective_status
from events.ticketing.models import (
    ENCLOSURE,
    EPOCH,
    KEYS,
    LINE,
    MAIL,
    ORDER,
    TICKET,
    TICKET_DAY,
    TYPE,
    TYPE_DAY,
    Audience,
    MailStatus,
    OrderStatus,
    TicketStatus,
)
from events.ticketing.tickets import TicketService

log = logging.getLogger(__name__)

__all__ = ["OrderService", "TicketOrderPayments"]


PURPOSE = payment_services.PaymentPurpose.TICKET_ORDER


@dataclass(frozen=True, slots=True)
class _Line:
    ticket_type_id: uuid.UUID
    quantity: int
    unit_price: int
    currency: str
    audience: str
    enclosure_id: uuid.UUID
    enclosure_number: int
    days: tuple[tuple[uuid.UUID, Any], ...]


async def _order_lines(conn: AsyncConnection, order_id: uuid.UUID) -> list[_Line]:
    """The order's lines with what a ticket needs (enclosure number, days), one query."""
    rows = await conn.execute(
        sa.select(
            LINE.c.ticket_type_id,
            LINE.c.quantity,
            LINE.c.unit_price,
            TYPE.c.currency,
            TYPE.c.audience,
            TYPE.c.enclosure_id,
            ENCLOSURE.c.number,
            FESTIVAL_DAY.c.id,
            FESTIVAL_DAY.c.date,
        )
        .select_from(
            LINE.join(TYPE, TYPE.c.id == LINE.c.ticket_type_id)
            .join(ENCLOSURE, ENCLOSURE.c.id == TYPE.c.enclosure_id)
            .join(TYPE_DAY, TYPE_DAY.c.ticket_type_id == TYPE.c.id)
            .join(FESTIVAL_DAY, FESTIVAL_DAY.c.id == TYPE_DAY.c.day_id)
        )
        .where(LINE.c.order_id == order_id)
        .order_by(LINE.c.ticket_type_id, FESTIVAL_DAY.c.date)
    )
    lines: dict[uuid.UUID, dict[str, Any]] = {}
    for type_id, quantity, price, currency, audience, enclosure_id, number, day_id, date in rows:
        line = lines.setdefault(
            type_id,
            {
                "ticket_type_id": type_id,
                "quantity": quantity,
                "unit_price": price,
                "currency": currency,
                "audience": audience,
                "enclosure_id": enclosure_id,
                "enclosure_number": number,
                "days": [],
            },
        )
        line["days"].append((day_id, date))
    return [_Line(**{**line, "days": tuple(line["days"])}) for line in lines.values()]


class _KeyTaken(Exception):
    """A concurrent request with the same Idempotency-Key stored its order first."""


def _VALIDATE_PORTABLE(type_ids: Iterable[uuid.UUID]) -> Any:  # noqa: N802
    """``_VALIDATE`` in SQLAlchemy Core (SQLite has no arrays)."""
    types = (
        sa.select(
            TYPE.c.id.label("type_id"),
            TYPE.c.festival_id,
            TYPE.c.price,
            TYPE.c.max_per_order,
            TYPE.c.is_active,
            TYPE.c.sales_start,
            TYPE.c.sales_end,
            TYPE.c.audience,
            TYPE.c.enclosure_id,
            ENCLOSURE.c.number.label("enclosure_number"),
            FESTIVAL_DAY.c.id.label("day_id"),
            FESTIVAL_DAY.c.date.label("day_date"),
        )
        .select_from(
            TYPE.join(ENCLOSURE, ENCLOSURE.c.id == TYPE.c.enclosure_id)
            .join(TYPE_DAY, TYPE_DAY.c.ticket_type_id == TYPE.c.id)
            .join(FESTIVAL_DAY, FESTIVAL_DAY.c.id == TYPE_DAY.c.day_id)
        )
        .where(TYPE.c.id.in_(list(type_ids)))
        .subquery()
    )
    return (
        sa.select(
            FESTIVAL.c.currency,
            FESTIVAL.c.name_zh,
            sa.func.coalesce(EPOCH.c.epoch, 0).label("epoch"),
            KEYS.c.kid,
            KEYS.c.public_key,
            KEYS.c.private_key_sealed,
            *[c for c in types.c if c.name != "festival_id"],
        )
        .select_from(
            FESTIVAL.outerjoin(EPOCH, EPOCH.c.festival_id == FESTIVAL.c.id)
            .outerjoin(KEYS, sa.and_(KEYS.c.festival_id == FESTIVAL.c.id, KEYS.c.active))
            .outerjoin(types, types.c.festival_id == FESTIVAL.c.id)
        )
        .where(FESTIVAL.c.id == sa.bindparam("festival_id", type_=sa.Uuid()))
        .order_by(types.c.type_id, types.c.day_date)
    )


# --- the hot path's statements (PostgreSQL, raw asyncpg: events.db.fast) -------------------

_VALIDATE = Statement("""
SELECT f.currency, f.name_zh, coalesce(e.epoch, 0) AS epoch,
       k.kid, k.public_key, k.private_key_sealed,
       t.id AS type_id, t.price, t.max_per_order, t.is_active, t.sales_start, t.sales_end,
       t.audience, t.enclosure_id, en.number AS enclosure_number, d.id AS day_id,
       d.date AS day_date
FROM festival f
LEFT JOIN ticket_capacity_epoch e ON e.festival_id = f.id
LEFT JOIN ticket_signing_key k ON k.festival_id = f.id AND k.active
LEFT JOIN (ticket_type t JOIN enclosure en ON en.id = t.enclosure_id
           JOIN ticket_type_day td ON td.ticket_type_id = t.id
           JOIN festival_day d ON d.id = td.day_id)
       ON t.festival_id = f.id AND t.id = ANY(CAST(:type_ids AS uuid[]))
WHERE f.id = CAST(:festival_id AS uuid)
ORDER BY t.id, d.date""")
"""The festival, the requested types with their days, the capacity epoch and the active
signing key: everything an order needs before the take, in one read (no quota rows)."""

_COVERAGE = Statement("""
SELECT t.id AS type_id, q.id AS quota_id, q.version
FROM ticket_type t
JOIN ticket_quota q ON q.festival_id = t.festival_id
 AND (q.ticket_type_id IS NULL OR q.ticket_type_id = t.id)
 AND (q.enclosure_id IS NULL OR q.enclosure_id = t.enclosure_id)
 AND (q.day_id IS NULL OR EXISTS (SELECT 1 FROM ticket_type_day td
                                  WHERE td.ticket_type_id = t.id AND td.day_id = q.day_id))
WHERE t.id = ANY(CAST(:type_ids AS uuid[]))""")

_REPLAY = Statement(
    """
SELECT id, festival_id, request_fingerprint, access_token_sealed, status, expires_at,
       payment_id, checkout_url, total, currency
FROM ticket_order WHERE idempotency_key = :key""",
    result_types={
        "id": sa.Uuid(),
        "festival_id": sa.Uuid(),
        "expires_at": UTCDateTime(),
        "payment_id": sa.Uuid(),
    },
)

_COVERAGE_CACHE: dict[uuid.UUID, tuple[tuple[uuid.UUID, int], ...]] = {}
"""Per worker: ticket type -> the (quota, version) pairs it counts against."""

_TIMED_OUT_CONNECTIONS: set[int] = set()
"""Server pids of raw-pool connections that carry the capacity ``lock_timeout``."""


@dataclass(frozen=True, slots=True)
class _Type:
    type_id: uuid.UUID
    price: int
    max_per_order: int
    is_active: bool
    sales_start: datetime | None
    sales_end: datetime | None
    audience: str
    enclosure_id: uuid.UUID
    enclosure_number: int
    days: tuple[tuple[uuid.UUID, Any], ...]


@dataclass(frozen=True, slots=True)
class _Festival:
    currency: str
    name_zh: str
    epoch: int
    key: tuple[int, str, str] | None
    """The active signing key row (kid, public key, sealed private key), if any."""


def _scoped_key(festival_id: uuid.UUID, caller_id: uuid.UUID | None, key: str) -> str:
    """What is stored for an ``Idempotency-Key``: scoped to the festival and the caller,
    hashed, so one caller's key never finds another's order."""
    scope = f"{festival_id}\n{caller_id or 'anonymous'}\n{key}"
    return hashlib.sha256(scope.encode()).hexdigest()


def _sign_tickets(
    order_id: uuid.UUID, festival_id: uuid.UUID, kid: int, private_key: Any, lines: Sequence[_Line]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The order's ticket rows and their day rows, signed (before any lock is taken)."""
    tickets, days = [], []
    for line in lines:
        flags = tokens.FLAG_CHILD if line.audience == Audience.CHILD else 0
        for _ in range(line.quantity):
            ticket_id = uuid.uuid4()
            token = tokens.sign_token(
                private_key,
                festival_id=festival_id,
                kid=kid,
                ticket_id=ticket_id,
                serial=1,
                enclosure=line.enclosure_number,
                flags=flags,
                days=[date for _, date in line.days],
            )
            tickets.append(
                {
                    "id": ticket_id,
                    "festival_id": festival_id,
                    "order_id": order_id,
                    "ticket_type_id": line.ticket_type_id,
                    "enclosure_id": line.enclosure_id,
                    "status": TicketStatus.VALID,
                    "audience": line.audience,
                    "price": line.unit_price,
                    "currency": line.currency,
                    "serial": 1,
                    "kid": kid,
                    "token": token,
                    "canceled_at": None,
                }
            )
            days += [
                {"ticket_id": ticket_id, "day_id": day_id, "date": date}
                for day_id, date in line.days
            ]
    return tickets, days


def _ticket_params(
    tickets: Sequence[Mapping[str, Any]],
    days: Sequence[Mapping[str, Any]],
    kid: int,
    mail_to: str | None,
) -> dict[str, Any]:
    return {
        "ticket_ids": [t["id"] for t in tickets],
        "ticket_types": [t["ticket_type_id"] for t in tickets],
        "ticket_enclosures": [t["enclosure_id"] for t in tickets],
        "ticket_audiences": [str(t["audience"]) for t in tickets],
        "ticket_prices": [t["price"] for t in tickets],
        "ticket_tokens": [t["token"] for t in tickets],
        "day_tickets": [d["ticket_id"] for d in days],
        "day_ids": [d["day_id"] for d in days],
        "day_dates": [d["date"] for d in days],
        "kid": kid,
        "mail_to": mail_to,
        "mail_id": uuid.uuid4(),
    }


async def _write_tickets(
    conn: AsyncConnection,
    order_id: uuid.UUID,
    tickets: Sequence[Mapping[str, Any]],
    days: Sequence[Mapping[str, Any]],
    mail_to: str | None,
    now: datetime,
) -> None:
    """The portable (SQLite) writes of an issue; on PostgreSQL the take statement does it."""
    await conn.execute(sa.insert(TICKET), [{**t, "issued_at": now} for t in tickets])
    await conn.execute(sa.insert(TICKET_DAY), list(days))
    await conn.execute(
        sa.update(ORDER)
        .where(ORDER.c.id == order_id)
        .values(status=OrderStatus.PAID, paid_at=now, expires_at=None, updated_at=now)
    )
    if mail_to:
        await conn.execute(
            sa.insert(MAIL).values(
                id=uuid.uuid4(),
                order_id=order_id,
                to_address=mail_to,
                kind="order_confirmation",
                status=MailStatus.PENDING,
                attempts=0,
                last_error="",
                next_attempt_at=now,
                created_at=now,
            )
        )


# --- orders ------------------------------------------------------------------------------


class OrderService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        db: Database | None = None,
        links: Links | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.db = db
        """Given (the app's database) on PostgreSQL, the purchase runs on the raw pool."""
        self.links = links or Links.for_settings(settings)

    @property
    def _fast(self) -> bool:
        return self.db is not None and not self.db.is_sqlite

    async def _conn(self) -> AsyncConnection:
        return await self.session.connection()

    async def _fetch(self, statement: Statement, **params: Any) -> Sequence[Mapping[str, Any]]:
        assert self.db is not None
        pool = await self.db.raw_pool()
        rows: Sequence[Mapping[str, Any]] = await pool.fetch(
            statement.pg_sql, *statement.pg_args(params)
        )
        return rows

    # --- placing ----------------------------------------------------------------------

    async def place(
        self,
        festival_id: str,
        data: schemas.OrderCreate,
        *,
        idempotency_key: str | None,
        is_organiser: bool = False,
        caller_id: uuid.UUID | None = None,
    ) -> schemas.OrderPlaced:
        """Take the capacity (issue at once when free; hold and start the payment when
        not). The capacity decision is one statement; everything else is done before it
        (validation, prices, tokens) or after it (the payment), without its locks."""
        fid = parse_id(festival_id, "festival")
        if data.payment_provider == "cash" and not is_organiser:
            raise Forbidden("Only the ticket office sells for cash.", code="cash_needs_organiser")
        if idempotency_key is not None and not 16 <= len(idempotency_key) <= 255:
            raise ValidationFailed(
                [
                    FieldError(
                        "Idempotency-Key",
                        "16 to 255 characters: a random value such as a UUID.",
                        "header",
                    )
                ]
            )
        asked = fingerprint(
            {
                "festival_id": str(fid),
                "email": data.email,
                "phone": data.phone,
                "locale": data.locale,
                "provider": data.payment_provider,
                "items": [[i.ticket_type_id, i.quantity] for i in data.items],
            }
        )
        key = None if idempotency_key is None else _scoped_key(fid, caller_id, idempotency_key)
        if key is not None:
            replay = await self._replay(key, asked, data)
            if replay is not None:
                return replay

        festival, types, quantities = await self._validate(fid, data)
        now = utcnow()
        sold_out = SOLD_OUT.sold_out(quantities, festival.epoch, now)
        if sold_out:  # answered from the cache: the quota rows are not touched
            raise Conflict(
                "Not enough tickets left.",
                code="sold_out",
                ticket_type_ids=sorted(str(t) for t in sold_out),
            )
        prices = {t: types[t].price for t in quantities}
        total = sum(prices[t] * q for t, q in quantities.items())
        order_id = uuid.uuid4()
        access_token = keys.new_access_token()
        online = total > 0 and data.payment_provider is None
        hold_minutes = self.settings.ticket_hold_minutes
        if online:  # the hold never ends before the buyer's checkout can
            hold_minutes = max(hold_minutes, self.settings.payment_checkout_minutes)
        expires_at = now + timedelta(minutes=hold_minutes) if total > 0 else None
        order = {
            "order_id": order_id,
            "festival_id": fid,
            "email": data.email,
            "phone": data.phone,
            "locale": data.locale,
            "total": total,
            "currency": festival.currency,
            "token_hash": keys.hash_access_token(access_token),
            "token_sealed": keys.seal_access_token(self.settings, order_id, access_token),
            "order_expires_at": expires_at,
            "idempotency_key": key,
            "fingerprint": asked,
            "status": OrderStatus.PAID if total == 0 else OrderStatus.PENDING,
            "paid_at": now if total == 0 else None,
            "line_ids": [uuid.uuid4() for _ in quantities],
            "line_types": list(quantities),
            "line_quantities": list(quantities.values()),
            "line_prices": [prices[t] for t in quantities],
        }
        tickets: list[dict[str, Any]] = []
        days: list[dict[str, Any]] = []
        kid = 0
        if total == 0:
            kid, private_key = await self._signing_key(fid, festival)
            lines = [
                _Line(
                    t,
                    q,
                    prices[t],
                    festival.currency,
                    types[t].audience,
                    types[t].enclosure_id,
                    types[t].enclosure_number,
                    types[t].days,
                )
                for t, q in quantities.items()
            ]
            tickets, days = _sign_tickets(order_id, fid, kid, private_key, lines)
        mail_to = data.email if total == 0 and self.settings.smtp_host else None

        try:
            await self._take_new(
                order, quantities, festival, now, expires_at, tickets, days, kid, mail_to
            )
        except _KeyTaken:
            assert key is not None
            replay = await self._replay(key, asked, data)
            if replay is None:
                raise Conflict(
                    "This Idempotency-Key is in use; retry.", code="idempotency_busy"
                ) from None
            return replay
        if total == 0:
            if mail_to:
                await self._deliver_now(order_id)
            return self._placed(
                order_id, OrderStatus.PAID, None, None, access_token, total, festival.currency, None
            )
        try:
            checkout = await self._start_payment(
                order_id, fid, total, festival.currency, festival.name_zh, data, now
            )
        except BaseException:
            if self._fast:  # the hold is committed already: give it back now
                await self._abandon(order_id)
            raise
        status = (
            OrderStatus.PAID
            if checkout.status == payment_services.PaymentStatus.SUCCEEDED
            else OrderStatus.PENDING
        )
        return self._placed(
            order_id,
            status,
            checkout.payment_id,
            checkout.checkout_url,
            access_token,
            total,
            festival.currency,
            expires_at if status == OrderStatus.PENDING else None,
        )

    async def _start_payment(
        self,
        order_id: uuid.UUID,
        festival_id: uuid.UUID,
        total: int,
        currency: str,
        festival_name: str,
        data: schemas.OrderCreate,
        now: datetime,
    ) -> payment_services.Checkout:
        """Start (or, for a retry, find) the order's payment and note it on the order."""
        checkout = await payment_services.PaymentService(
            self.session, self.settings, self.links
        ).start(
            festival_id=festival_id,
            purpose=PURPOSE,
            reference_id=order_id,
            amount=total,
            currency=currency,
            description=f"{festival_name} 门票 / tickets",
            customer_email=data.email,
            provider=data.payment_provider,
            idempotency_key=f"ticket-order-{order_id}",
        )
        conn = await self._conn()
        await conn.execute(
            sa.update(ORDER)
            .where(ORDER.c.id == order_id)
            .values(
                payment_id=checkout.payment_id, checkout_url=checkout.checkout_url, updated_at=now
            )
        )
        return checkout

    async def _take_new(
        self,
        order: Mapping[str, Any],
        quantities: Mapping[uuid.UUID, int],
        festival: _Festival,
        now: datetime,
        expires_at: datetime | None,
        tickets: Sequence[Mapping[str, Any]],
        days: Sequence[Mapping[str, Any]],
        kid: int,
        mail_to: str | None,
    ) -> None:
        """The decision for a new order, retried when a quota was added meanwhile."""
        sell = order["total"] == 0
        for _ in range(3):
            by_type, versions = await self._coverage(quantities)
            uncovered = [t for t in quantities if not by_type.get(t)]
            if uncovered:
                self._sold_out(quantities, by_type, [], uncovered)
            needs = capacity.needs_of(quantities, by_type)
            params = {
                **capacity.take_params(
                    needs=needs,
                    versions=versions,
                    order_id=order["order_id"],
                    hold=not sell,
                    now=now,
                    expires_at=expires_at,
                ),
                **order,
            }
            if self._fast:
                statement = capacity.TAKE_SELL_NEW_ORDER if sell else capacity.TAKE_HOLD_NEW_ORDER
                if sell:
                    params.update(_ticket_params(tickets, days, kid, mail_to))
                verdict = await self._take_autocommit(statement, params)
            else:
                verdict = await self._take_in_session(
                    order, params, needs, versions, sell, tickets, days, mail_to, now
                )
            if verdict.fresh:
                break
            for type_id in quantities:  # plan again from the database
                _COVERAGE_CACHE.pop(type_id, None)
        if not verdict.ok:
            if verdict.fresh and verdict.full:
                full = set(verdict.full)
                SOLD_OUT.mark(
                    [t for t in quantities if full & set(by_type.get(t, []))],
                    festival.epoch,
                    verdict.until,
                )
            self._sold_out(quantities, by_type, verdict.short or verdict.full)

    async def _take_autocommit(
        self,
        statement: Statement,
        params: Mapping[str, Any],
    ) -> capacity.Verdict:
        """One statement, committed on its own: the quota locks last one round trip."""
        assert self.db is not None
        pool = await self.db.raw_pool()
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            if pid not in _TIMED_OUT_CONNECTIONS:
                # Session-wide on this pooled connection (its other statements are single
                # autocommit statements too): a lock waited for longer is 503, not a hang.
                await set_session_lock_timeout(conn, self.settings.ticket_lock_timeout_ms)
                _TIMED_OUT_CONNECTIONS.add(pid)
            try:
                row = await conn.fetchrow(statement.pg_sql, *statement.pg_args(params))
            except asyncpg.UniqueViolationError as exc:
                if "idempotency_key" in (exc.constraint_name or ""):
                    raise _KeyTaken from exc
                raise
            except asyncpg.PostgresError as exc:
                if capacity.capacity_busy(exc):
                    raise capacity.busy_error() from exc
                raise
        assert row is not None
        return capacity.verdict_of(row)

    async def _take_in_session(
        self,
        order: Mapping[str, Any],
        params: Mapping[str, Any],
        needs: Mapping[uuid.UUID, int],
        versions: Mapping[uuid.UUID, int],
        sell: bool,
        tickets: Sequence[Mapping[str, Any]],
        days: Sequence[Mapping[str, Any]],
        mail_to: str | None,
        now: datetime,
    ) -> capacity.Verdict:
        """SQLite: the same rows in the request's transaction (a refusal raises, and the
        request's transaction rolls all of it back)."""
        conn = await self._conn()
        created = (
            await conn.execute(
                insert(conn, ORDER)
                .values(
                    id=order["order_id"],
                    festival_id=order["festival_id"],
                    email=order["email"],
                    phone=order["phone"],
                    locale=order["locale"],
                    status=OrderStatus.PENDING,
                    total=order["total"],
                    currency=order["currency"],
                    access_token_hash=order["token_hash"],
                    access_token_sealed=order["token_sealed"],
                    expires_at=order["order_expires_at"],
                    idempotency_key=order["idempotency_key"],
                    request_fingerprint=order["fingerprint"],
                    cancel_reason="",
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(ORDER.c.id)
            )
        ).first()
        if created is None:
            raise _KeyTaken
        await conn.execute(
            sa.insert(LINE),
            [
                {
                    "id": i,
                    "order_id": order["order_id"],
                    "ticket_type_id": t,
                    "quantity": q,
                    "unit_price": p,
                }
                for i, t, q, p in zip(
                    order["line_ids"],
                    order["line_types"],
                    order["line_quantities"],
                    order["line_prices"],
                    strict=True,
                )
            ],
        )
        verdict = await capacity.take_portable(
            conn,
            needs=needs,
            versions=versions,
            order_id=order["order_id"],
            hold=not sell,
            now=now,
            expires_at=params["expires_at"],
        )
        if not verdict.fresh:  # the writer lock makes this unlikely; never write twice
            raise capacity.busy_error()
        if verdict.ok and sell:
            await _write_tickets(conn, order["order_id"], tickets, days, mail_to, now)
        return verdict

    async def _coverage(
        self,
        quantities: Mapping[uuid.UUID, int],
    ) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, int]]:
        """Which quotas each type counts against, with their versions. On PostgreSQL it is
        remembered per worker: the take checks the versions under its locks, and a stale
        plan (a quota added, deleted or a type's days changed) is dropped and read again."""
        if not self._fast:
            return await capacity.plan_coverage(await self._conn(), quantities)
        by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        versions: dict[uuid.UUID, int] = {}
        missing = [t for t in quantities if t not in _COVERAGE_CACHE]
        if missing:
            fetched: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
            for row in await self._fetch(_COVERAGE, type_ids=missing):
                fetched[row["type_id"]].append((row["quota_id"], row["version"]))
            if len(_COVERAGE_CACHE) > 10_000:
                _COVERAGE_CACHE.clear()
            _COVERAGE_CACHE.update({t: tuple(q) for t, q in fetched.items()})  # never empty
        for type_id in quantities:
            for quota_id, version in _COVERAGE_CACHE.get(type_id, ()):
                by_type[type_id].append(quota_id)
                versions[quota_id] = version
        return dict(by_type), versions

    async def _signing_key(
        self,
        festival_id: uuid.UUID,
        festival: _Festival,
    ) -> tuple[int, Any]:
        if festival.key is not None:
            kid, public_key, sealed = festival.key
            if kid > keys.MAX_KID:
                raise ConfigurationError(f"Signing key number {kid} no longer fits a token.")
            return kid, keys.private_key(self.settings, kid, festival_id, public_key, sealed)
        if self._fast:  # the festival's first ticket: make its key, committed before use
            assert self.db is not None
            async with self.db.transaction() as session:
                await KeyService(session, self.settings).signing_key(festival_id)
            rows = await self._fetch(_VALIDATE, festival_id=festival_id, type_ids=[])
            return await self._signing_key(festival_id, self._festival_of(rows[0]))
        return await KeyService(self.session, self.settings).signing_key(festival_id)

    async def _abandon(self, order_id: uuid.UUID) -> None:
        """The payment could not be started after the hold was committed: release it."""
        assert self.db is not None
        try:
            async with self.db.transaction() as session:
                conn = await session.connection()
                await capacity.release_holds(conn, order_id)
                now = utcnow()
                await conn.execute(
                    sa.update(ORDER)
                    .where(ORDER.c.id == order_id, ORDER.c.status == OrderStatus.PENDING)
                    .values(
                        status=OrderStatus.CANCELED,
                        canceled_at=now,
                        expires_at=None,
                        cancel_reason="the payment could not be started",
                        updated_at=now,
                    )
                )
        except Exception:  # the hold still lapses on its own
            log.exception("Ticket order %s: could not release its hold", order_id)

    async def _deliver_now(self, order_id: uuid.UUID) -> None:
        """A free order's mail row is committed already: enqueue its sending."""
        if self.db is None:
            return
        await hooks.send_order_mail(self.db.engine, order_id)

    def _placed(
        self,
        order_id: uuid.UUID,
        status: str,
        payment_id: uuid.UUID | None,
        checkout_url: str | None,
        access_token: str,
        total: int,
        currency: str,
        expires_at: datetime | None,
    ) -> schemas.OrderPlaced:
        return mappers.order_placed(
            order_id,
            status,
            payment_id,
            checkout_url,
            access_token,
            total,
            currency,
            expires_at,
            self.links.order(order_id, access_token),
        )

    async def _replay(
        self,
        key: str,
        asked: str,
        data: schemas.OrderCreate,
    ) -> schemas.OrderPlaced | None:
        if self._fast:
            rows = await self._fetch(_REPLAY, key=key)
            row: Any = rows[0] if rows else None
        else:
            row = (
                (await (await self._conn()).execute(_REPLAY.clause, {"key": key}))
                .mappings()
                .first()
            )
        if row is None:
            return None
        same_request(row["request_fingerprint"], asked, "order")
        token = keys.unseal_access_token(self.settings, row["id"], row["access_token_sealed"])
        now = utcnow()
        status = effective_status(row["status"], row["expires_at"], now)
        payment_id, checkout_url = row["payment_id"], row["checkout_url"]
        if status == OrderStatus.PENDING and payment_id is None and row["total"] > 0:
            # The first request holds the places and is starting the payment right now:
            # starting it is idempotent, so the retry gets the same checkout.
            festival = await festival_services.FestivalService(self.session).get(row["festival_id"])
            checkout = await self._start_payment(
                row["id"],
                row["festival_id"],
                row["total"],
                row["currency"],
                festival.name_zh,
                data,
                now,
            )
            payment_id, checkout_url = checkout.payment_id, checkout.checkout_url
            if checkout.status == payment_services.PaymentStatus.SUCCEEDED:
                status = OrderStatus.PAID
        return self._placed(
            row["id"],
            status,
            payment_id,
            checkout_url,
            token,
            row["total"],
            row["currency"],
            row["expires_at"] if status == OrderStatus.PENDING else None,
        )

    @staticmethod
    def _festival_of(row: Mapping[str, Any]) -> _Festival:
        key = (
            None
            if row["kid"] is None
            else (row["kid"], row["public_key"], row["private_key_sealed"])
        )
        return _Festival(row["currency"], row["name_zh"], int(row["epoch"]), key)

    async def _validate(
        self,
        festival_id: uuid.UUID,
        data: schemas.OrderCreate,
    ) -> tuple[_Festival, dict[uuid.UUID, _Type], dict[uuid.UUID, int]]:
        """The festival and the requested types in one query; every bad item named."""
        errors: list[FieldError] = []
        wanted: dict[uuid.UUID, int] = {}
        for i, item in enumerate(data.items):
            try:
                type_id = uuid.UUID(item.ticket_type_id)
            except ValueError:
                errors.append(
                    FieldError(f"items.{i}.ticket_type_id", "No such ticket type at this festival.")
                )
                continue
            if type_id in wanted:
                errors.append(
                    FieldError(f"items.{i}.ticket_type_id", "This ticket type appears twice.")
                )
                continue
            wanted[type_id] = i
        if self._fast:
            rows: Sequence[Mapping[str, Any]] = await self._fetch(
                _VALIDATE, festival_id=festival_id, type_ids=list(wanted)
            )
        else:
            rows = [
                dict(r)
                for r in (
                    await (await self._conn()).execute(
                        _VALIDATE_PORTABLE(wanted), {"festival_id": festival_id}
                    )
                ).mappings()
            ]
        if not rows:
            raise NotFound(f"No festival with id {str(festival_id)!r}.")
        festival = self._festival_of(rows[0])
        found: dict[uuid.UUID, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            if row["type_id"] is not None:
                found[row["type_id"]].append(row)
        types = {
            t: _Type(
                t,
                r[0]["price"],
                r[0]["max_per_order"],
                r[0]["is_active"],
                r[0]["sales_start"],
                r[0]["sales_end"],
                r[0]["audience"],
                r[0]["enclosure_id"],
                r[0]["enclosure_number"],
                tuple((x["day_id"], x["day_date"]) for x in r),
            )
            for t, r in found.items()
        }
        quantities: dict[uuid.UUID, int] = {}
        limit_errors: list[FieldError] = []
        for type_id, i in wanted.items():
            found_type = types.get(type_id)
            quantity = data.items[i].quantity
            if found_type is None:
                errors.append(
                    FieldError(f"items.{i}.ticket_type_id", "No such ticket type at this festival.")
                )
            elif quantity > found_type.max_per_order:
                limit_errors.append(
                    FieldError(
                        f"items.{i}.quantity", f"At most {found_type.max_per_order} per order."
                    )
                )
            else:
                quantities[type_id] = quantity
        if errors:
            raise ValidationFailed(errors + limit_errors, code="unknown_ticket_type")
        if limit_errors:
            raise ValidationFailed(limit_errors, code="over_order_limit")
        now = utcnow()
        closed = [str(t) for t in quantities if not on_sale(types[t], now)]
        if closed:
            raise Conflict(
                "These tickets are not on sale now.", code="sales_closed", ticket_type_ids=closed
            )
        return festival, types, quantities

    @staticmethod
    def _sold_out(
        quantities: Mapping[uuid.UUID, int],
        by_type: Mapping[uuid.UUID, list[uuid.UUID]],
        short: Sequence[uuid.UUID],
        uncovered: Sequence[uuid.UUID] = (),
    ) -> None:
        affected = sorted(
            {str(t) for t in quantities if t in uncovered or set(by_type.get(t, [])) & set(short)}
        )
        raise Conflict("Not enough tickets left.", code="sold_out", ticket_type_ids=affected)

    # --- issuing ----------------------------------------------------------------------

    async def _issue(self, order_id: uuid.UUID, now: datetime) -> bool:
        """Turn a paid order's hold into signed tickets, if there is room; True when it is
        paid now (or was already). Takes the order lock, then (in the take) the quota
        locks; the tickets are signed before."""
        conn = await self._conn()
        order = await common.lock_order(conn, order_id)
        if order is None:
            raise NotFound(f"No ticket order {order_id}.", code="order_not_found")
        if order.status == OrderStatus.PAID:
            return True
        lines = await _order_lines(conn, order_id)
        quantities = {line.ticket_type_id: line.quantity for line in lines}
        kid, private_key = await KeyService(self.session, self.settings).signing_key(
            order.festival_id
        )
        tickets, days = _sign_tickets(order_id, order.festival_id, kid, private_key, lines)
        mail_to = order.email if order.email and self.settings.smtp_host else None
        postgres = conn.dialect.name == "postgresql"
        for _ in range(3):
            by_type, versions = await capacity.plan_coverage(conn, quantities)
            if any(not by_type.get(t) for t in quantities):
                return False
            needs = capacity.needs_of(quantities, by_type)
            params = capacity.take_params(
                needs=needs,
                versions=versions,
                order_id=order_id,
                hold=False,
                now=now,
                expires_at=None,
            )
            if postgres:
                verdict = await capacity.run_take(
                    conn,
                    capacity.TAKE_SELL_ORDER,
                    {
                        **params,
                        **_ticket_params(tickets, days, kid, mail_to),
                        "festival_id": order.festival_id,
                        "currency": order.currency,
                    },
                    self.settings.ticket_lock_timeout_ms,
                )
            else:
                verdict = await capacity.take_portable(
                    conn,
                    needs=needs,
                    versions=versions,
                    order_id=order_id,
                    hold=False,
                    now=now,
                    expires_at=None,
                )
                if verdict.ok:
                    await _write_tickets(conn, order_id, tickets, days, mail_to, now)
            if verdict.fresh:
                break
        if verdict.ok and mail_to:
            hooks.send_order_mail_after_commit(self.session, order_id)
        return verdict.ok

    async def fulfil(self, payment: PaymentView) -> None:
        """The payment succeeded: issue the tickets; if the capacity is gone (the payment
        came after the hold lapsed, or the order was cancelled), refund it at once."""
        now = utcnow()
        conn = await self._conn()
        order = await common.lock_order(conn, payment.reference_id)
        if order is None:
            log.error(
                "Payment %s succeeded for unknown ticket order %s", payment.id, payment.reference_id
            )
            return
        if order.status == OrderStatus.PAID:
            return
        if order.status != OrderStatus.CANCELED and await self._issue(order.id, now):
            return
        reason = (
            "order cancelled before payment"
            if order.status == OrderStatus.CANCELED
            else "the held tickets were sold out before the payment arrived"
        )
        log.warning("Ticket order %s: %s; refunding payment %s", order.id, reason, payment.id)
        await capacity.release_holds(conn, order.id)
        await conn.execute(
            sa.update(ORDER)
            .where(ORDER.c.id == order.id)
            .values(
                status=OrderStatus.CANCELED,
                canceled_at=order.canceled_at or now,
                cancel_reason=order.cancel_reason or reason[:200],
                updated_at=now,
            )
        )
        await payment_services.PaymentService(self.session, self.settings).refund(
            payment.id,
            reason=f"Tickets not issued: {reason}",
            idempotency_key=f"ticket-order-{order.id}-unfulfilled",
        )

    async def release(self, payment: PaymentView) -> None:
        """The payment failed, expired or was cancelled: free the held capacity."""
        now = utcnow()
        conn = await self._conn()
        order = await common.lock_order(conn, payment.reference_id)
        if order is None:
            return
        await capacity.release_holds(conn, order.id)
        if order.status == OrderStatus.PENDING:
            await conn.execute(
                sa.update(ORDER)
                .where(ORDER.c.id == order.id)
                .values(
                    status=OrderStatus.EXPIRED,
                    expires_at=None,
                    updated_at=now,
                    cancel_reason=f"payment {payment.status}",
                )
            )

    async def refunded(self, payment: PaymentView, amount: int) -> None:
        """Money went back. Refunds made here already ended their tickets; a full refund
        made elsewhere (Stripe's dashboard) ends every ticket still valid. A partial one
        made elsewhere cannot be matched to tickets: it is logged for the organiser."""
        now = utcnow()
        conn = await self._conn()
        order = await common.lock_order(conn, payment.reference_id)
        if order is None:
            return
        refunded_in_tickets = (
            await conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(TICKET.c.price), 0)).where(
                    TICKET.c.order_id == order.id, TICKET.c.status == TicketStatus.REFUNDED
                )
            )
        ).scalar_one()
        if payment.amount_refunded >= payment.amount:
            rows = await common.valid_tickets(conn, order.id)
            await common.end_tickets(conn, order.festival_id, rows, TicketStatus.REFUNDED, now)
            await common.settle_order_status(conn, order.id, now, "refunded")
        elif payment.amount_refunded > refunded_in_tickets:
            log.warning(
                "Ticket order %s: %s refunded outside the platform cannot be matched "
                "to tickets; the tickets stay valid",
                order.id,
                payment.amount_refunded - refunded_in_tickets,
            )

    async def sweep_expired(self) -> int:
        """Mark pending orders past their hold as expired and drop their holds (optional:
        expired holds stop counting anyway). Returns how many orders."""
        now = utcnow()
        conn = await self._conn()
        expired = [
            row.id
            for row in await conn.execute(
                sa.update(ORDER)
                .where(ORDER.c.status == OrderStatus.PENDING, ORDER.c.expires_at <= now)
                .values(
                    status=OrderStatus.EXPIRED, updated_at=now, cancel_reason="not paid in time"
                )
                .returning(ORDER.c.id)
            )
        ]
        await capacity.release_holds(conn, expired)
        return len(expired)

    # --- reading and authorising ------------------------------------------------------

    async def authorised_order(
        self, order_id: str, access_token: str | None, *, is_organiser: bool = False
    ) -> Any:
        key = parse_id(order_id, "order")
        row = (
            await (await self._conn()).execute(sa.select(ORDER).where(ORDER.c.id == key))
        ).first()
        if row is None:
            raise NotFound(f"No order with id {order_id!r}.", code="order_not_found")
        if not is_organiser and not keys.access_token_matches(access_token, row.access_token_hash):
            raise Forbidden("This link does not open this order.", code="invalid_access_token")
        return row

    async def read(
        self, order_id: str, access_token: str | None, *, is_organiser: bool = False
    ) -> schemas.OrderRead:
        order = await self.authorised_order(order_id, access_token, is_organiser=is_organiser)
        return await self.read_row(order)

    async def read_row(self, order: Any) -> schemas.OrderRead:
        conn = await self._conn()
        now = utcnow()
        lines = (
            await conn.execute(
                sa.select(
                    LINE.c.ticket_type_id,
                    TYPE.c.name_zh,
                    TYPE.c.name_en,
                    LINE.c.quantity,
                    LINE.c.unit_price,
                )
                .select_from(LINE.join(TYPE, TYPE.c.id == LINE.c.ticket_type_id))
                .where(LINE.c.order_id == order.id)
                .order_by(TYPE.c.position, TYPE.c.code)
            )
        ).all()
        tickets = await TicketService(self.session, self.settings).reads(order_id=order.id)
        return mappers.order_read(order, lines, tickets, now)

    async def list(
        self,
        festival_id: str,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        email: str | None = None,
    ) -> tuple[list[schemas.OrderSummary], int]:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        conn = await self._conn()
        conditions = [ORDER.c.festival_id == festival.id]
        if status is not None:
            conditions.append(ORDER.c.status == status)
        if email is not None:
            conditions.append(sa.func.lower(ORDER.c.email) == email.lower())
        total = (
            await conn.execute(sa.select(sa.func.count()).select_from(ORDER).where(*conditions))
        ).scalar_one()
        counts = (
            sa.select(sa.func.count())
            .where(TICKET.c.order_id == ORDER.c.id, TICKET.c.status == TicketStatus.VALID)
            .scalar_subquery()
        )
        rows = await conn.execute(
            sa.select(
                ORDER.c.id,
                ORDER.c.status,
                ORDER.c.email,
                ORDER.c.phone,
                ORDER.c.total,
                ORDER.c.currency,
                counts,
                ORDER.c.created_at,
                ORDER.c.paid_at,
                ORDER.c.expires_at,
            )
            .where(*conditions)
            .order_by(ORDER.c.created_at.desc(), ORDER.c.id)
            .limit(limit)
            .offset(offset)
        )
        now = utcnow()
        items = [mappers.order_summary(r, now) for r in rows]
        return items, int(total)

    # --- cancelling -------------------------------------------------------------------

    async def cancel(
        self,
        order_id: str,
        access_token: str | None,
        *,
        reason: str,
        is_organiser: bool = False,
        actor_id: uuid.UUID | None = None,
        admitted_ok: bool = False,
    ) -> schemas.OrderRead:
        """Unpaid: release the hold and close the payment (buyer or organiser). Paid:
        refund every valid ticket and revoke their tokens (organisers only)."""
        order = await self.authorised_order(order_id, access_token, is_organiser=is_organiser)
        conn = await self._conn()
        now = utcnow()
        order = await common.lock_payment_then_order(self.session, self.settings, order.id)
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REFUNDED):
            return await self.read_row(order)
        if order.status == OrderStatus.PENDING:
            await capacity.release_holds(conn, order.id)
            await conn.execute(
                sa.update(ORDER)
                .where(ORDER.c.id == order.id)
                .values(
                    status=OrderStatus.CANCELED,
                    canceled_at=now,
                    cancel_reason=reason[:200],
                    expires_at=None,
                    updated_at=now,
                )
            )
            if order.payment_id is not None:
                # Closes a Stripe checkout first: a cancelled order can no longer be paid.
                await payment_services.PaymentService(self.session, self.settings).cancel(
                    order.payment_id, reason=f"ticket order cancelled: {reason}"
                )
        else:
            if not is_organiser:
                raise Forbidden(
                    "Paid orders are refunded by the organiser.", code="refund_needs_organiser"
                )
            await TicketService(self.session, self.settings).refund_tickets(
                order, None, reason=reason, actor_id=actor_id, admitted_ok=admitted_ok
            )
        return await self.read_row(await common.lock_order(conn, order.id))


# --- the payment contract ----------------------------------------------------------------


class TicketOrderPayments:
    """Payments calls these in the transaction that moves a ticket order's payment."""

    async def on_succeeded(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        await OrderService(session, settings).fulfil(payment)

    async def on_failed(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        await OrderService(session, settings).release(payment)

    async def on_refunded(
        self, session: AsyncSession, payment: PaymentView, amount: int, settings: Settings
    ) -> None:
        await OrderService(session, settings).refunded(payment, amount)


fulfilment.register(PURPOSE, TicketOrderPayments())
