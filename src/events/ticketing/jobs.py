"""Ticketing's background jobs: confirmation mail, enqueued when the tickets' transaction
commits, retried at the outbox's back-off, and swept for what a lost job left behind."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from events.jobs import Job, JobContext, JobSet, enqueue_after_commit, jobs_for
from events.ticketing import mail


async def send_mail(
    ctx: JobContext, *, order_id: str | None = None, mail_id: str | None = None
) -> None:
    """Send the due messages of one order (or one message); schedule each retry."""
    report = await mail.deliver_due(
        ctx.engine,
        ctx.settings,
        order_id=uuid.UUID(order_id) if order_id else None,
        mail_id=uuid.UUID(mail_id) if mail_id else None,
    )
    for retry_id, attempts, when in report.retry:
        await ctx.jobs.enqueue(
            SEND_MAIL, key=mail_key(retry_id, attempts), at=when.timestamp(), mail_id=str(retry_id)
        )


SEND_MAIL = Job("ticketing.send_mail", send_mail)


def mail_key(mail_id: uuid.UUID, attempts: int) -> str:
    """One job per message and attempt: the sweep and a scheduled retry do not double up."""
    return f"ticketing.mail:{mail_id}:{attempts}"


async def sweep_mail(ctx: JobContext) -> None:
    for mail_id, attempts in await mail.due(ctx.engine, ctx.settings):
        await ctx.jobs.enqueue(SEND_MAIL, key=mail_key(mail_id, attempts), mail_id=str(mail_id))


JOBS = JobSet(jobs=[SEND_MAIL], sweeps=[sweep_mail])


def send_order_mail_after_commit(session: AsyncSession, order_id: uuid.UUID) -> None:
    enqueue_after_commit(
        session, SEND_MAIL, key=f"ticketing.order-mail:{order_id}", order_id=str(order_id)
    )


async def send_order_mail(engine: object, order_id: uuid.UUID) -> None:
    """The order's mail row is committed already: enqueue its sending now."""
    jobs = jobs_for(engine)
    if jobs is not None:
        await jobs.enqueue(
            SEND_MAIL, key=f"ticketing.order-mail:{order_id}", order_id=str(order_id)
        )
