"""Ticketing's services hear of its mail jobs here (``create_app`` calls ``connect``)."""

from events.ticketing import hooks, jobs


def connect() -> None:
    """Idempotent."""
    hooks.use_order_mail(jobs.send_order_mail, jobs.send_order_mail_after_commit)
