"""Several concurrent scans per database round trip (PostgreSQL).

A gate rush is many small, independent decisions; each alone costs a round trip, a
statement and a commit. A worker's ``ScanBatcher`` holds the scans that arrive within a
bounded wait (``EVENTS_CHECKIN_BATCH_WAIT_MS``, 1.5 ms) and sends them as one statement
(``decision.SCAN_PG``: arrays in, one row out per scan). Each scan is still decided exactly
once, by the same SQL as alone, and answered with its own outcome.

A batch never holds two scans of one ticket, nor two of one device and nonce: a second
one waits for the next batch, which is sent once this one is answered, so it is decided on
what the first one wrote, exactly as if the two had come one after the other. (Two scans
of a ticket in different workers are two statements, as without batching: the presence
row's primary key admits one.) A failed statement fails every scan of its batch, and
nothing of it is stored (one statement is atomic); each scanner then retries its nonce.
"""

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass, field

from events.checkin.decision import ScanInput, ScanOutcome, decide_many_pg
from events.db.engine import Database


@dataclass
class BatchStats:
    """What the batcher did (for the tests and the benchmark)."""

    batches: int = 0
    scans: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Pending:
    scan: ScanInput
    answer: "asyncio.Future[ScanOutcome]"


class ScanBatcher:
    """Per worker (per event loop): gathers scans for up to ``wait`` seconds, or until
    ``max_size`` are waiting, and decides them in one statement."""

    def __init__(self, db: Database, *, wait: float = 0.0015, max_size: int = 64) -> None:
        self.db = db
        self.wait = wait
        self.max_size = max_size
        self.stats = BatchStats()
        self._queue: deque[_Pending] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy: set[uuid.UUID] = set()
        """Tickets with a scan in a batch that is not answered yet."""
        self._busy_nonces: set[tuple[uuid.UUID, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def decide(self, scan: ScanInput) -> ScanOutcome:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing of the old one is kept
            self._loop, self._queue, self._timer = loop, deque(), None
            self._busy, self._busy_nonces = set(), set()
        pending = _Pending(scan, loop.create_future())
        self._queue.append(pending)
        if len(self._queue) >= self.max_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.wait, self._flush)
        return await pending.answer

    def _flush(self) -> None:
        """Send one batch of what is waiting: the first scan of each ticket and nonce
        not already in flight; the rest wait for a later batch."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch: list[_Pending] = []
        tickets: set[uuid.UUID] = set()
        nonces: set[tuple[uuid.UUID, str]] = set()
        kept: deque[_Pending] = deque()
        while self._queue:
            pending = self._queue.popleft()
            ticket, nonce = pending.scan.ticket_id, (pending.scan.device_id, pending.scan.nonce)
            if pending.answer.cancelled():
                continue
            if (
                len(batch) >= self.max_size
                or ticket in tickets
                or ticket in self._busy
                or nonce in nonces
                or nonce in self._busy_nonces
            ):
                kept.append(pending)
                continue
            tickets.add(ticket)
            nonces.add(nonce)
            batch.append(pending)
        self._queue = kept
        if batch:
            self._busy |= tickets
            self._busy_nonces |= nonces
            task = asyncio.get_running_loop().create_task(self._send(batch, tickets, nonces))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._queue and len(batch) >= self.max_size and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(0, self._flush)

    async def _send(
        self, batch: list[_Pending], tickets: set[uuid.UUID], nonces: set[tuple[uuid.UUID, str]]
    ) -> None:
        stats = self.stats
        stats.batches += 1
        stats.scans += len(batch)
        stats.largest = max(stats.largest, len(batch))
        stats.sizes[len(batch)] = stats.sizes.get(len(batch), 0) + 1
        try:
            outcomes = await decide_many_pg(self.db, [p.scan for p in batch])
        except asyncio.CancelledError:
            for pending in batch:
                pending.answer.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - each scan of the batch gets the failure
            for pending in batch:
                if not pending.answer.done():
                    pending.answer.set_exception(exc)
        else:
            for pending, outcome in zip(batch, outcomes, strict=True):
                if not pending.answer.done():
                    pending.answer.set_result(outcome)
        finally:
            self._busy -= tickets
            self._busy_nonces -= nonces
            if self._queue and self._timer is None:  # scans held back for this batch
                self._flush()
