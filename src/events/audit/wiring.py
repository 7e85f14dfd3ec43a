"""Connects the audit trail to every request's commit (called by ``create_app``)."""

from events.audit.services import record
from events.db import deps


def connect() -> None:
    deps.register_commit_hook(record)
