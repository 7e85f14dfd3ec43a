"""Background jobs: SAQ on Redis when ``EVENTS_REDIS_URL`` is set, in-process otherwise.

A job is a named coroutine ``fn(ctx, **kwargs)`` that a domain declares in a ``Job`` and the
app lists in ``create_app``. It carries ids, never the work itself: the row it names (an
outbox row) is the source of truth, so a job Redis loses is only a delay. Each domain that
has such rows also declares a *sweep* (run every ``EVENTS_JOBS_SWEEP_SECONDS``) that
enqueues a job for each row that is due; enqueueing the same ``key`` twice while the first
is still waiting or running is a no-op, so the sweep and the request that wrote the row do
not double up.

- With Redis: jobs go on the SAQ queue ``<EVENTS_REDIS_PREFIX>:jobs`` (SAQ's keys are
  ``saq:<queue>:...``). A worker runs inside each ``events serve`` process unless
  ``EVENTS_JOBS_WORKER=false``; ``events worker`` runs one on its own. A job that raises is
  retried with exponential back-off (``Job.retries``); each process with a worker sweeps.
- Without Redis (``make run``, tests): the same jobs run as tasks of the process that
  enqueued them, with the same retries and sweep; a job still waiting when the process stops
  is cancelled (its row stays due, and the next start's sweep finds it).

``enqueue_after_commit(session, job, key=..., **kwargs)`` enqueues once the request's
transaction commits (``events.db.aftercommit``): a rolled-back row gets no job.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.aftercommit import after_commit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job function gets: the database, the settings and the queue (to enqueue more)."""

    engine: AsyncEngine
    settings: Settings
    jobs: "Jobs"


JobFunction = Callable[..., Awaitable[None]]
SweepFunction = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Job:
    """A kind of job. ``retries`` counts the runs after the first when the function raises;
    the delay doubles from ``retry_delay`` seconds, at most ``max_retry_delay``."""

    name: str
    fn: JobFunction
    retries: int = 5
    retry_delay: float = 1.0
    max_retry_delay: float = 300.0
    timeout_seconds: int = 60


@dataclass(frozen=True, slots=True)
class JobSet:
    """A domain's jobs and the sweep that re-enqueues what its rows say is due."""

    jobs: Sequence[Job]
    sweeps: Sequence[SweepFunction] = ()


class Jobs(Protocol):
    async def enqueue(self, job: Job, *, key: str, at: float | None = None, **kwargs: Any) -> bool:
        """Run ``job(**kwargs)`` now or at ``at`` (epoch seconds); False when a job with
        ``key`` is already waiting or running."""
        ...


def retry_delay(job: Job, attempt: int) -> float:
    """Before run ``attempt + 1`` (``attempt`` >= 1): doubling, jittered, capped."""
    delay: float = min(job.retry_delay * 2 ** (attempt - 1), job.max_retry_delay)
    return delay * random.uniform(0.5, 1.0)


# --- in-process --------------------------------------------------------------------------


@dataclass
class LocalJobs:
    """Jobs as tasks of this process: what ``make run`` and the tests use without Redis."""

    engine: AsyncEngine
    settings: Settings
    _waiting: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    @property
    def context(self) -> JobContext:
        return JobContext(self.engine, self.settings, self)

    async def enqueue(self, job: Job, *, key: str, at: float | None = None, **kwargs: Any) -> bool:
        if key in self._waiting:
            return False
        task = asyncio.get_running_loop().create_task(self._run(job, key, at, kwargs))
        self._waiting[key] = task
        task.add_done_callback(lambda _: self._waiting.pop(key, None))
        return True

    async def _run(self, job: Job, key: str, at: float | None, kwargs: dict[str, Any]) -> None:
        if at is not None and at > time.time():
            await asyncio.sleep(at - time.time())
        for attempt in range(1, job.retries + 2):
            try:
                async with asyncio.timeout(job.timeout_seconds):
                    await job.fn(self.context, **kwargs)
                return
            except Exception:
                if attempt > job.retries:
                    log.exception(
                        "job %s (%s) failed %d times; its sweep will find it",
                        job.name,
                        key,
                        attempt,
                    )
                    return
                log.warning(
                    "job %s (%s) failed (run %d), retrying", job.name, key, attempt, exc_info=True
                )
                await asyncio.sleep(retry_delay(job, attempt))

    async def idle(self) -> None:
        """Wait until no job is waiting or running (tests)."""
        while self._waiting:
            await asyncio.gather(*list(self._waiting.values()), return_exceptions=True)

    async def close(self) -> None:
        tasks = list(self._waiting.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- SAQ on Redis ------------------------------------------------------------------------


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:jobs"


class SaqJobs:
    """Jobs on a SAQ queue in Redis; any process with a ``worker`` for it runs them."""

    def __init__(self, engine: AsyncEngine, settings: Settings, job_sets: Sequence[JobSet]) -> None:
        from saq import Queue

        assert settings.redis_url
        self.engine = engine
        self.settings = settings
        self.job_sets = job_sets
        self.queue = Queue.from_url(settings.redis_url, name=queue_name(settings))

    async def enqueue(self, job: Job, *, key: str, at: float | None = None, **kwargs: Any) -> bool:
        queued = await self.queue.enqueue(
            job.name,
            key=key,
            scheduled=int(at or 0),
            retries=job.retries + 1,
            retry_delay=job.retry_delay,
            retry_backoff=job.max_retry_delay,
            timeout=job.timeout_seconds,
            **kwargs,
        )
        return queued is not None

    def worker(self) -> Any:
        """A SAQ worker for every job of the app."""
        from saq import Worker

        context = JobContext(self.engine, self.settings, self)

        def bind(job: Job) -> tuple[str, Callable[..., Awaitable[None]]]:
            async def run(ctx: dict[str, Any], **kwargs: Any) -> None:
                await job.fn(context, **kwargs)

            return job.name, run

        return Worker(self.queue, [bind(j) for s in self.job_sets for j in s.jobs], concurrency=10)

    async def close(self) -> None:
        await self.queue.disconnect()


# --- wiring ------------------------------------------------------------------------------


async def run_sweeps(context: JobContext, job_sets: Sequence[JobSet]) -> None:
    for job_set in job_sets:
        for sweep in job_set.sweeps:
            try:
                await sweep(context)
            except Exception:
                log.exception("job sweep %r failed", sweep)


_by_engine: dict[int, Jobs] = {}


def jobs_for(engine: object) -> Jobs | None:
    """The queue of the app running on ``engine`` in this process (None outside an app:
    a CLI command's rows wait for the sweep)."""
    return _by_engine.get(id(engine))


def enqueue_after_commit(session: AsyncSession, job: Job, *, key: str, **kwargs: Any) -> None:
    """Enqueue ``job`` once the session's transaction commits (not at all if it rolls back)."""
    jobs = jobs_for(session.bind)
    if jobs is None:
        return
    pending: set[asyncio.Task[bool]] = _enqueueing

    def enqueue() -> None:
        task = asyncio.get_running_loop().create_task(jobs.enqueue(job, key=key, **kwargs))
        pending.add(task)
        task.add_done_callback(_enqueued)

    after_commit(session, enqueue)


_enqueueing: set[asyncio.Task[bool]] = set()


def _enqueued(task: asyncio.Task[bool]) -> None:
    _enqueueing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "a job could not be enqueued (its sweep will find its row)", exc_info=task.exception()
        )


@contextlib.asynccontextmanager
async def running(
    settings: Settings, engine: AsyncEngine, job_sets: Sequence[JobSet], *, worker: bool
) -> AsyncIterator[Jobs]:
    """The app's queue for its lifespan: enqueue from requests, and (``worker``) run jobs
    and sweeps in this process."""
    jobs: LocalJobs | SaqJobs
    jobs = (
        SaqJobs(engine, settings, job_sets) if settings.redis_url else LocalJobs(engine, settings)
    )
    tasks: list[asyncio.Task[Any]] = []
    saq_worker: Any = None
    if isinstance(jobs, SaqJobs):
        await jobs.queue.connect()
        if worker:
            saq_worker = jobs.worker()
            saq_worker.SIGNALS = []  # the server's signals are the server's
            tasks.append(asyncio.get_running_loop().create_task(saq_worker.start()))
    if worker:
        tasks.append(
            asyncio.get_running_loop().create_task(
                _sweep_forever(
                    JobContext(engine, settings, jobs), job_sets, settings.jobs_sweep_seconds
                )
            )
        )
    _by_engine[id(engine)] = jobs
    try:
        yield jobs
    finally:
        _by_engine.pop(id(engine), None)
        await asyncio.gather(*list(_enqueueing), return_exceptions=True)
        if saq_worker is not None:
            await saq_worker.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await jobs.close()


async def _sweep_forever(context: JobContext, job_sets: Sequence[JobSet], every: float) -> None:
    while True:
        await run_sweeps(context, job_sets)
        await asyncio.sleep(every)


async def work(settings: Settings, engine: AsyncEngine, job_sets: Sequence[JobSet]) -> None:
    """Run a SAQ worker until SIGINT or SIGTERM (``events worker``)."""
    if not settings.redis_url:
        raise ValueError("EVENTS_REDIS_URL is not set: jobs run inside `events serve`.")
    jobs = SaqJobs(engine, settings, job_sets)
    await jobs.queue.connect()
    _by_engine[id(engine)] = jobs
    sweeping = asyncio.get_running_loop().create_task(
        _sweep_forever(JobContext(engine, settings, jobs), job_sets, settings.jobs_sweep_seconds)
    )
    try:
        await jobs.worker().start()
    finally:
        sweeping.cancel()
        await asyncio.gather(sweeping, return_exceptions=True)
        _by_engine.pop(id(engine), None)
        await jobs.close()
