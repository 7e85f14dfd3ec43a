"""One hook for "do this once the transaction commits": announce a change, enqueue a job.

``after_commit(session, fn)`` calls ``fn()`` after the session's transaction commits, and
never when it rolls back (the callbacks of a rolled-back transaction are dropped, not
carried into the session's next one). Callbacks run in the order they were added, on the
event loop that committed, and must be quick: schedule work (a task, a job), do not do it.
One failing callback is logged and does not stop the others.
"""

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

_PENDING = "events.after_commit"


def after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Call ``fn()`` once this session's current transaction has committed."""
    sync = session.sync_session
    pending: list[Callable[[], None]] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = []
        sa.event.listen(sync, "after_commit", _run)
        sa.event.listen(sync, "after_soft_rollback", _drop)
    pending.append(fn)


def _run(sync: Session) -> None:
    pending: list[Callable[[], None]] = sync.info.get(_PENDING, [])
    callbacks, pending[:] = list(pending), []
    for fn in callbacks:
        try:
            fn()
        except Exception:
            log.exception("after-commit callback %r failed", fn)


def _drop(sync: Session, previous: SessionTransaction) -> None:
    pending: list[Callable[[], None]] | None = sync.info.get(_PENDING)
    if pending and previous.parent is None:  # the transaction itself, not a savepoint
        pending.clear()
