"""Wire types of check-in. The scan request is a msgspec struct: it is the hot path."""

import datetime as dt
from typing import Annotated, Literal

import msgspec

from events.schemas import check_time

Nonce = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="Unique per scan on this device; a retry sends the same nonce",
    ),
]
Secret = Annotated[str, msgspec.Meta(max_length=4096, description="What the scanner read")]


class ScanRequest(msgspec.Struct, forbid_unknown_fields=True):
    secret: Secret
    nonce: Nonce
    gate_id: str | None = None
    """Defaults to the device's gate; another gate of the same festival may be named."""
    type: Literal["entry", "exit"] = "entry"
    scanned_at: dt.datetime | None = None
    """The scanner's clock, recorded; the server's clock decides."""

    def __post_init__(self) -> None:
        check_time(self.scanned_at)  # year 1 at +23:59 does not fit in UTC


class TicketBrief(msgspec.Struct):
    id: str
    serial: int
    enclosure_id: str | None
    child: bool
    days: list[dt.date]


class FirstEntry(msgspec.Struct):
    at: dt.datetime
    gate_id: str | None
    gate_name_zh: str | None
    gate_name_en: str | None


class ScanAnswer(msgspec.Struct):
    status: Literal["ok", "error"]
    reason: str | None
    explanation: str
    """Chinese and English, for the person at the gate."""
    explanation_zh: str
    explanation_en: str
    ticket: TicketBrief | None
    first_entry: FirstEntry | None
    replayed: bool = False
    """True when this is the stored answer to a retried nonce (nothing new recorded)."""


class OfflineScan(msgspec.Struct, forbid_unknown_fields=True):
    secret: Secret
    nonce: Nonce
    scanned_at: dt.datetime
    gate_id: str | None = None
    type: Literal["entry", "exit"] = "entry"
    local_result: Literal["ok", "error"] = "ok"
    """What the scanner showed. An offline "ok" is a fact: it is never undone."""
    local_reason: str | None = None

    def __post_init__(self) -> None:
        check_time(self.scanned_at)


class SyncRequest(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[OfflineScan], msgspec.Meta(min_length=1, max_length=500)]


class SyncItem(msgspec.Struct):
    nonce: str
    status: Literal["ok", "error"]
    reason: str | None
    conflict: bool
    """The scanner admitted a ticket that had already entered (reported, not undone)."""
    replayed: bool
    first_entry: FirstEntry | None


class SyncResult(msgspec.Struct):
    accepted: int
    conflicts: int
    items: list[SyncItem]


class PublicKey(msgspec.Struct):
    kid: int
    public_key: str
    """Raw 32-byte Ed25519 key, base64."""


class Revocation(msgspec.Struct):
    id: int
    ticket_id: str
    serial: int
    reason: str
    """``canceled`` or ``refunded`` (the ticket no longer admits: scanners answer
    ``canceled``), or ``changed`` (a newer code replaced this one: ``revoked``)."""


class EnclosureInfo(msgspec.Struct):
    id: str
    number: int
    """What the QR token carries."""
    code: str
    name_zh: str
    name_en: str
    parent_id: str | None
    allow_reentry: bool
    gate_ids: list[str]
    """Gates leading in; empty means every gate."""


class GateBrief(msgspec.Struct):
    id: str
    code: str
    name_zh: str
    name_en: str


class KeysAnswer(msgspec.Struct):
    """What an offline scanner needs: keys, revocations since the cursor, the layout."""

    festival_id: str
    timezone: str
    gate_id: str
    keys: list[PublicKey]
    revocations: list[Revocation]
    cursor: int
    """Send it back as ``since`` to get only newer revocations."""
    enclosures: list[EnclosureInfo]
    gates: list[GateBrief]
    server_time: dt.datetime


class CountBy(msgspec.Struct):
    key: str
    name_zh: str
    name_en: str
    count: int


class Arrivals(msgspec.Struct):
    at: dt.datetime
    count: int


class AttendanceDay(msgspec.Struct):
    day: dt.date
    admitted: int


class ConflictScan(msgspec.Struct):
    """A ticket admitted offline while it was already inside: recorded, never undone."""

    ticket_id: str
    ticket_ref: str
    """The first 8 characters of the ticket's id, as the scanner shows it."""
    at: dt.datetime
    gate_id: str
    gate_name_zh: str
    gate_name_en: str
    first_entry_at: dt.datetime | None
    first_entry_gate_id: str | None


class Attendance(msgspec.Struct):
    festival_id: str
    day: dt.date
    inside_now: int
    admitted: int
    """Tickets admitted on ``day`` (each ticket once per check-in list)."""
    scans: int
    refused: int
    conflicts: int
    by_gate: list[CountBy]
    by_enclosure: list[CountBy]
    inside_by_enclosure: list[CountBy]
    arrivals: list[Arrivals]
    """Admissions per 10 minutes on ``day``."""
    by_day: list[AttendanceDay]
    conflict_scans: list[ConflictScan] = msgspec.field(default_factory=list)
    """The conflicts counted in ``conflicts`` (the latest 100), each naming its ticket."""
