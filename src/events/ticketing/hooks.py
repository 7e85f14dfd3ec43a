"""What ticketing asks of the modules above it, registered once at start.

Ticketing stands below check-in (which reads tickets) and below its own mail sender (which
reads orders to write the confirmation). Rather than import them back, it asks through
these hooks, which ``create_app`` fills (``events.ticketing.wiring.connect()`` and
``events.checkin.wiring.connect()``). An unfilled hook is a wiring mistake and raises:
it never quietly answers "nobody entered".
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

FirstEntries = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, datetime]]]
OrderMail = Callable[[AsyncEngine, uuid.UUID], Awaitable[None]]
OrderMailAfterCommit = Callable[[AsyncSession, uuid.UUID], None]

_first_entries: list[FirstEntries] = []
_order_mail: list[tuple[OrderMail, OrderMailAfterCommit]] = []


def use_first_entries(source: FirstEntries) -> None:
    """Check-in's answer to "when did these tickets first enter?"."""
    _first_entries[:] = [source]


def use_order_mail(now: OrderMail, after_commit: OrderMailAfterCommit) -> None:
    """How an order's confirmation is sent: enqueued now (its row is committed) or once the
    current transaction commits (``events.ticketing.jobs``)."""
    _order_mail[:] = [(now, after_commit)]


async def first_entries(
    session: AsyncSession, ticket_ids: list[uuid.UUID]
) -> Mapping[uuid.UUID, datetime]:
    """When each ticket first entered; a ticket that never entered is absent."""
    if not _first_entries:
        raise RuntimeError("check-in is not connected (events.checkin.wiring.connect)")
    return await _first_entries[0](session, ticket_ids)


def _mail() -> tuple[OrderMail, OrderMailAfterCommit]:
    if not _order_mail:
        raise RuntimeError("the order mail is not connected (events.ticketing.wiring.connect)")
    return _order_mail[0]


async def send_order_mail(engine: AsyncEngine, order_id: uuid.UUID) -> None:
    """Send the order's confirmation (its outbox row is committed already)."""
    await _mail()[0](engine, order_id)


def send_order_mail_after_commit(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Send the order's confirmation once ``session``'s transaction commits."""
    _mail()[1](session, order_id)
