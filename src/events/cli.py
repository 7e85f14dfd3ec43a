"""The ``events`` command: serve, migrate, manage users, load the demo festival."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, TypeVar

import click

from events.config import ConfigurationError, get_settings

T = TypeVar("T")


def _run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="events")
def main() -> None:
    """Run horse-racing festivals: prizes, entries, payments, tickets, check-in, results."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (EVENTS_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (EVENTS_PORT, default 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (EVENTS_WORKERS).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    try:
        key = settings.signing_key()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    # Every worker signs with the same key, even one made up for this run.
    os.environ.setdefault("EVENTS_SECRET_KEY", key)
    uvicorn.run(
        "events.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=None if reload else (workers or settings.workers),
        reload=reload,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        access_log=False,
        # Open results streams never end by themselves: stop waiting for them.
        timeout_graceful_shutdown=5,
    )


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply migrations (default: all of them)."""
    from events.db import migrate

    migrate.upgrade(get_settings().database_url, revision)
    click.echo(f"Database is at {revision}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from events.db import migrate

    migrate.downgrade(get_settings().database_url, revision)


@db.command("current")
def db_current() -> None:
    """Show the applied revision."""
    from events.db import migrate

    migrate.current(get_settings().database_url)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--branch-label", default=None, help="Start a new branch (a new domain).")
@click.option(
    "--head",
    default="head",
    help="Revision to build on: 'awards@head', or 'base' for a new domain branch.",
)
@click.option("--depends-on", default=None, help="Revision a new branch needs, e.g. spine@head.")
def db_revision(message: str, branch_label: str | None, head: str, depends_on: str | None) -> None:
    """Autogenerate a migration from the models (run against an up-to-date database).

    Each domain keeps its own branch; `events db upgrade` applies all heads.
    """
    from events.db import migrate

    migrate.make_revision(
        get_settings().database_url,
        message,
        branch_label=branch_label,
        head=head,
        depends_on=depends_on,
    )


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["organiser", "official", "gate", "owner"]), required=True
)
@click.option("--password", default=None, help="Prompted for (hidden) when left out.")
@click.option("--display-name", default="", help="Name shown in pages.")
def users_create(username: str, role: str, password: str | None, display_name: str) -> None:
    """Create an account with a role."""
    from events.access.models import Role
    from events.access.services import UserService
    from events.db.engine import Database
    from events.errors import DomainError

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")

    async def create() -> str:
        database = Database.from_settings(get_settings())
        try:
            async with database.transaction() as session:
                user = await UserService(session).create(
                    username=username, password=password, role=Role(role), display_name=display_name
                )
                return str(user.id)
        finally:
            await database.dispose()

    try:
        user_id = _run(create)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {role} {username!r} ({user_id}).")


@main.command()
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load it although EVENTS_ENV is production (random passwords, printed once).",
)
def demo(allow_production: bool) -> None:
    """Load the demo festival, one user per role and a rehearsal day dated today; running it
    twice changes nothing. Prints the accounts, a gate scanner link and today's tickets."""
    from events.demo import load_demo

    try:
        report = _run(lambda: load_demo(get_settings(), allow_production=allow_production))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report:
        click.echo(line)


@main.group()
def awards() -> None:
    """Award categories and prize lists."""


@awards.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--festival", "festival_ref", required=True, help="Festival id or slug.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="Default: from the file name (.json, else CSV).",
)
def awards_import(file: Path, festival_ref: str, dry_run: bool, file_format: str | None) -> None:
    """Import a whole prize list (CSV or JSON) into a festival, all or nothing."""
    from events.awards.commands import import_file, report_lines
    from events.errors import DomainError, ValidationFailed

    fmt: Literal["csv", "json"] = (
        "json" if (file_format or file.suffix.lower().lstrip(".")) == "json" else "csv"
    )
    content = file.read_bytes()
    try:
        report = _run(
            lambda: import_file(get_settings(), content, fmt, festival_ref, dry_run=dry_run)
        )
    except ValidationFailed as exc:
        for error in exc.errors:
            click.echo(f"{error['field']}: {error['message']}", err=True)
        raise click.ClickException(exc.detail) from exc
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    for line in report_lines(report):
        click.echo(line)


@awards.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--festival", "festival_ref", required=True, help="Festival id or slug.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Header language.")
def awards_export(file: Path, festival_ref: str, lang: str) -> None:
    """Write a festival's prize list to FILE (.csv or .xlsx)."""
    from events.awards.commands import export_file
    from events.errors import DomainError

    fmt = "xlsx" if file.suffix.lower() == ".xlsx" else "csv"
    try:
        content, count = _run(lambda: export_file(get_settings(), fmt, festival_ref, lang))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    file.write_bytes(content)
    click.echo(f"Wrote {count} awards to {file}.")


@main.group()
def entries() -> None:
    """Race entries: a delegation's spreadsheet."""


@entries.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--festival", "festival_ref", required=True, help="Festival id or slug.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; store nothing.")
def entries_import(file: Path, festival_ref: str, dry_run: bool) -> None:
    """Import entries from a CSV or XLSX file (one row per entry), all rows or none."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from events.errors import DomainError
    from events.registration.commands import import_entries, report_lines

    content = file.read_bytes()
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = "Checking rows" if phase == "check" else "Storing entries"
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            report = _run(
                lambda: import_entries(
                    get_settings(), content, festival_ref, dry_run=dry_run, progress=progress
                )
            )
        except DomainError as exc:
            for error in exc.extra.get("errors", []):
                click.echo(
                    f"row {error.get('row')}, {error.get('field')}: {error.get('message')}",
                    err=True,
                )
            raise click.ClickException(exc.detail) from exc
    elapsed = time.perf_counter() - started
    for line in report_lines(report):
        click.echo(line)
    click.echo(
        f"{report.rows} rows in {elapsed:.2f} s "
        f"({report.rows / elapsed if elapsed else 0:.0f} rows/s)."
    )
    if report.errors:
        raise click.ClickException("Some rows have problems; nothing was imported.")


@main.group()
def mail() -> None:
    """Outgoing mail (ticket confirmations)."""


@mail.command("send")
def mail_send() -> None:
    """Send the confirmation messages that are due (cron-safe; repeats change nothing)."""
    from events.db.engine import Database
    from events.ticketing.mail import deliver_all_due

    settings = get_settings()
    if not settings.smtp_host:
        raise click.ClickException("EVENTS_SMTP_HOST is not set: no mail is sent.")

    async def send() -> tuple[int, int]:
        database = Database.from_settings(settings)
        try:
            report = await deliver_all_due(database.engine, settings)
            return report.attempted, report.sent
        finally:
            await database.dispose()

    attempted, sent = _run(send)
    click.echo(f"Sent {sent} of {attempted} due messages.")
    if sent < attempted:
        raise click.ClickException("Some messages were not sent; they will be retried.")


@main.command()
def worker() -> None:
    """Run background jobs (mail) from the Redis queue until stopped (needs EVENTS_REDIS_URL).

    Without Redis, each `events serve` runs the jobs itself (and so it does with Redis
    unless EVENTS_JOBS_WORKER=false)."""
    from events.app import JOB_SETS
    from events.db.engine import Database
    from events.jobs import work

    settings = get_settings()
    if not settings.redis_url:
        raise click.ClickException("EVENTS_REDIS_URL is not set: jobs run inside `events serve`.")

    async def run() -> None:
        database = Database.from_settings(settings)
        try:
            await work(settings, database.engine, JOB_SETS)
        finally:
            await database.dispose()

    _run(run)


@main.group()
def results() -> None:
    """Race results."""


@results.command("replay")
@click.argument("race")
@click.option("--festival", "festival", default=None, help="Festival id or slug (for a code)")
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Faster than life: 10 s a step at 1, 1 s at 10",
)
def results_replay(race: str, festival: str | None, speed: float) -> None:
    """Run a race live for a demo: start list, provisional result, official (by id or code).

    Watch /festivals/{id}/results or /overlay move. The server and this command both need
    EVENTS_REDIS_URL (the same Redis) for the server's pages to hear it.
    """
    from events.live.replay import ReplayError, replay

    try:
        _run(
            lambda: replay(get_settings(), race, festival_ref=festival, speed=speed, say=click.echo)
        )
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group()
def tickets() -> None:
    """Ticket orders."""


@tickets.command("sweep")
def tickets_sweep() -> None:
    """Mark unpaid orders past their hold as expired (optional: they stop counting anyway)."""
    from events.db.engine import Database
    from events.ticketing.orders import OrderService

    settings = get_settings()

    async def sweep() -> int:
        database = Database.from_settings(settings)
        try:
            async with database.transaction() as session:
                return await OrderService(session, settings).sweep_expired()
        finally:
            await database.dispose()

    click.echo(f"{_run(sweep)} unpaid orders expired.")
