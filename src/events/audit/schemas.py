"""Wire types of the audit trail."""

from datetime import datetime

import msgspec

from events.audit.models import AuditEntry


class AuditEntryOut(msgspec.Struct):
    id: str
    at: datetime
    actor_kind: str
    actor_id: str
    actor_role: str
    action: str
    method: str
    path: str
    festival_id: str | None
    target: dict[str, str]
    status: int
    request_id: str
    fields: str


class AuditPage(msgspec.Struct):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=str(entry.id),
        at=entry.at,
        actor_kind=entry.actor_kind,
        actor_id=str(entry.actor_id),
        actor_role=entry.actor_role,
        action=entry.action,
        method=entry.method,
        path=entry.path,
        festival_id=str(entry.festival_id) if entry.festival_id else None,
        target={str(k): str(v) for k, v in (entry.target or {}).items()},
        status=entry.status,
        request_id=entry.request_id,
        fields=entry.fields,
    )
