"""Telling a person something: the one seam every message to a spectator goes through.

``await notify(settings, Message(...))`` delivers to an e-mail address through SMTP
(``EVENTS_SMTP_*``) or to a mobile number through the SMS provider registered with
``register_sms(provider)``. There is no SMS provider yet: a provider (Aliyun, Tencent
Cloud SMS, ...) is a class with ``async def send(self, settings, message)``, registered
once at start-up; until then a message to a mobile number is dropped with a log line
(which never names the number).

Delivery failures are logged (without the address) and swallowed: callers send after
their answer has gone out, where nobody could be told anyway.
"""

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from enum import StrEnum
from html import escape
from typing import Protocol

import aiosmtplib

from events.config import Settings

log = logging.getLogger(__name__)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class Message:
    channel: Channel
    to: str
    """An e-mail address or a mobile number."""
    subject: str
    text: str
    """Plain text; links are written out in full (mail shows them as links too)."""
    sender_name: str = "门票 Tickets"


class Provider(Protocol):
    async def send(self, settings: Settings, message: Message) -> None:
        """Deliver ``message`` or raise."""


class SmtpProvider:
    """Mail through ``EVENTS_SMTP_HOST``; without one, nothing is sent."""

    async def send(self, settings: Settings, message: Message) -> None:
        if not settings.smtp_host:
            log.info("No EVENTS_SMTP_HOST: a %s message was not sent", message.channel)
            return
        await aiosmtplib.send(
            email_message(settings, message),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )


class NoSmsProvider:
    async def send(self, settings: Settings, message: Message) -> None:
        log.info("No SMS provider is registered: a text message was not sent")


_providers: dict[Channel, Provider] = {Channel.EMAIL: SmtpProvider(), Channel.SMS: NoSmsProvider()}


def register_sms(provider: Provider) -> Provider:
    """Make ``provider`` deliver text messages; returns the one it replaces."""
    previous = _providers[Channel.SMS]
    _providers[Channel.SMS] = provider
    return previous


def register_email(provider: Provider) -> Provider:
    previous = _providers[Channel.EMAIL]
    _providers[Channel.EMAIL] = provider
    return previous


def email_message(settings: Settings, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = formataddr((message.sender_name, settings.smtp_from))
    mail["To"] = message.to
    mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    mail.set_content(message.text)
    html = escape(message.text).replace("\n", "<br>")
    for word in set(message.text.split()):
        if word.startswith(("https://", "http://")):
            html = html.replace(escape(word), f'<a href="{escape(word)}">{escape(word)}</a>')
    mail.add_alternative(f"<!doctype html><html><body><p>{html}</p></body></html>", subtype="html")
    return mail


async def notify(settings: Settings, message: Message) -> bool:
    """Deliver ``message`` through its channel's provider; False when that failed."""
    try:
        await _providers[message.channel].send(settings, message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        log.warning("A %s message was not delivered: %s", message.channel, type(exc).__name__)
        return False
    return True
