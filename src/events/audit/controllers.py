"""Organiser routes: the audit trail, paged and as CSV."""

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, organiser_only
from events.audit import schemas
from events.audit.services import AuditService
from events.errors import FieldError, ValidationFailed
from events.pagination import Limit, Offset
from events.problems import error_responses
from events.schemas import check_time


def provide_audit(db_session: NamedDependency[AsyncSession]) -> AuditService:
    return AuditService(db_session)


ActorQuery = Annotated[
    uuid.UUID | None, QueryParameter(name="actor_id", description="Only this user's changes")
]
ActionQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=100, description="Only this action (a route's operation id, e.g. CreateDevice)"
    ),
]
FestivalQuery = Annotated[
    uuid.UUID | None,
    QueryParameter(name="festival_id", description="Only changes to this festival"),
]
SinceQuery = Annotated[
    dt.datetime | None, QueryParameter(description="At or after this time (ISO 8601 with offset)")
]
UntilQuery = Annotated[dt.datetime | None, QueryParameter(description="Before this time")]


def _filters(
    actor_id: uuid.UUID | None,
    action: str | None,
    festival_id: uuid.UUID | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> dict[str, Any]:
    errors = []
    for name, value in (("since", since), ("until", until)):
        try:
            check_time(value)
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
        if value is not None and value.tzinfo is None:
            errors.append(FieldError(name, "Give the time with its UTC offset."))
    if errors:
        raise ValidationFailed(errors)
    return {
        "actor_id": actor_id,
        "action": action,
        "festival_id": festival_id,
        "since": since,
        "until": until,
    }


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["Audit"]
    guards = [organiser_only]
    security = BEARER_SECURITY
    dependencies = {"audit": Provide(provide_audit, sync_to_thread=False)}

    @get(
        "/",
        operation_id="ListAuditEntries",
        summary="What staff changed: who, when, which route, on what (newest first)",
        responses=error_responses(),
    )
    async def list_entries(
        self,
        audit: NamedDependency[AuditService],
        limit: Limit = 50,
        offset: Offset = 0,
        actor_id: ActorQuery = None,
        action: ActionQuery = None,
        festival_id: FestivalQuery = None,
        since: SinceQuery = None,
        until: UntilQuery = None,
    ) -> schemas.AuditPage:
        entries, total = await audit.list(
            limit=limit, offset=offset, **_filters(actor_id, action, festival_id, since, until)
        )
        return schemas.AuditPage(
            items=[schemas.entry_out(e) for e in entries], total=total, limit=limit, offset=offset
        )

    @get(
        "/export.csv",
        operation_id="ExportAuditEntries",
        summary="The audit trail as CSV (same filters, oldest first)",
        media_type="text/csv; charset=utf-8",
        responses=error_responses(),
    )
    async def export_csv(
        self,
        audit: NamedDependency[AuditService],
        actor_id: ActorQuery = None,
        action: ActionQuery = None,
        festival_id: FestivalQuery = None,
        since: SinceQuery = None,
        until: UntilQuery = None,
    ) -> Response[bytes]:
        body = await audit.export_csv(**_filters(actor_id, action, festival_id, since, until))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
