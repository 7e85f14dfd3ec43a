"""Confirmation messages: an outbox (``ticket_mail``) and the sender that empties it.

The outbox row is written in the transaction that issues the tickets, so a purchase is
never lost because SMTP is down. ``deliver_due`` sends what is due: the job
``ticketing.send_mail`` (``ticketing.jobs``) runs it once that transaction commits and
again when a retry is due, the jobs' sweep finds what a lost job left, and
``events mail send`` runs it by hand. A row is claimed
before sending (its next attempt pushed back; ``SKIP LOCKED`` on PostgreSQL), so two
senders do not send it twice; failures back off and give up after ``MAX_ATTEMPTS``.
Delivery is at least once: a crash between the SMTP server's "accepted" and the row being
marked sent means one more copy later.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from html import escape

import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.base import utcnow
from events.festivals.models import FESTIVAL
from events.links import Links
from events.money import format_money
from events.ticketing import keys, schemas
from events.ticketing.models import MAIL, ORDER, MailStatus
from events.ticketing.orders import OrderService

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    attempted: int
    sent: int
    retry: tuple[tuple[uuid.UUID, int, datetime], ...] = field(default=(), compare=False)
    """The messages not sent that will be tried again: (id, attempts so far, when)."""


async def due(
    engine: AsyncEngine, settings: Settings, *, limit: int = 500
) -> list[tuple[uuid.UUID, int]]:
    """The messages due now, as (id, attempts so far): what the sweep enqueues."""
    if not settings.smtp_host:
        return []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(MAIL.c.id, MAIL.c.attempts)
                .where(MAIL.c.status == MailStatus.PENDING, MAIL.c.next_attempt_at <= utcnow())
                .order_by(MAIL.c.next_attempt_at)
                .limit(limit)
            )
        ).all()
    return [(row.id, row.attempts) for row in rows]


async def deliver_due(
    engine: AsyncEngine,
    settings: Settings,
    *,
    limit: int = 50,
    order_id: uuid.UUID | None = None,
    mail_id: uuid.UUID | None = None,
) -> DeliveryReport:
    """Send the messages that are due (of one order, or one message); safe to run
    concurrently and repeatedly.

    A message is claimed by pushing its next attempt back (a lease: other senders skip it
    meanwhile, and a sender that dies leaves it due again later); the attempt's outcome
    (``attempts`` + 1 with ``last_error``, or ``sent``) is then written in one statement, so
    a reader never sees an attempt counted without its outcome.
    """
    if not settings.smtp_host:
        return DeliveryReport(0, 0)
    now = utcnow()
    where = [MAIL.c.status == MailStatus.PENDING, MAIL.c.next_attempt_at <= now]
    if order_id is not None:
        where.append(MAIL.c.order_id == order_id)
    if mail_id is not None:
        where.append(MAIL.c.id == mail_id)
    async with engine.begin() as conn:
        claimed = (
            await conn.execute(
                sa.select(MAIL.c.id, MAIL.c.order_id, MAIL.c.to_address, MAIL.c.attempts)
                .where(*where)
                .order_by(MAIL.c.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in claimed:
            await conn.execute(
                sa.update(MAIL)
                .where(MAIL.c.id == row.id)
                .values(next_attempt_at=now + backoff(row.attempts + 1))
            )
    sent = 0
    retry: list[tuple[uuid.UUID, int, datetime]] = []
    for row in claimed:
        attempts = row.attempts + 1
        try:
            message = await compose(engine, settings, row.order_id, row.to_address)
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            gave_up = attempts >= MAX_ATTEMPTS
            log.warning(
                "Ticket mail %s to order %s not sent (attempt %d%s): %s",
                row.id,
                row.order_id,
                attempts,
                ", giving up" if gave_up else "",
                exc,
            )
            async with engine.begin() as conn:
                await conn.execute(
                    sa.update(MAIL)
                    .where(MAIL.c.id == row.id)
                    .values(
                        attempts=attempts,
                        last_error=str(exc)[:500] or type(exc).__name__,
                        status=MailStatus.FAILED if gave_up else MailStatus.PENDING,
                    )
                )
            if not gave_up:
                retry.append((row.id, attempts, now + backoff(attempts)))
            continue
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(MAIL)
                .where(MAIL.c.id == row.id)
                .values(attempts=attempts, status=MailStatus.SENT, sent_at=utcnow(), last_error="")
            )
        sent += 1
    return DeliveryReport(len(claimed), sent, tuple(retry))


async def deliver_all_due(engine: AsyncEngine, settings: Settings) -> DeliveryReport:
    """``deliver_due`` until nothing more is due now (for ``events mail send``)."""
    attempted = sent = 0
    while True:
        report = await deliver_due(engine, settings)
        attempted += report.attempted
        sent += report.sent
        if report.attempted < 50:
            return DeliveryReport(attempted, sent)


def _days(ticket: schemas.TicketRead, lang: str) -> str:
    names = [(d.name_zh if lang == "zh" else d.name_en) or d.date.isoformat() for d in ticket.days]
    return ", ".join(
        f"{n} ({d.date.isoformat()})" if n != d.date.isoformat() else n
        for n, d in zip(names, ticket.days, strict=True)
    )


async def compose(
    engine: AsyncEngine,
    settings: Settings,
    order_id: uuid.UUID,
    to_address: str,
    *,
    links: Links | None = None,
) -> EmailMessage:
    """The confirmation: festival, tickets, and the link to the order (QR codes, PDFs)."""
    async with AsyncSession(engine) as session:
        conn = await session.connection()
        row = (
            await conn.execute(
                sa.select(
                    ORDER,
                    FESTIVAL.c.name_zh.label("festival_zh"),
                    FESTIVAL.c.name_en.label("festival_en"),
                )
                .select_from(ORDER.join(FESTIVAL, FESTIVAL.c.id == ORDER.c.festival_id))
                .where(ORDER.c.id == order_id)
            )
        ).one()
        order = await OrderService(session, settings).read_row(row)
    token = keys.unseal_access_token(settings, order_id, row.access_token_sealed)
    link = (links or Links.for_settings(settings)).order(order_id, token)
    tickets = [t for t in order.tickets if t.status == "valid"]
    total = format_money(order.total, order.currency)

    def text(lang: str) -> str:
        if lang == "zh":
            lines = [
                f"感谢购票！{row.festival_zh}",
                f"订单号：{order_id}",
                f"金额：{total}",
                "",
                "门票：",
            ]
            lines += [f"- {t.name_zh}｜{t.enclosure.name_zh}｜{_days(t, 'zh')}" for t in tickets]
            lines += [
                "",
                "查看门票二维码、下载PDF门票：",
                link,
                "",
                "入场时请出示二维码。请勿转发此链接。",
            ]
        else:
            lines = [
                f"Thank you for your order: {row.festival_en}",
                f"Order: {order_id}",
                f"Total: {total}",
                "",
                "Tickets:",
            ]
            lines += [f"- {t.name_en} | {t.enclosure.name_en} | {_days(t, 'en')}" for t in tickets]
            lines += [
                "",
                "Your QR tickets and PDF downloads:",
                link,
                "",
                "Show the QR code at the gate. Do not share this link.",
            ]
        return "\n".join(lines)

    langs = ["zh", "en"] if row.locale != "en" else ["en", "zh"]
    message = EmailMessage()
    message["Subject"] = (
        f"门票确认 Your tickets – {row.festival_zh}"
        if langs[0] == "zh"
        else f"Your tickets 门票确认 – {row.festival_en}"
    )
    message["From"] = formataddr(("门票 Tickets", settings.smtp_from))
    message["To"] = to_address
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    body = "\n\n——————————\n\n".join(text(lang) for lang in langs)
    message.set_content(body)
    message.add_alternative(
        "<!doctype html><html><body>"
        + "<hr>".join(
            "<p>" + escape(text(lang)).replace("\n", "<br>") + "</p>" for lang in langs
        ).replace(escape(link), f'<a href="{escape(link)}">{escape(link)}</a>')
        + "</body></html>",
        subtype="html",
    )
    return message
