"""The contract with registration and ticketing: handlers by purpose, the ledger hook."""

import logging
from typing import Any

import pytest

from events.config import Settings
from events.db.engine import Database
from events.payments import fulfilment
from events.payments.fulfilment import LedgerEvent
from events.payments.services import PaymentPurpose
from tests.conftest import make_settings
from tests.payments.conftest import (
    BASE_URL,
    LedgerRecorder,
    RecordingHandler,
    load_payment,
    start_payment,
)


@pytest.fixture
def settings(pg_url: str) -> Settings:
    return make_settings(pg_url, public_base_url=BASE_URL)


def test_registered_restores_the_handler_it_replaced() -> None:
    original, replacement = RecordingHandler(), RecordingHandler()
    with fulfilment.registered("entry_fee", original):
        with fulfilment.registered("entry_fee", replacement):
            assert fulfilment.handler_for("entry_fee") is replacement
        assert fulfilment.handler_for("entry_fee") is original


async def test_a_purpose_without_a_handler_still_moves_and_warns(
    db: Database, settings: Settings, festival: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    previous = fulfilment.handler_for(PaymentPurpose.TICKET_ORDER)
    fulfilment.unregister(PaymentPurpose.TICKET_ORDER)
    try:
        with caplog.at_level(logging.WARNING, logger="events.payments.fulfilment"):
            checkout = await start_payment(
                db, settings, festival, provider="cash", purpose=PaymentPurpose.TICKET_ORDER
            )
    finally:
        if previous is not None:
            fulfilment.register(PaymentPurpose.TICKET_ORDER, previous)

    assert (await load_payment(db, checkout.payment_id)).status == "succeeded"
    assert "No payment handler for purpose 'ticket_order'" in caplog.text


async def test_the_ledger_hears_money_received_in_the_same_transaction(
    db: Database,
    settings: Settings,
    festival: dict[str, Any],
    handler: RecordingHandler,
    ledger: LedgerRecorder,
) -> None:
    checkout = await start_payment(db, settings, festival, provider="cash", amount=7000)

    assert ledger.calls == [(LedgerEvent.RECEIVED, checkout.payment_id, 7000)]


async def test_a_handler_failing_leaves_no_payment_behind(
    db: Database, settings: Settings, festival: dict[str, Any], handler: RecordingHandler
) -> None:
    handler.refuse = RuntimeError("ticketing is down")

    with pytest.raises(RuntimeError):
        await start_payment(db, settings, festival, provider="cash")

    async with db.transaction() as session:
        from sqlmodel import func, select

        from events.payments.models import Payment

        assert (await session.exec(select(func.count()).select_from(Payment))).one() == 0
