"""Ticketing's services hear of its mail sender here (``create_app`` calls ``connect``)."""

from events.ticketing import hooks, mail


def connect() -> None:
    """Idempotent."""
    hooks.use_mail_sender(mail.deliver_due)
