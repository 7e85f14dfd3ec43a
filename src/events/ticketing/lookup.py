"""Find my tickets: a spectator who lost the order link names the e-mail address or mobile
number of the order and is sent a link to each paid order.

What the asker learns is the same whatever the address holds: the answer (``202``, one
fixed body) goes out before anything is looked up; the lookup and the message are a
background task after the response (``send_order_links``), so neither the body nor the
time to answer says whether there are orders. Nothing is sent when there are none.

Asking is limited per address and per client address (``LookupThrottle``: a fixed window
in the Litestar store, Redis when ``EVENTS_REDIS_URL`` is set), so nobody can flood an
inbox or walk through addresses; being limited says nothing about orders either.

Messages go through ``events.notify`` (mail now; SMS when a provider is registered).
"""

import hashlib
import logging
import math
import re
import time
import uuid
from dataclasses import dataclass

import msgspec
import sqlalchemy as sa
from litestar.stores.base import Store

from events.config import Settings
from events.db.engine import Database
from events.errors import DomainError
from events.festivals.models import FESTIVAL
from events.links import Links
from events.money import format_money
from events.notify import Channel, Message, notify
from events.ticketing import keys
from events.ticketing.models import ORDER, OrderStatus

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
PER_ADDRESS = 3
"""Requests per hour for one e-mail address or mobile number."""
PER_CLIENT = 20
"""Requests per hour from one client address."""
MAX_ORDERS = 20
"""Links in one message (the most recent paid orders)."""


class LookupThrottled(DomainError):
    status_code = 429
    code = "lookup_throttled"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many requests; try again in {retry_after} s.", retry_after=retry_after
        )
        self.headers = {"Retry-After": str(retry_after)}


class _Window(msgspec.Struct):
    count: int = 0
    started: float = 0.0


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def normalise_phone(phone: str) -> str:
    """Digits (and a leading +) only: ``+86 138-0013-8000`` → ``+8613800138000``."""
    phone = phone.strip()
    return ("+" if phone.startswith("+") else "") + re.sub(r"\D", "", phone)


@dataclass(frozen=True, slots=True)
class Address:
    channel: Channel
    value: str
    """Lower-cased e-mail address, or normalised mobile number."""

    @classmethod
    def of(cls, email: str | None, phone: str | None) -> "Address":
        if email:
            return cls(Channel.EMAIL, email.strip().casefold())
        assert phone is not None
        return cls(Channel.SMS, normalise_phone(phone))


class LookupThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def _take(self, key: str, limit: int, now: float) -> int:
        """0 when allowed (and counted), else the seconds until the window ends."""
        raw = await self.store.get(key)
        window = _Window(started=now)
        if raw is not None:
            try:
                window = msgspec.json.decode(raw, type=_Window)
            except msgspec.DecodeError:
                window = _Window(started=now)
        if now - window.started >= WINDOW_SECONDS:
            window = _Window(started=now)
        if window.count >= limit:
            return max(1, math.ceil(window.started + WINDOW_SECONDS - now))
        window.count += 1
        await self.store.set(
            key,
            msgspec.json.encode(window),
            expires_in=max(1, math.ceil(window.started + WINDOW_SECONDS - now)),
        )
        return 0

    async def take(self, address: Address, client: str | None) -> None:
        """Count one request; ``LookupThrottled`` when the address or the client is over."""
        now = time.time()
        keys_ = [(f"address:{_digest(address.value)}", PER_ADDRESS)]
        if client:
            keys_.insert(0, (f"client:{_digest(client)}", PER_CLIENT))
        for key, limit in keys_:
            wait = await self._take(key, limit, now)
            if wait:
                raise LookupThrottled(wait)

    async def aclose(self) -> None:
        await self.store.__aexit__(None, None, None)


def lookup_throttle(settings: Settings) -> LookupThrottle:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return LookupThrottle(
            RedisStore.with_client(
                url=settings.redis_url, namespace=f"{settings.redis_prefix}:ticket_lookup"
            )
        )
    from litestar.stores.memory import MemoryStore

    return LookupThrottle(MemoryStore())


@dataclass(frozen=True, slots=True)
class FoundOrder:
    order_id: uuid.UUID
    access_token: str
    festival_zh: str
    festival_en: str
    total: int
    currency: str
    locale: str


async def paid_orders(database: Database, settings: Settings, address: Address) -> list[FoundOrder]:
    """The paid orders placed with this e-mail address or mobile number, newest first."""
    if address.channel is Channel.EMAIL:
        condition = sa.func.lower(ORDER.c.email) == address.value
    else:
        stripped = sa.func.replace(sa.func.replace(ORDER.c.phone, " ", ""), "-", "")
        condition = stripped == address.value
    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    ORDER.c.id,
                    ORDER.c.access_token_sealed,
                    ORDER.c.total,
                    ORDER.c.currency,
                    ORDER.c.locale,
                    FESTIVAL.c.name_zh,
                    FESTIVAL.c.name_en,
                )
                .select_from(ORDER.join(FESTIVAL, FESTIVAL.c.id == ORDER.c.festival_id))
                .where(condition, ORDER.c.status == OrderStatus.PAID)
                .order_by(ORDER.c.created_at.desc())
                .limit(MAX_ORDERS)
            )
        ).all()
    return [
        FoundOrder(
            order_id=r.id,
            access_token=keys.unseal_access_token(settings, r.id, r.access_token_sealed),
            festival_zh=r.name_zh,
            festival_en=r.name_en,
            total=r.total,
            currency=r.currency,
            locale=r.locale,
        )
        for r in rows
    ]


def compose(address: Address, orders: list[FoundOrder], links: Links) -> Message:
    english_first = orders[0].locale == "en"
    zh = ["您好！以下是您已支付的订单，打开链接即可查看门票二维码和PDF门票：", ""]
    en = ["Hello! Here are your paid orders; open a link for the QR tickets and PDFs:", ""]
    for order in orders:
        link = links.order(order.order_id, order.access_token)
        price = format_money(order.total, order.currency)
        zh += [f"- {order.festival_zh}｜订单 {str(order.order_id)[:8]}｜{price}", f"  {link}"]
        en += [f"- {order.festival_en} | order {str(order.order_id)[:8]} | {price}", f"  {link}"]
    zh += ["", "请勿转发这些链接：持有二维码即可入场。如非本人操作，请忽略本邮件。"]
    en += [
        "",
        "Do not share these links: whoever holds the QR code gets in. If you did not "
        "ask for this, ignore this message.",
    ]
    parts = [en, zh] if english_first else [zh, en]
    return Message(
        channel=address.channel,
        to=address.value,
        subject="您的门票 Your tickets" if not english_first else "Your tickets 您的门票",
        text="\n\n——————————\n\n".join("\n".join(p) for p in parts),
    )


async def send_order_links(
    database: Database, settings: Settings, links: Links, address: Address
) -> bool:
    """Look the orders up and send the links (after the answer has gone); True when a
    message was sent."""
    try:
        orders = await paid_orders(database, settings, address)
    except Exception:  # a background task: nobody to answer; never the address in the log
        log.exception("Ticket lookup failed")
        return False
    if not orders:
        return False
    return await notify(settings, compose(address, orders, links))
