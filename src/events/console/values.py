"""Turning what people type into what the services take, and back: yuan and fen, local
times in the festival's time zone, lists typed with commas. A value that does not convert
is passed on as typed, so the service's own ``Input`` names the field that is wrong."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request

from events.access.guards import current_principal
from events.registration.common import Actor

_YUAN = re.compile(r"\d{1,9}(\.\d{1,2})?")
_LIST = re.compile(r"[,，、;\s]+")


def yuan(fen: int | None) -> str:
    """12345 → ``123.45``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}"


def to_fen(text: str | None) -> Any:
    """``123.45`` → 12345; blank → ``None``; anything else as typed."""
    value = (text or "").strip().replace(",", "")
    if not value:
        return None
    if not _YUAN.fullmatch(value):
        return value
    try:
        return int(Decimal(value) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return value


def fen_input(fen: int | None) -> str:
    """The value a yuan field shows for ``fen``."""
    return "" if fen is None else f"{Decimal(fen) / 100:.2f}"


def local_to_utc(text: str | None, timezone: str) -> Any:
    """A ``datetime-local`` value (festival time) → aware UTC; blank → ``None``."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(dt.UTC)


def utc_to_local(moment: dt.datetime | None, timezone: str) -> str:
    """What a ``datetime-local`` field shows for ``moment``."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def words(text: str | None) -> list[str]:
    """``四川, 西藏`` → ``["四川", "西藏"]``."""
    return [w for w in _LIST.split((text or "").strip()) if w]


def blank_none(text: str | None) -> str | None:
    value = (text or "").strip()
    return value or None


def actor(request: Request[Any, Any, Any]) -> Actor:
    principal = current_principal(request)
    return Actor(user_id=principal.id, role=principal.role)
