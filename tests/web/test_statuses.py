"""One table of status labels: every status a domain stores has both labels, spelled as
on the wire."""

from enum import StrEnum

import pytest

from events.payments.services import PaymentStatus
from events.registration.models import EntryStatus
from events.ticketing.models import OrderStatus, TicketStatus
from events.web.i18n import translate
from events.web.statuses import STATUS_LABELS, status_label


@pytest.mark.parametrize(
    ("kind", "statuses"),
    [
        ("entry", EntryStatus),
        ("payment", PaymentStatus),
        ("order", OrderStatus),
        ("ticket", TicketStatus),
    ],
)
def test_every_stored_status_has_a_chinese_and_an_english_label(
    kind: str, statuses: type[StrEnum]
) -> None:
    assert set(STATUS_LABELS[kind]) == {s.value for s in statuses}
    for status in statuses:
        zh, en = STATUS_LABELS[kind][status.value]
        assert zh
        assert en
        assert zh != en
        assert translate("zh", f"status.{kind}.{status.value}") == zh
        assert translate("en", f"status.{kind}.{status.value}") == en


def test_one_spelling_canceled() -> None:
    assert "cancelled" not in {s for table in STATUS_LABELS.values() for s in table}
    assert status_label("payment", "canceled", "en") == "Cancelled"
    assert status_label("order", "no_such_status", "zh") == "no_such_status"
