"""The demo's rehearsal day: a day dated the day the demo is loaded, so that ``make run`` on
any date lets a newcomer scan a ticket green at once.

``rehearse(session, festival, settings, links)`` makes sure the festival has a day for
today (in the festival's time zone; a meeting "彩排日 Rehearsal" holding it, unless today
is a festival day already), a ticket type for it, a few tickets sold for cash at the
office and a gate device at the first gate. It is idempotent: run again the same day it
finds them all; run on another day it adds that day.

The device's token is derived from the signing key (HMAC), so every run can print the same
scanner link again although only the token's hash is stored; a new ``EVENTS_SECRET_KEY``
gives a new device. Nothing here is used outside ``events demo``.
"""

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import security
from events.access import services as access_services
from events.config import Settings
from events.db.base import utcnow
from events.festivals import schemas as festival_schemas
from events.festivals import services as festival_services
from events.festivals.models import Festival
from events.links import Links
from events.ticketing import schemas as ticket_schemas
from events.ticketing.catalog import CatalogService
from events.ticketing.models import Enclosure
from events.ticketing.orders import OrderService

TICKETS = 3
"""Tickets sold for the rehearsal day (one order, paid in cash)."""
PRICE = 8_000
BUYER = "rehearsal@demo.invalid"


def today_at(festival: Festival, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(ZoneInfo(festival.timezone)).date()


def device_token(settings: Settings, festival_id: uuid.UUID) -> str:
    """The demo gate device's token: the same for every run with the same signing key."""
    digest = hmac.new(
        settings.signing_key().encode(), f"demo-device:{festival_id}".encode(), hashlib.sha256
    ).digest()
    return security.DEVICE_TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def _today(session: AsyncSession, festival: Festival, today: dt.date) -> tuple[str, bool]:
    """The id of the festival day dated today, added in a rehearsal meeting if needed."""
    festivals = festival_services.FestivalService(session)
    for day in await festivals.days(festival.id):
        if day.date == today:
            return str(day.id), False
    label = f"{today.month}/{today.day}"
    await festivals.add_meeting(
        str(festival.id),
        festival_schemas.MeetingIn(
            name_zh=f"彩排日 {label}",
            name_en=f"Rehearsal {label}",
            days=[festival_schemas.DayIn(date=today, name_zh="彩排日", name_en="Rehearsal day")],
        ),
    )
    day_id = next(d.id for d in await festivals.days(festival.id) if d.date == today)
    return str(day_id), True


async def _ticket_type(
    session: AsyncSession, festival: Festival, day_id: str, today: dt.date
) -> str | None:
    catalog = CatalogService(session)
    code = f"rehearsal-{today.isoformat()}"
    for existing in await catalog.types(festival.id, include_inactive=True):
        if existing.code == code:
            return existing.id
    ground = (
        await session.exec(
            select(Enclosure.id).where(
                Enclosure.festival_id == festival.id, Enclosure.code == "ground"
            )
        )
    ).first()
    if ground is None:
        return None
    fid = str(festival.id)
    await catalog.create_quota(
        fid,
        ticket_schemas.QuotaCreate(name=f"Rehearsal {today.isoformat()}", size=500, day_id=day_id),
    )
    created = await catalog.create_type(
        fid,
        ticket_schemas.TicketTypeCreate(
            code=code,
            name_zh=f"彩排日门票 {today.month}/{today.day}",
            name_en=f"Rehearsal day {today.month}/{today.day}",
            enclosure_id=str(ground),
            day_ids=[day_id],
            price=PRICE,
            max_per_order=10,
            position=0,
        ),
    )
    return created.id


async def _device(session: AsyncSession, festival: Festival, settings: Settings) -> tuple[str, str]:
    """(gate name, token) of the demo gate device at the festival's first gate."""
    token = device_token(settings, festival.id)
    devices = access_services.DeviceService(session)
    gates = await festival_services.FestivalService(session).gates(festival.id)
    gate = min(gates, key=lambda g: g.code != "north")
    hashed = security.hash_device_token(token)
    known, _ = await devices.list(festival.id, limit=1000, offset=0)
    if not any(d.token_hash == hashed and d.revoked_at is None for d in known):
        await devices.create(
            festival_id=festival.id,
            gate_id=gate.id,
            name="演示检票机 Demo scanner",
            created_by=None,
            token=token,
        )
    return f"{gate.name_zh} {gate.name_en}", token


async def rehearse(
    session: AsyncSession, festival: Festival, settings: Settings, links: Links | None = None
) -> list[str]:
    links = links or Links.for_settings(settings)
    today = today_at(festival)
    day_id, added = await _today(session, festival, today)
    type_id = await _ticket_type(session, festival, day_id, today)
    if type_id is None:
        return ["Rehearsal day: no ground enclosure to sell it in."]
    gate, token = await _device(session, festival, settings)
    placed = await OrderService(session, settings, links=links).place(
        str(festival.id),
        ticket_schemas.OrderCreate(
            email=BUYER,
            items=[ticket_schemas.OrderItem(ticket_type_id=type_id, quantity=TICKETS)],
            payment_provider="cash",
        ),
        idempotency_key=f"demo-rehearsal-{festival.id}-{today.isoformat()}",
        is_organiser=True,
    )
    return [
        f"Rehearsal day {today.isoformat()} ({festival.timezone}): "
        f"{'added' if added else 'already there'}; {TICKETS} tickets paid in cash.",
        f"  Scanner ({gate}), open on the gate phone: {links.scanner(token)}",
        f"  Tickets for today (show a QR to the scanner): {placed.order_url}",
    ]
