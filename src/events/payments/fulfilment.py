"""What a payment is for: the contract between payments and the domains that sell things.

Registration (entry fees) and ticketing (ticket orders) register a ``PaymentHandler`` for
their purpose when their services module is imported::

    from events.payments import fulfilment

    fulfilment.register("ticket_order", TicketOrderPayments())

The payments service calls the handler inside the same transaction as the payment's state
change, exactly once per change, with the app's settings: when the handler raises, the
change is rolled back with it.
A purpose without a handler still moves; a warning is logged.

The funding ledger hears of every succeeded payment and every refund through one explicit
hook, ``register_ledger(listener)``, called in the same transaction as well.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A payment as other domains see it (amounts in minor units)."""

    id: uuid.UUID
    festival_id: uuid.UUID
    purpose: str
    reference_id: uuid.UUID
    amount: int
    amount_refunded: int
    currency: str
    status: str
    provider: str


class PaymentHandler(Protocol):
    """Confirms, releases or refunds what a payment paid for."""

    async def on_succeeded(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        """The money arrived: confirm the entry / issue the tickets."""

    async def on_failed(
        self, session: AsyncSession, payment: PaymentView, settings: Settings
    ) -> None:
        """Failed, expired or cancelled: release what was held."""

    async def on_refunded(
        self, session: AsyncSession, payment: PaymentView, amount: int, settings: Settings
    ) -> None:
        """``amount`` (minor units) went back; ``payment`` carries the refunded total."""


class LedgerEvent(StrEnum):
    RECEIVED = "received"
    REFUNDED = "refunded"


class LedgerListener(Protocol):
    """The funding ledger: hears money received and money refunded."""

    async def __call__(
        self, session: AsyncSession, payment: PaymentView, event: LedgerEvent, amount: int
    ) -> None: ...


_handlers: dict[str, PaymentHandler] = {}
_ledger: list[LedgerListener] = []


def register(purpose: str, handler: PaymentHandler) -> None:
    """Make ``handler`` the one that fulfils payments for ``purpose`` (replaces any other)."""
    _handlers[str(purpose)] = handler


def unregister(purpose: str) -> None:
    _handlers.pop(str(purpose), None)


def handler_for(purpose: str) -> PaymentHandler | None:
    return _handlers.get(str(purpose))


@contextmanager
def registered(purpose: str, handler: PaymentHandler) -> Iterator[PaymentHandler]:
    """Register ``handler`` for the duration of a block (tests), then restore the previous."""
    previous = _handlers.get(str(purpose))
    register(purpose, handler)
    try:
        yield handler
    finally:
        if previous is None:
            unregister(purpose)
        else:
            register(purpose, previous)


def register_ledger(listener: LedgerListener) -> None:
    """Add the funding ledger's listener (called for every received and refunded payment)."""
    if listener not in _ledger:
        _ledger.append(listener)


def unregister_ledger(listener: LedgerListener) -> None:
    if listener in _ledger:
        _ledger.remove(listener)


def _handler(payment: PaymentView, change: str) -> PaymentHandler | None:
    handler = _handlers.get(payment.purpose)
    if handler is None:
        log.warning(
            "No payment handler for purpose %r: payment %s %s, nothing fulfilled",
            payment.purpose,
            payment.id,
            change,
        )
    return handler


async def succeeded(session: AsyncSession, payment: PaymentView, settings: Settings) -> None:
    """Called by the payments service once, when ``payment`` has just succeeded."""
    handler = _handler(payment, "succeeded")
    if handler is not None:
        await handler.on_succeeded(session, payment, settings)
    for listener in list(_ledger):
        await listener(session, payment, LedgerEvent.RECEIVED, payment.amount)


async def failed(session: AsyncSession, payment: PaymentView, settings: Settings) -> None:
    """Called once, when ``payment`` has just failed, expired or been cancelled."""
    handler = _handler(payment, "failed")
    if handler is not None:
        await handler.on_failed(session, payment, settings)


async def refunded(
    session: AsyncSession, payment: PaymentView, amount: int, settings: Settings
) -> None:
    """Called once per recorded refund of ``amount``."""
    handler = _handler(payment, "refunded")
    if handler is not None:
        await handler.on_refunded(session, payment, amount, settings)
    for listener in list(_ledger):
        await listener(session, payment, LedgerEvent.REFUNDED, amount)
