"""What ``events entries ...`` does, outside any request: one transaction per command."""

from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import Settings
from events.db.engine import Database
from events.errors import NotFound
from events.festivals import services as festival_services
from events.festivals.models import Festival
from events.registration import schemas
from events.registration.importing import EntryImport, Progress


async def festival_by_ref(session: AsyncSession, ref: str) -> Festival:
    """A festival by its id or its slug."""
    festivals = festival_services.FestivalService(session)
    try:
        return await festivals.get(ref)
    except NotFound:
        festival = await festivals.get_by_slug(ref)
        if festival is None:
            raise NotFound(f"No festival with id or slug {ref!r}.") from None
        return festival


async def import_entries(
    settings: Settings,
    content: bytes,
    festival_ref: str,
    *,
    dry_run: bool,
    progress: Progress | None = None,
) -> schemas.ImportReport:
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            festival = await festival_by_ref(session, festival_ref)
            return await EntryImport(session).run(
                festival.id, content, dry_run=dry_run, progress=progress
            )
    finally:
        await database.dispose()


def report_lines(report: schemas.ImportReport) -> list[str]:
    created, matched = report.created, report.matched
    verb = "Would import" if report.dry_run else "Imported"
    lines = [
        f"{verb} {created.entries} entries from {report.rows} rows "
        f"({report.waiting} on waiting lists).",
        f"  new: {created.owners} owners, {created.horses} horses, {created.riders} riders",
        f"  matched: {matched.owners} owners, {matched.horses} horses, {matched.riders} riders",
    ]
    lines += [f"  row {e.row}, {e.field}: {e.message}" for e in report.errors]
    return lines
