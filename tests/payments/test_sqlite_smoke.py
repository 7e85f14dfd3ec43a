"""The test-provider flow on SQLite, the zero-setup database of ``make run``."""

import uuid

import pytest

from events.db.engine import Database
from events.festivals.schemas import FestivalCreate
from events.festivals.services import FestivalService
from events.payments.services import PaymentPurpose, PaymentService
from tests.conftest import FESTIVAL_BODY, Client, make_settings, pay_path
from tests.payments.conftest import RecordingHandler


@pytest.fixture(autouse=True)
def fake_stripe() -> None:
    """No Stripe here (and no PostgreSQL): replaces the package's fixture."""


@pytest.mark.sqlite
async def test_start_pay_on_the_test_page_and_the_handler_hears_it(
    sqlite_client: Client, sqlite_url: str, handler: RecordingHandler
) -> None:
    settings = make_settings(sqlite_url)
    database = Database(sqlite_url)
    try:
        async with database.transaction() as session:
            festival = await FestivalService(session).create(FestivalCreate(**FESTIVAL_BODY))
            checkout = await PaymentService(session, settings).start(
                festival_id=festival.id,
                purpose=PaymentPurpose.ENTRY_FEE,
                reference_id=uuid.uuid4(),
                amount=30000,
                currency="CNY",
                description="报名费 Entry fee",
            )
    finally:
        await database.dispose()
    assert (checkout.provider, checkout.status) == ("test", "pending")

    assert checkout.checkout_url is not None
    page = await sqlite_client.get("/pay/test/" + checkout.checkout_url.split("/pay/test/")[1])
    paid = await sqlite_client.post(pay_path(checkout.payment_id))
    again = await sqlite_client.post(pay_path(checkout.payment_id))

    assert page.status_code == 200
    assert "¥300.00" in page.text
    assert (paid.status_code, paid.json()["status"]) == (200, "succeeded")
    assert again.status_code == 200
    assert [(kind, view.id) for kind, view, _ in handler.calls] == [
        ("succeeded", checkout.payment_id)
    ]
