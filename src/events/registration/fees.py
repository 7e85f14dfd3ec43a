"""Entry windows, fees and refunds: published rules, computed, never typed by hand.

Fee due = registration fee + start fee, plus the late fee for an entry made after the
entries close and before the final (late) close (DOMAIN rule 3; Equibel's fee components).

Refund on withdrawal (``REFUND_POLICY``):
- nothing paid yet (waiting list, pending payment): nothing to refund;
- withdrawn before the entries close: everything paid except the registration fee;
- withdrawn after the entries close: nothing, unless the place is refilled from the
  waiting list at once, then as before the close;
- scratched by the organiser (inspection, vet, stewards): everything but the registration fee.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from events.registration.models import Entry, EntryStatus, Race


class Window(StrEnum):
    NOT_OPEN = "not_open"
    OPEN = "open"
    LATE = "late"
    CLOSED = "closed"


def window(race: Race, at: dt.datetime) -> Window:
    if at < race.entries_open_at:
        return Window.NOT_OPEN
    if at <= race.entries_close_at:
        return Window.OPEN
    if race.late_close_at is not None and at <= race.late_close_at:
        return Window.LATE
    return Window.CLOSED


@dataclass(frozen=True, slots=True)
class Fee:
    registration: int
    start: int
    late: int
    currency: str

    @property
    def total(self) -> int:
        return self.registration + self.start + self.late


def fee_for(race: Race, at: dt.datetime) -> Fee:
    """What an entry made at ``at`` owes."""
    late = race.late_fee if window(race, at) is Window.LATE else 0
    return Fee(
        registration=race.registration_fee, start=race.start_fee, late=late, currency=race.currency
    )


class RefundRule(StrEnum):
    NOTHING_PAID = "nothing_paid"
    BEFORE_CLOSE = "before_close"
    AFTER_CLOSE = "after_close"
    AFTER_CLOSE_REFILLED = "after_close_refilled"
    SCRATCHED = "scratched"


REFUND_POLICY = {
    "en": "Withdrawn before the entries close: everything paid back except the registration "
    "fee. After the close: nothing, unless the place is refilled from the waiting list, "
    "then as before the close. Scratched by the organiser: everything but the "
    "registration fee. Unpaid and waiting-list entries owe nothing.",
    "zh": "报名截止前退赛：退还除报名费外的全部费用。截止后退赛：不退费，除非名额由候补递补，"
    "则按截止前办理。组委会取消参赛（验马、兽医、裁判）：退还除报名费外的全部费用。"
    "未付款或候补的报名无需付费。",
}


@dataclass(frozen=True, slots=True)
class Refund:
    amount: int
    rule: RefundRule


def refund_for(
    entry: Entry, race: Race, at: dt.datetime, *, new_status: EntryStatus, place_refilled: bool
) -> Refund:
    """What goes back when ``entry`` is withdrawn or scratched at ``at``."""
    refundable = entry.amount_paid - entry.amount_refunded
    if refundable <= 0:
        return Refund(0, RefundRule.NOTHING_PAID)
    all_but_registration = max(0, min(refundable, entry.amount_paid - entry.registration_fee))
    if new_status is EntryStatus.SCRATCHED:
        return Refund(all_but_registration, RefundRule.SCRATCHED)
    if at <= race.entries_close_at:
        return Refund(all_but_registration, RefundRule.BEFORE_CLOSE)
    if place_refilled:
        return Refund(all_but_registration, RefundRule.AFTER_CLOSE_REFILLED)
    return Refund(0, RefundRule.AFTER_CLOSE)
