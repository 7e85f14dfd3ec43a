"""Background jobs: the after-commit hook, the in-process queue, and SAQ on real Redis."""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.aftercommit import after_commit
from events.db.engine import Database
from events.jobs import Job, JobContext, JobSet, LocalJobs, enqueue_after_commit, running

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_after_commit_runs_on_commit_in_order_and_never_for_a_rollback(db: Database) -> None:
    heard: list[str] = []
    async with db.transaction() as session:
        after_commit(session, lambda: heard.append("one"))
        after_commit(session, lambda: heard.append("two"))
        assert heard == []
    assert heard == ["one", "two"]

    with pytest.raises(RuntimeError):  # noqa: PT012 - the rollback is the point
        async with db.transaction() as session:
            after_commit(session, lambda: heard.append("rolled back"))
            raise RuntimeError
    assert heard == ["one", "two"]

    # A rolled-back transaction's callbacks are dropped, not carried into the next one.
    async with AsyncSession(db.engine) as session:
        await (await session.connection()).execute(text("SELECT 1"))
        after_commit(session, lambda: heard.append("dropped"))
        await session.rollback()
        after_commit(session, lambda: heard.append("three"))
        await session.commit()
    assert heard == ["one", "two", "three"]


async def test_a_failing_callback_does_not_stop_the_others(db: Database) -> None:
    heard: list[str] = []

    def fail() -> None:
        raise ValueError("boom")

    async with db.transaction() as session:
        after_commit(session, fail)
        after_commit(session, lambda: heard.append("after"))
    assert heard == ["after"]


async def test_local_jobs_retry_with_back_off_and_refuse_a_key_twice(
    db: Database, settings: Settings
) -> None:
    runs: list[float] = []

    async def flaky(ctx: JobContext, *, n: int) -> None:
        runs.append(time.monotonic())
        if len(runs) < 3:
            raise OSError("not yet")

    job = Job("test.flaky", flaky, retries=3, retry_delay=0.05)
    jobs = LocalJobs(db.engine, settings)
    assert await jobs.enqueue(job, key="k", n=1)
    assert not await jobs.enqueue(job, key="k", n=1)  # waiting or running: a no-op
    await jobs.idle()
    assert len(runs) == 3
    assert await jobs.enqueue(job, key="k", n=1)  # done: the key is free again
    await jobs.idle()
    assert len(runs) == 4


async def test_local_jobs_give_up_after_their_retries_and_run_scheduled_ones_later(
    db: Database, settings: Settings
) -> None:
    runs: list[float] = []

    async def broken(ctx: JobContext) -> None:
        runs.append(time.time())
        raise OSError("never")

    jobs = LocalJobs(db.engine, settings)
    await jobs.enqueue(Job("test.broken", broken, retries=2, retry_delay=0.01), key="b")
    await jobs.idle()
    assert len(runs) == 3

    at = time.time() + 0.3
    await jobs.enqueue(Job("test.later", broken, retries=0), key="later", at=at)
    await jobs.idle()
    assert runs[-1] >= at


async def test_a_job_is_enqueued_when_the_transaction_commits_and_not_on_rollback(
    db: Database, settings: Settings
) -> None:
    ran: list[str] = []

    async def record(ctx: JobContext, *, what: str) -> None:
        ran.append(what)

    job = Job("test.record", record)
    async with running(settings, db.engine, [JobSet([job])], worker=False) as jobs:
        with pytest.raises(RuntimeError):  # noqa: PT012 - the rollback is the point
            async with db.transaction() as session:
                enqueue_after_commit(session, job, key="no", what="rolled back")
                raise RuntimeError
        async with db.transaction() as session:
            enqueue_after_commit(session, job, key="yes", what="committed")
        assert isinstance(jobs, LocalJobs)
        for _ in range(100):
            await asyncio.sleep(0.01)
            await jobs.idle()
            if ran:
                break
    assert ran == ["committed"]


# --- SAQ on Redis ------------------------------------------------------------------------


@pytest.fixture
async def redis_settings(settings: Settings) -> AsyncIterator[Settings]:
    """Settings with Redis and a prefix (so a queue name) of this test's own."""
    connection = redis.from_url(REDIS_URL)
    try:
        await connection.ping()
    except (OSError, redis.RedisError):
        await connection.aclose()
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"test-jobs-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    try:
        yield settings.model_copy(
            update={"redis_url": REDIS_URL, "redis_prefix": prefix, "jobs_sweep_seconds": 0.05}
        )
    finally:
        keys = [key async for key in connection.scan_iter(f"saq:*{prefix}*")]
        if keys:
            await connection.delete(*keys)
        await connection.aclose()


async def test_saq_runs_enqueued_jobs_with_retries_and_a_key_once(
    db: Database, redis_settings: Settings
) -> None:
    runs: list[str] = []

    async def flaky(ctx: JobContext, *, order: str) -> None:
        runs.append(order)
        if len(runs) == 1:
            raise OSError("first run fails")

    job = Job("test.saq_flaky", flaky, retries=2, retry_delay=0.05, max_retry_delay=0.1)
    async with running(redis_settings, db.engine, [JobSet([job])], worker=True) as jobs:
        assert await jobs.enqueue(job, key="one", order="a")
        assert not await jobs.enqueue(job, key="one", order="a")
        for _ in range(200):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.05)
    assert runs == ["a", "a"]


async def test_a_job_redis_lost_is_found_again_by_the_sweep(
    db: Database, redis_settings: Settings
) -> None:
    """The row is the truth: enqueue nothing (as if Redis dropped the job), and the sweep
    finds what is due."""
    done: list[str] = []

    async def work(ctx: JobContext, *, row: str) -> None:
        async with ctx.engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
        done.append(row)

    job = Job("test.saq_row", work)

    async def sweep(ctx: JobContext) -> None:
        if not done:
            await ctx.jobs.enqueue(job, key="row-1", row="row-1")

    async with running(redis_settings, db.engine, [JobSet([job], [sweep])], worker=True):
        for _ in range(200):
            if done:
                break
            await asyncio.sleep(0.05)
    assert done[:1] == ["row-1"]


def test_the_queue_is_named_by_the_prefix() -> None:
    from events.jobs import queue_name

    assert queue_name(Settings(env="test", redis_prefix="events_x")) == "events_x:jobs"
