"""Alembic driven from code: ``events db upgrade`` and the tests use the same config."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def _outside_event_loop(run: Callable[[], None]) -> None:
    """The async env.py runs its own loop; from inside a running loop, use a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def upgrade(database_url: str, revision: str = "heads") -> None:
    _outside_event_loop(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def make_revision(
    database_url: str,
    message: str,
    *,
    branch_label: str | None = None,
    head: str = "head",
    depends_on: str | None = None,
) -> None:
    """Autogenerate a revision. A new domain starts its own branch:
    ``head="base", branch_label="awards", depends_on="spine@head"``."""
    command.revision(
        alembic_config(database_url),
        message=message,
        autogenerate=True,
        branch_label=branch_label,
        head=head,
        depends_on=depends_on,
    )


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)
