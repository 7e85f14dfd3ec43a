"""SSE fan-out: N subscribers held open across the workers, one change published, and the
time until 50 % and 99 % of them have it.

A small asyncio client (raw sockets: an HTTP client library per connection would cost more
than the server it measures) opens ``subscribers`` streams of a festival's live results,
waits until every stream has its first bytes (so each is in a worker's fan-out), then
publishes one change the way the CLI or a job does (the history in Redis, the doorbell on
the channel) and notes when each stream receives the event. Bounded: every wait has a
deadline. Traffic to 127.0.0.1 only.
"""

import asyncio
import contextlib
import resource
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECT_AT_ONCE = 200
DEADLINE_SECONDS = 60.0


@dataclass
class FanOut:
    subscribers: int
    connected: int
    received: int
    p50_s: float | None
    p99_s: float | None
    max_s: float | None

    def row(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        return (
            f"SSE fan-out: {self.connected}/{self.subscribers} streams open, "
            f"{self.received} received the change; 50 % by {ms(self.p50_s)}, "
            f"99 % by {ms(self.p99_s)}, all by {ms(self.max_s)}"
        )


def _raise_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


@dataclass
class _Run:
    target: int
    ready: asyncio.Event
    stop: asyncio.Event
    opened: int = 0
    published_at: float | None = None

    def __post_init__(self) -> None:
        self.arrivals: list[float] = []
        self.everyone = asyncio.Event()  # every open stream has the change


async def _subscribe(host: str, port: int, path: str, run: _Run) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
            f"Connection: keep-alive\r\n\r\n".encode()
        )
        await writer.drain()
        first = True
        while not run.stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if first and line.startswith(b"retry:"):
                first = False
                run.opened += 1
                if run.opened == run.target:
                    run.ready.set()
            elif line.startswith(b"id: ") and run.published_at is not None:
                run.arrivals.append(time.perf_counter() - run.published_at)
                if len(run.arrivals) == run.opened:
                    run.everyone.set()
                return
    except (OSError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def measure(
    base_url: str, festival_id: str, subscribers: int, publish: Callable[[], Awaitable[object]]
) -> FanOut:
    """Open ``subscribers`` streams, ``publish`` once, time the arrivals."""
    _raise_file_limit(subscribers + 1000)
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = f"/api/v1/festivals/{festival_id}/results/stream?bench={uuid.uuid4().hex[:6]}"
    run = _Run(target=subscribers, ready=asyncio.Event(), stop=asyncio.Event())
    tasks: list[asyncio.Task[None]] = []
    for start in range(0, subscribers, CONNECT_AT_ONCE):
        for _ in range(start, min(start + CONNECT_AT_ONCE, subscribers)):
            tasks.append(asyncio.create_task(_subscribe(host, port, path, run)))
        await asyncio.sleep(0.05)  # connect in waves: the accept queue is finite
    with contextlib.suppress(TimeoutError):  # measure those that did open
        await asyncio.wait_for(run.ready.wait(), DEADLINE_SECONDS)
    connected = run.opened
    await asyncio.sleep(1.0)  # the last streams join their worker's fan-out
    run.published_at = time.perf_counter()
    await publish()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.everyone.wait(), DEADLINE_SECONDS)
    run.stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    times = sorted(run.arrivals)

    def share(fraction: float) -> float | None:
        needed = int(connected * fraction + 0.999)
        return times[needed - 1] if needed and len(times) >= needed else None

    return FanOut(
        subscribers=subscribers,
        connected=connected,
        received=len(times),
        p50_s=share(0.5),
        p99_s=share(0.99),
        max_s=times[-1] if times and len(times) == connected else None,
    )
