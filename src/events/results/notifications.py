"""One hook for "a race's results changed", for the live results feed to subscribe to.

Services call ``notify(session, festival_id, race_id, kind)`` after each change; the
listeners registered with ``register_results_listener`` hear
``results_changed(festival_id, race_id, kind)`` once the request's transaction has
committed (a rolled-back change is never announced). ``kind`` is one of ``KINDS``.
Listeners are plain functions and must be quick (schedule work, do not do it).
"""

import logging
import uuid
from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.aftercommit import after_commit

log = logging.getLogger(__name__)

KINDS = ("start_list", "provisional", "official", "amended", "objection", "prize_money")

ResultsListener = Callable[[uuid.UUID, uuid.UUID, str], None]
_listeners: list[tuple[ResultsListener, object | None]] = []


def register_results_listener(listener: ResultsListener, *, engine: object | None = None) -> None:
    """Hear every change, or with ``engine`` only those committed through that engine (a
    process may hold several apps, as tests do: each feed hears its own database)."""
    if (listener, engine) not in _listeners:
        _listeners.append((listener, engine))


def unregister_results_listener(listener: ResultsListener) -> None:
    _listeners[:] = [(known, engine) for known, engine in _listeners if known != listener]


def results_changed(
    festival_id: uuid.UUID, race_id: uuid.UUID, kind: str, *, engine: object | None = None
) -> None:
    """Tell every listener; one failing listener does not stop the others."""
    for listener, only in list(_listeners):
        if only is not None and only is not engine:
            continue
        try:
            listener(festival_id, race_id, kind)
        except Exception:
            log.exception("results listener %r failed for race %s (%s)", listener, race_id, kind)


def notify(session: AsyncSession, festival_id: uuid.UUID, race_id: uuid.UUID, kind: str) -> None:
    """Announce the change when (and only if) the session's transaction commits."""
    engine = session.bind
    after_commit(session, lambda: results_changed(festival_id, race_id, kind, engine=engine))
