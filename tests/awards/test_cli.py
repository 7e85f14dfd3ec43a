"""`events awards import` and `export` on a fresh SQLite file, against the demo festival.

Synchronous, as the command is: it runs its own event loop.
"""

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from events import demo as demo_module
from events.cli import main
from events.config import get_settings
from events.results.demo import demo_results
from tests.awards.test_import import BAD_CSV


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("EVENTS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("EVENTS_ENV", "dev")
    get_settings.cache_clear()
    # The demo's official results lock the prize list; these imports need it editable.
    monkeypatch.setattr(
        demo_module,
        "DEMO_STEPS",
        [step for step in demo_module.DEMO_STEPS if step is not demo_results],
    )
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    demo = runner.invoke(main, ["demo"])
    assert demo.exit_code == 0, demo.output
    assert "Awards: 10 categories, 131 awards, 1,252,000 yuan" in demo.output
    yield tmp_path
    get_settings.cache_clear()


def test_export_then_dry_run_import_by_slug(demo_db: Path) -> None:
    runner = CliRunner()
    exported = runner.invoke(
        main,
        [
            "awards",
            "export",
            str(demo_db / "prizes.csv"),
            "--festival",
            "dangjiren-2027",
            "--lang",
            "zh",
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "Wrote 131 awards" in exported.output
    dry = runner.invoke(
        main,
        [
            "awards",
            "import",
            str(demo_db / "prizes.csv"),
            "--festival",
            "dangjiren-2027",
            "--dry-run",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "Would import 131 awards" in dry.output
    assert "131 awards, 1252000.00 CNY" in dry.output
    assert "Dry run: nothing was stored." in dry.output


def test_a_bad_file_is_refused_with_every_bad_line(demo_db: Path) -> None:
    path = demo_db / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["awards", "import", str(path), "--festival", "dangjiren-2027"]
    )
    assert result.exit_code == 1
    for line in (3, 4, 5, 6, 7):
        assert f"lines.{line}." in result.output
    assert "nothing was stored" in result.output


def test_an_xlsx_export_opens_in_excel_terms(demo_db: Path) -> None:
    path = demo_db / "prizes.xlsx"
    result = CliRunner().invoke(
        main, ["awards", "export", str(path), "--festival", "dangjiren-2027"]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert book["Awards"].max_row == 132


def test_an_unknown_festival_is_an_error(demo_db: Path) -> None:
    path = demo_db / "p.csv"
    path.write_text("category,place,prize_yuan\nx,1,1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["awards", "import", str(path), "--festival", "nope"])
    assert result.exit_code == 1
    assert "No festival with id or slug 'nope'" in result.output
