"""Writing and reading the audit trail.

``record`` runs in the request's own session just before it commits (a hook of
``events.db.deps``), so an entry exists exactly when the change it describes does: a
request that fails is rolled back with its entry. Every route that takes ``db_session``
is covered, server-rendered console pages included, without a line in its handler.
"""

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.access.principal import Principal
from events.audit.models import AuditEntry
from events.db import deps
from events.logsafe import current_request_id
from events.spreadsheets import csv_bytes

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STAFF_ROLES = frozenset({Role.ORGANISER, Role.OFFICIAL, Role.GATE})
"""Whose changes are audited. Devices are not: each of their calls is a scan, kept in the
check-in domain's scan log; owners change only their own things."""

MAX_FIELDS = 40
NOT_FIELDS = frozenset({"csrf_token", "_csrf"})


def is_audited(principal: object, method: str) -> bool:
    return (
        isinstance(principal, Principal)
        and not principal.is_device
        and principal.role in STAFF_ROLES
        and method.upper() in MUTATING
    )


def action_of(request: Request[Any, Any, Any]) -> str:
    handler = request.route_handler
    operation_id = handler.operation_id
    if isinstance(operation_id, str) and operation_id:
        return operation_id
    return str(handler.handler_name)


async def field_names(request: Request[Any, Any, Any]) -> str:
    """The names of the fields sent (top level, sorted), never their values. A body that
    cannot be read again is named by its kind: the audit never fails a request."""
    content_type = request.content_type[0]
    names: Sequence[str] = ()
    try:
        if content_type.endswith("json"):
            body = await request.json()
            if isinstance(body, dict):
                names = [str(key) for key in body]
            elif isinstance(body, list):
                names = [f"[{len(body)} items]"]
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            names = list((await request.form()).keys())
        elif content_type:
            names = [f"<{content_type}>"]  # an upload: its kind, not its content
    except (HTTPException, ValueError):
        names = [f"<{content_type}>"]
    kept = sorted({n for n in names if n not in NOT_FIELDS})
    return ", ".join(kept[:MAX_FIELDS])[:500]


def _festival_of(params: dict[str, Any]) -> uuid.UUID | None:
    raw = params.get("festival_id")
    try:
        return uuid.UUID(str(raw)) if raw is not None else None
    except ValueError:
        return None


async def record(session: AsyncSession, request: Request[Any, Any, Any]) -> None:
    """The hook: an entry for a successful mutating request by a staff member (none when
    the request rolled its change back and answered with the problem)."""
    principal = request.scope.get("user")
    if not is_audited(principal, request.method) or deps.abandoned(session):
        return
    assert isinstance(principal, Principal)
    params = {str(k): str(v) for k, v in request.path_params.items()}
    status = (
        request.route_handler.status_code if hasattr(request.route_handler, "status_code") else 200
    )
    session.add(
        AuditEntry(
            actor_kind=principal.kind,
            actor_id=principal.id,
            actor_role=str(principal.role),
            action=action_of(request)[:100],
            method=request.method.upper(),
            path=request.url.path[:500],
            festival_id=_festival_of(params),
            target=params,
            status=int(status or 200),
            request_id=current_request_id(request.scope)[:64],
            fields=await field_names(request),
        )
    )


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _query(
        self,
        *,
        actor_id: uuid.UUID | None,
        action: str | None,
        festival_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        query = select(AuditEntry)
        if actor_id is not None:
            query = query.where(AuditEntry.actor_id == actor_id)
        if action:
            query = query.where(AuditEntry.action == action)
        if festival_id is not None:
            query = query.where(AuditEntry.festival_id == festival_id)
        if since is not None:
            query = query.where(col(AuditEntry.at) >= since)
        if until is not None:
            query = query.where(col(AuditEntry.at) < until)
        return query

    async def list(
        self,
        *,
        limit: int,
        offset: int,
        actor_id: uuid.UUID | None = None,
        action: str | None = None,
        festival_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[AuditEntry], int]:
        query = self._query(
            actor_id=actor_id, action=action, festival_id=festival_id, since=since, until=until
        )
        total = (await self.session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = (
            await self.session.exec(
                query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id))
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return list(rows), int(total)

    async def export_csv(self, **filters: Any) -> bytes:
        query = self._query(**filters).order_by(col(AuditEntry.at), col(AuditEntry.id))
        rows = (await self.session.exec(query)).all()
        return csv_bytes(
            CSV_COLUMNS,
            (
                [
                    e.at.isoformat(),
                    e.actor_kind,
                    str(e.actor_id),
                    e.actor_role,
                    e.action,
                    e.method,
                    e.path,
                    str(e.festival_id or ""),
                    json.dumps(e.target, sort_keys=True),
                    e.status,
                    e.request_id,
                    e.fields,
                ]
                for e in rows
            ),
        )


CSV_COLUMNS = [
    "at",
    "actor_kind",
    "actor_id",
    "actor_role",
    "action",
    "method",
    "path",
    "festival_id",
    "target",
    "status",
    "request_id",
    "fields",
]
