"""What ``events awards ...`` does, outside a request: one transaction per command."""

from events.awards import importing, schemas
from events.awards.prize_list import PrizeListService
from events.config import Settings
from events.db.engine import Database


async def import_file(
    settings: Settings,
    content: bytes,
    fmt: importing.ImportFormat,
    festival_ref: str,
    *,
    dry_run: bool,
) -> schemas.ImportReport:
    """Import a prize list file into a festival (by id or slug); raises the same domain
    errors as the API (``ValidationFailed`` with every bad row, ``Conflict`` when locked)."""
    parsed = importing.parse(content, fmt)
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            awards = PrizeListService(session)
            festival = await awards.festival_by_id_or_slug(festival_ref)
            return await awards.import_prize_list(festival.id, parsed, dry_run=dry_run)
    finally:
        await database.dispose()


async def export_file(
    settings: Settings, fmt: str, festival_ref: str, lang: str
) -> tuple[bytes, int]:
    """The festival's prize list as ``csv`` or ``xlsx`` bytes, and the award count."""
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            awards = PrizeListService(session)
            festival = await awards.festival_by_id_or_slug(festival_ref)
            _, categories, rows, shares = await awards.export(str(festival.id))
            header, lines = importing.export_rows(categories, rows, shares, lang)
            if fmt == "xlsx":
                content = importing.to_xlsx(header, lines, await awards.summary(festival.id))
            else:
                content = importing.to_csv(header, lines)
    finally:
        await database.dispose()
    return content, len(rows)


def report_lines(report: schemas.ImportReport) -> list[str]:
    s = report.summary
    verb = "Would import" if report.dry_run else "Imported"
    lines = [
        f"{verb} {report.awards_created} awards from {report.rows} rows "
        f"({report.format}); {report.awards_replaced} awards replaced.",
        f"Categories created: {', '.join(report.categories_created) or '-'}; "
        f"updated: {', '.join(report.categories_updated) or '-'}.",
        f"Prize list: {s.categories} categories, {s.awards} awards, "
        f"{s.total_prize_yuan} {s.currency} (min {s.min_prize_yuan}, "
        f"max {s.max_prize_yuan}).",
    ]
    lines += [f"  note: {flag.detail}" for flag in s.flags]
    if report.dry_run:
        lines.append("Dry run: nothing was stored.")
    return lines
