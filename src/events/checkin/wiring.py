"""Check-in tells ticketing who has entered, so a used ticket is not refunded unasked.

Check-in reads ticketing's tickets; ticketing never imports check-in back
(``events.ticketing.hooks``). ``create_app`` calls ``connect``.
"""

from events.checkin import services as checkin_services
from events.ticketing import hooks


def connect() -> None:
    """Idempotent."""
    hooks.use_first_entries(checkin_services.first_entries)
