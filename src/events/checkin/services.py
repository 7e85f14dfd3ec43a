"""Check-in rules: a scan is answered at once, decided once, and always recorded.

``scan`` is the hot path: the token is verified in memory (Ed25519, keys cached per
worker), then one SQL statement decides and records (``decision.decide``; on PostgreSQL
several concurrent scans share one statement, ``checkin.batch``). No ORM object
is loaded and no request transaction is opened.

Which answers are final: every answer to ``POST /checkin/scan`` is stored against the
device's nonce and is final; a scanner that got no answer (timeout, 5xx, network) retries
with the same nonce and gets the stored answer, never a second decision. Offline scans
uploaded with ``/checkin/sync`` are facts: an offline admission is never undone; if the
ticket had already entered, the scan is recorded as a conflict and reported.
"""

import base64
import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.principal import Principal
from events.checkin import schemas
from events.checkin.batch import ScanBatcher
from events.checkin.context import ContextCache, FestivalContext
from events.checkin.decision import (
    DEVICE_REVOKED,
    REPLAY,
    ScanInput,
    ScanOutcome,
    decide,
    record_refusal,
    replay_presence,
)
from events.checkin.models import PRESENCE
from events.config import Settings
from events.db.base import UTCDateTime, utcnow
from events.db.engine import Database
from events.errors import FieldError, Unauthorized, ValidationFailed
from events.ticketing import tickets as ticketing_tickets
from events.ticketing.tokens import TokenClaims, TokenInvalid, peek_kid, verify_token

MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
"""A scan claiming to be later than this ahead of the server's clock is refused."""
MAX_OFFLINE_AGE = dt.timedelta(days=14)

EXPLANATIONS: dict[str | None, tuple[str, str]] = {
    None: ("请通行", "Welcome, go ahead"),
    "invalid": ("无效票：不是本活动的门票", "Not a valid ticket for this festival"),
    "canceled": ("此票已取消或已退票", "This ticket was cancelled or refunded"),
    "revoked": ("此二维码已作废，已换发新码", "This code was replaced by a newer one"),
    "wrong_day": ("此票今日无效", "This ticket is not valid today"),
    "wrong_gate": ("此票不能从本门入场", "This ticket does not admit through this gate"),
    "already_redeemed": ("此票今日已入场", "Already entered today"),
    "ambiguous": ("无法确定，请人工核验", "Cannot decide; check by hand"),
}
EXIT_TEXT = ("已出场", "Exit recorded")


@dataclass(frozen=True, slots=True)
class _Attempt:
    secret: str
    nonce: str
    gate_id: uuid.UUID
    kind: str
    at: dt.datetime
    client_time: dt.datetime | None
    offline: bool


class CheckinService:
    def __init__(self, db: Database, settings: Settings, contexts: ContextCache) -> None:
        self.db = db
        self.settings = settings
        self.contexts = contexts
        wait = settings.checkin_batch_wait_ms / 1000
        self.batcher = (
            ScanBatcher(db, wait=wait, max_size=settings.checkin_batch_max)
            if not db.is_sqlite and wait > 0
            else None
        )
        """Live scans of this worker, several per round trip (``checkin.batch``)."""

    async def scan(self, device: Principal, request: schemas.ScanRequest) -> schemas.ScanAnswer:
        festival_id, _ = _device_scope(device)
        context = await self.contexts.get(festival_id)
        now = utcnow()
        if request.scanned_at is not None and _aware(request.scanned_at) > now + MAX_CLOCK_AHEAD:
            raise ValidationFailed(
                [
                    FieldError(
                        "scanned_at",
                        "The scanner's clock is ahead of the server's by more than "
                        "10 minutes; set the device's time.",
                    )
                ],
                code="clock_ahead",
            )
        attempt = _Attempt(
            secret=request.secret,
            nonce=request.nonce,
            gate_id=self._gate(device, context, request.gate_id, "gate_id"),
            kind=request.type,
            at=now,
            client_time=_aware(request.scanned_at) if request.scanned_at else None,
            offline=False,
        )
        claims, outcome = await self._decide(device, context, attempt, now, self.batcher)
        return _answer(context, claims, outcome, attempt.kind)

    async def sync(self, device: Principal, request: schemas.SyncRequest) -> schemas.SyncResult:
        """Record scans made offline, in the order given, as facts."""
        festival_id, _ = _device_scope(device)
        context = await self.contexts.get(festival_id)
        now = utcnow()
        errors = []
        for i, item in enumerate(request.scans):
            at = _aware(item.scanned_at)
            if at > now + MAX_CLOCK_AHEAD:
                errors.append(
                    FieldError(
                        f"scans.{i}.scanned_at", "More than 10 minutes ahead of the server's clock."
                    )
                )
            elif at < now - MAX_OFFLINE_AGE:
                errors.append(
                    FieldError(
                        f"scans.{i}.scanned_at", "Older than 14 days; not accepted as a fact."
                    )
                )
            try:
                self._gate(device, context, item.gate_id, f"scans.{i}.gate_id")
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        # Decided in the order they happened (ties: entries first, then by nonce), so the
        # conflicts flagged are those of that order; answered in the order sent.
        order = sorted(
            range(len(request.scans)),
            key=lambda i: (
                _aware(request.scans[i].scanned_at),
                request.scans[i].type == "exit",
                request.scans[i].nonce,
            ),
        )
        answers: dict[int, schemas.SyncItem] = {}
        passages: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for index in order:
            item = request.scans[index]
            attempt = _Attempt(
                secret=item.secret,
                nonce=item.nonce,
                gate_id=self._gate(device, context, item.gate_id, "gate_id"),
                kind=item.type,
                at=_aware(item.scanned_at),
                client_time=_aware(item.scanned_at),
                offline=True,
            )
            if item.local_result == "error":
                genuine = verify_token(item.secret, context.keys)
                claims = None if isinstance(genuine, TokenInvalid) else genuine
                outcome = await self._refuse(
                    device, attempt, _known_reason(item.local_reason), now, claims
                )
            else:
                claims, outcome = await self._decide(device, context, attempt, now)
            answer = _answer(context, claims, outcome, attempt.kind)
            answers[index] = schemas.SyncItem(
                nonce=item.nonce,
                status=answer.status,
                reason=answer.reason,
                conflict=outcome.conflict,
                replayed=answer.replayed,
                first_entry=answer.first_entry,
            )
            if (
                claims is not None
                and outcome.enclosure_id is not None
                and (outcome.result == "ok" or outcome.conflict)
            ):
                passages.add((claims.ticket_id, outcome.enclosure_id))
        # Who is inside follows the facts in time order, whatever order they arrived in.
        flagged = await replay_presence(self.db, context.zone, passages)
        items = [answers[i] for i in range(len(request.scans))]
        for answered in items:
            if (device.id, answered.nonce) in flagged:
                answered.conflict = True
        return schemas.SyncResult(
            accepted=sum(1 for i in items if not i.replayed),
            conflicts=sum(1 for i in items if i.conflict),
            items=items,
        )

    def _gate(
        self, device: Principal, context: FestivalContext, gate_id: str | None, field: str
    ) -> uuid.UUID:
        if gate_id is None:
            assert device.gate_id is not None
            return device.gate_id
        try:
            gate = uuid.UUID(gate_id)
        except ValueError:
            gate = None
        if gate is None or gate not in context.gates:
            raise ValidationFailed(
                [FieldError(field, "Not a gate of this device's festival.")], code="unknown_gate"
            )
        return gate

    async def _decide(
        self,
        device: Principal,
        context: FestivalContext,
        attempt: _Attempt,
        now: dt.datetime,
        batcher: ScanBatcher | None = None,
    ) -> tuple[TokenClaims | None, ScanOutcome]:
        claims = verify_token(attempt.secret, context.keys)
        if claims is TokenInvalid.UNKNOWN_KEY and (kid := peek_kid(attempt.secret)) is not None:
            # Perhaps a key rotated since this worker loaded the festival's keys.
            context = await self.contexts.get(context.festival_id, kid=kid)
            claims = verify_token(attempt.secret, context.keys)
        if isinstance(claims, TokenInvalid):
            return None, await self._refuse(device, attempt, "invalid", now)
        outcome = await decide(
            self.db,
            ScanInput(
                festival_id=context.festival_id,
                device_id=device.id,
                gate_id=attempt.gate_id,
                nonce=attempt.nonce,
                kind=attempt.kind,
                ticket_id=claims.ticket_id,
                serial=claims.serial,
                today=attempt.at.astimezone(context.zone).date(),
                at=attempt.at,
                now=now,
                client_time=attempt.client_time,
                offline=attempt.offline,
            ),
            batcher,
        )
        if outcome.verdict == DEVICE_REVOKED:
            raise Unauthorized("This device was revoked.", code="device_revoked")
        return claims, outcome

    async def _refuse(
        self,
        device: Principal,
        attempt: _Attempt,
        reason: str,
        now: dt.datetime,
        claims: TokenClaims | None = None,
    ) -> ScanOutcome:
        festival_id, _ = _device_scope(device)
        outcome = await record_refusal(
            self.db,
            festival_id=festival_id,
            device_id=device.id,
            gate_id=attempt.gate_id,
            nonce=attempt.nonce,
            kind=attempt.kind,
            raw=attempt.secret,
            reason=reason,
            now=now,
            client_time=attempt.client_time,
            offline=attempt.offline,
            ticket_id=claims.ticket_id if claims else None,
            serial=claims.serial if claims else None,
        )
        if outcome.verdict == DEVICE_REVOKED:
            raise Unauthorized("This device was revoked.", code="device_revoked")
        return outcome

    async def keys(
        self, session: AsyncSession, device: Principal, since: int
    ) -> schemas.KeysAnswer:
        """Keys, revocations after ``since`` and the festival's layout, for offline scans."""
        festival_id, gate_id = _device_scope(device)
        context = await self.contexts.get(festival_id)
        revocations = await ticketing_tickets.revocations_since(session, festival_id, since)
        enclosures = await _enclosures(session, festival_id)
        return schemas.KeysAnswer(
            festival_id=str(festival_id),
            timezone=context.zone.key,
            gate_id=str(gate_id),
            keys=[
                schemas.PublicKey(kid=k.kid, public_key=base64.b64encode(k.public_key).decode())
                for k in context.keys.values()
            ],
            revocations=[
                schemas.Revocation(id=r.id, ticket_id=r.ticket_id, serial=r.serial, reason=r.reason)
                for r in revocations
            ],
            cursor=revocations[-1].id if revocations else since,
            enclosures=enclosures,
            gates=[
                schemas.GateBrief(id=str(g.id), code=g.code, name_zh=g.name_zh, name_en=g.name_en)
                for g in context.gates.values()
            ],
            server_time=utcnow(),
        )


def _device_scope(device: Principal) -> tuple[uuid.UUID, uuid.UUID]:
    assert device.festival_id is not None
    assert device.gate_id is not None
    return device.festival_id, device.gate_id


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _known_reason(reason: str | None) -> str:
    return reason if reason in EXPLANATIONS and reason is not None else "invalid"


def _answer(
    context: FestivalContext, claims: TokenClaims | None, outcome: ScanOutcome, kind: str
) -> schemas.ScanAnswer:
    ok = outcome.result == "ok"
    first = None
    if outcome.first_entry_at is not None:
        gate = (
            context.gates.get(outcome.first_entry_gate_id) if outcome.first_entry_gate_id else None
        )
        first = schemas.FirstEntry(
            at=outcome.first_entry_at,
            gate_id=str(gate.id) if gate else None,
            gate_name_zh=gate.name_zh if gate else None,
            gate_name_en=gate.name_en if gate else None,
        )
    zh, en = (
        EXIT_TEXT
        if ok and kind == "exit"
        else EXPLANATIONS.get(outcome.reason, EXPLANATIONS["ambiguous"])
    )
    if outcome.reason == "already_redeemed" and first is not None:
        local = first.at.astimezone(context.zone).strftime("%H:%M")
        zh = f"此票今日已于 {local} 从{first.gate_name_zh or '其他门'}入场"
        en = f"Already entered today at {local} via {first.gate_name_en or 'another gate'}"
    if ok and claims is not None and claims.child:
        zh, en = zh + "（儿童票）", en + " (child ticket)"
    ticket = None
    if claims is not None:
        ticket = schemas.TicketBrief(
            id=str(claims.ticket_id),
            serial=claims.serial,
            enclosure_id=str(outcome.enclosure_id) if outcome.enclosure_id else None,
            child=claims.child,
            days=list(claims.days),
        )
    return schemas.ScanAnswer(
        status="ok" if ok else "error",
        reason=outcome.reason,
        explanation=f"{zh} / {en}",
        explanation_zh=zh,
        explanation_en=en,
        ticket=ticket,
        first_entry=first,
        replayed=outcome.verdict == REPLAY,
    )


async def _enclosures(session: AsyncSession, festival_id: uuid.UUID) -> list[schemas.EnclosureInfo]:
    conn = await session.connection()
    rows = (
        await conn.execute(
            sa.text(
                "SELECT e.id, e.number, e.code, e.name_zh, e.name_en, e.parent_id, "
                "e.allow_reentry, "
                "g.gate_id FROM enclosure e "
                "LEFT JOIN enclosure_gate g ON g.enclosure_id = e.id WHERE e.festival_id = :f "
                "ORDER BY e.number"
            )
            .bindparams(sa.bindparam("f", type_=sa.Uuid()))
            .columns(id=sa.Uuid(), parent_id=sa.Uuid(), gate_id=sa.Uuid()),
            {"f": festival_id},
        )
    ).all()
    by_id: dict[uuid.UUID, schemas.EnclosureInfo] = {}
    for row in rows:
        info = by_id.setdefault(
            row.id,
            schemas.EnclosureInfo(
                id=str(row.id),
                number=row.number,
                code=row.code,
                name_zh=row.name_zh,
                name_en=row.name_en,
                parent_id=str(row.parent_id) if row.parent_id else None,
                allow_reentry=bool(row.allow_reentry),
                gate_ids=[],
            ),
        )
        if row.gate_id is not None:
            info.gate_ids.append(str(row.gate_id))
    return list(by_id.values())


# --- attendance ------------------------------------------------------------------------

_F = sa.bindparam("f", type_=sa.Uuid())
_DAY_PRESENCE = (
    sa.text(
        "SELECT p.enclosure_id, p.first_gate_id, p.first_entry_at, p.inside "
        "FROM checkin_presence p JOIN enclosure e ON e.id = p.enclosure_id "
        "WHERE e.festival_id = :f AND p.day = :day"
    )
    .bindparams(_F, sa.bindparam("day", type_=sa.Date()))
    .columns(
        enclosure_id=sa.Uuid(),
        first_gate_id=sa.Uuid(),
        first_entry_at=UTCDateTime(),
        inside=sa.Boolean(),
    )
)
_SCAN_COUNTS = sa.text(
    "SELECT COUNT(*) AS scans, "
    "COALESCE(SUM(CASE WHEN result = 'error' AND NOT conflict THEN 1 ELSE 0 END), 0) "
    "AS refused, "
    "COALESCE(SUM(CASE WHEN conflict THEN 1 ELSE 0 END), 0) AS conflicts "
    "FROM checkin_scan WHERE festival_id = :f AND server_time >= :start AND server_time < :end"
).bindparams(
    _F, sa.bindparam("start", type_=UTCDateTime()), sa.bindparam("end", type_=UTCDateTime())
)
_CONFLICTS = (
    sa.text(
        "SELECT ticket_id, CASE WHEN offline THEN client_time ELSE server_time END AS at, gate_id, "
        "first_entry_at, first_entry_gate_id FROM checkin_scan WHERE festival_id = :f AND conflict "
        "AND server_time >= :start AND server_time < :end ORDER BY at DESC, id DESC LIMIT 100"
    )
    .bindparams(
        _F, sa.bindparam("start", type_=UTCDateTime()), sa.bindparam("end", type_=UTCDateTime())
    )
    .columns(
        ticket_id=sa.Uuid(),
        at=UTCDateTime(),
        gate_id=sa.Uuid(),
        first_entry_at=UTCDateTime(),
        first_entry_gate_id=sa.Uuid(),
    )
)
_PER_DAY = (
    sa.text(
        "SELECT p.day, COUNT(*) AS admitted FROM checkin_presence p "
        "JOIN enclosure e ON e.id = p.enclosure_id WHERE e.festival_id = :f "
        "GROUP BY p.day ORDER BY p.day"
    )
    .bindparams(_F)
    .columns(day=sa.Date())
)
_NAMES = (
    sa.text(
        "SELECT id, name_zh, name_en FROM gate WHERE festival_id = :f UNION ALL "
        "SELECT id, name_zh, name_en FROM enclosure WHERE festival_id = :f"
    )
    .bindparams(_F)
    .columns(id=sa.Uuid())
)


async def attendance(
    session: AsyncSession, festival_id: uuid.UUID, zone: ZoneInfo, day: dt.date | None
) -> schemas.Attendance:
    """Who is inside now, who was admitted on ``day`` (by gate, by enclosure, per 10
    minutes) and admissions per day. An admission is a presence row: each ticket once per
    check-in list and day, however often it was scanned."""
    day = day or utcnow().astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    conn = await session.connection()
    names = {r.id: (r.name_zh, r.name_en) for r in await conn.execute(_NAMES, {"f": festival_id})}
    rows = (await conn.execute(_DAY_PRESENCE, {"f": festival_id, "day": day})).all()
    by_gate: Counter[uuid.UUID] = Counter(r.first_gate_id for r in rows)
    by_enclosure: Counter[uuid.UUID] = Counter(r.enclosure_id for r in rows)
    inside: Counter[uuid.UUID] = Counter(r.enclosure_id for r in rows if r.inside)
    arrivals: Counter[dt.datetime] = Counter(
        r.first_entry_at.replace(
            minute=r.first_entry_at.minute - r.first_entry_at.minute % 10, second=0, microsecond=0
        )
        for r in rows
    )
    counts = (
        await conn.execute(
            _SCAN_COUNTS, {"f": festival_id, "start": start, "end": start + dt.timedelta(days=1)}
        )
    ).one()
    per_day = (await conn.execute(_PER_DAY, {"f": festival_id})).all()
    conflicts = (
        await conn.execute(
            _CONFLICTS, {"f": festival_id, "start": start, "end": start + dt.timedelta(days=1)}
        )
    ).all()
    return schemas.Attendance(
        festival_id=str(festival_id),
        day=day,
        inside_now=sum(inside.values()),
        admitted=len(rows),
        scans=int(counts.scans),
        refused=int(counts.refused),
        conflicts=int(counts.conflicts),
        by_gate=_count_by(by_gate, names),
        by_enclosure=_count_by(by_enclosure, names),
        inside_by_enclosure=_count_by(inside, names),
        arrivals=[schemas.Arrivals(at=at, count=n) for at, n in sorted(arrivals.items())],
        by_day=[schemas.AttendanceDay(day=r.day, admitted=r.admitted) for r in per_day],
        conflict_scans=[
            schemas.ConflictScan(
                ticket_id=str(r.ticket_id),
                ticket_ref=r.ticket_id.hex[:8].upper(),
                at=r.at,
                gate_id=str(r.gate_id),
                gate_name_zh=names.get(r.gate_id, ("", ""))[0],
                gate_name_en=names.get(r.gate_id, ("", ""))[1],
                first_entry_at=r.first_entry_at,
                first_entry_gate_id=str(r.first_entry_gate_id) if r.first_entry_gate_id else None,
            )
            for r in conflicts
        ],
    )


def _count_by(
    counts: Counter[uuid.UUID], names: dict[uuid.UUID, tuple[str, str]]
) -> list[schemas.CountBy]:
    return [
        schemas.CountBy(
            key=str(key),
            name_zh=names.get(key, ("", ""))[0],
            name_en=names.get(key, ("", ""))[1],
            count=n,
        )
        for key, n in counts.most_common()
    ]


async def first_entries(
    session: AsyncSession,
    ticket_ids: list[uuid.UUID],
) -> dict[uuid.UUID, dt.datetime]:
    """When each of these tickets first entered (any enclosure, any day); a ticket that
    never entered is absent. Ticketing asks before a refund."""
    if not ticket_ids:
        return {}
    presence = PRESENCE
    conn = await session.connection()
    rows = await conn.execute(
        sa.select(presence.c.ticket_id, sa.func.min(presence.c.first_entry_at))
        .where(presence.c.ticket_id.in_(ticket_ids))
        .group_by(presence.c.ticket_id)
    )
    return {row[0]: row[1] for row in rows}
