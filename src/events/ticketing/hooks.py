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
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.links import Links

FirstEntries = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, datetime]]]


class MailSender(Protocol):
    def __call__(self, engine: AsyncEngine, settings: Settings, *,
                 links: Links | None = None) -> Awaitable[object]: ...


_first_entries: list[FirstEntries] = []
_mail_sender: list[MailSender] = []


def use_first_entries(source: FirstEntries) -> None:
    """Check-in's answer to "when did these tickets first enter?"."""
    _first_entries[:] = [source]


def use_mail_sender(sender: MailSender) -> None:
    """The sender that empties the mail outbox."""
    _mail_sender[:] = [sender]


async def first_entries(
    session: AsyncSession, ticket_ids: list[uuid.UUID]
) -> Mapping[uuid.UUID, datetime]:
    """When each ticket first entered; a ticket that never entered is absent."""
    if not _first_entries:
        raise RuntimeError("check-in is not connected (events.checkin.wiring.connect)")
    return await _first_entries[0](session, ticket_ids)


async def send_due_mail(engine: AsyncEngine, settings: Settings, *,
                        links: Links | None = None) -> None:
    """Send what is due in the outbox now (its links start with ``links``)."""
    if not _mail_sender:
        raise RuntimeError("the mail sender is not connected (events.ticketing.wiring.connect)")
    await _mail_sender[0](engine, settings, links=links)
