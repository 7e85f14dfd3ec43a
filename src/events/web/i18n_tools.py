"""Maintenance of the gettext catalogs (``src/events/locale``); see docs/translations.md.

``python -m events.web.i18n_tools absorb events.console.pages [more modules]``
    Moves the texts a module still gives to the deprecated ``register({"zh":..,"en":..})``
    into the ``zh`` and ``en`` catalogs (``bo`` gets the key with no text, so it falls back
    to Chinese until someone translates it), deletes the ``register(...)`` statements from
    the module and, for keys that ``make translations`` would not find in the code (built
    at run time), writes ``N_("key")`` markers in their place. Then run
    ``make translations`` and ``ruff check --fix`` on the module.

``python -m events.web.i18n_tools annotate src/events/locale/messages.pot``
    Puts each key's Chinese and English text into the template as extracted comments
    (``#. zh: ...``), so a translator editing ``bo`` sees what to translate
    (``make translations`` runs it between extract and update).

``python -m events.web.i18n_tools missing [lang]``
    Lists the keys a language has no text for (Tibetan: the ones still falling back).
"""

import ast
import importlib
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from events.web.i18n import DOMAIN, LANGS, LOCALE_DIR, registered

ROOT = Path(__file__).parents[3]
BABEL_CFG = ROOT / "babel.cfg"
SOURCE_DIR = Path(__file__).parents[1]
KEYWORDS = {"t": None, "translate": (2,), "N_": None}
"""The same keywords ``make translations`` passes to ``pybabel extract``."""
NEEDS_REVIEW = "NEEDS NATIVE REVIEW: draft translation"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def write_catalog(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as fileobj:
        write_po(fileobj, catalog, width=76)


def extracted_keys(source_dir: Path | None = None) -> set[str]:
    """Every key ``pybabel extract`` finds in the code and templates (babel.cfg)."""
    source_dir = source_dir or SOURCE_DIR
    with BABEL_CFG.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            fileobj, str(BABEL_CFG)
        )
    keys: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(source_dir), method_map, options_map, keywords=KEYWORDS
    ):
        keys.add(message if isinstance(message, str) else message[0])
    return keys


def _register_statements(tree: ast.Module) -> list[ast.stmt]:
    def is_register(node: ast.stmt) -> bool:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return False
        func = node.value.func
        return (isinstance(func, ast.Name) and func.id == "register") or (
            isinstance(func, ast.Attribute)
            and func.attr == "register"
            and isinstance(func.value, ast.Name)
            and func.value.id == "i18n"
        )

    return [node for node in tree.body if is_register(node)]


def _import_line(names: Iterable[str]) -> str:
    """``from events.web.i18n import ...`` in the order ruff's isort keeps."""

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    return f"from events.web.i18n import {', '.join(sorted(set(names), key=order))}\n"


def rewrite_module(path: Path, unextracted: Sequence[str]) -> int:
    """Delete the module's ``register(...)`` statements; mark ``unextracted`` keys instead.
    Returns the number of statements removed."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    statements = _register_statements(tree)
    if not statements:
        return 0
    marker = ""
    if unextracted:
        marker = (
            "# Keys used under computed names (texts: src/events/locale, "
            "docs/translations.md).\n_MESSAGE_KEYS = (\n"
            + "".join(f'    N_("{key}"),\n' for key in unextracted)
            + ")\n"
        )
    edits: list[tuple[int, int, str]] = []  # (first line, last line, replacement), 1-based
    for index, node in enumerate(statements):
        assert node.end_lineno is not None
        edits.append((node.lineno, node.end_lineno, marker if index == 0 else ""))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "events.web.i18n":
            names = [alias.name for alias in node.names if alias.name != "register"]
            if unextracted:
                names.append("N_")
            assert node.end_lineno is not None
            edits.append((node.lineno, node.end_lineno, _import_line(names) if names else ""))
    for first, last, replacement in sorted(edits, reverse=True):
        lines[first - 1 : last] = [replacement] if replacement else []
    path.write_text("".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return len(statements)


def absorb(module_name: str) -> list[str]:
    """Move one module's ``register()`` texts into the catalogs; returns what was done."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(module_name)
    texts = registered(module_name)
    zh, en = texts.get("zh", {}), texts.get("en", {})
    if not zh:
        return [f"{module_name}: no register() texts"]
    report: list[str] = []
    for lang in LANGS:
        path = po_path(lang)
        catalog = read_catalog(path, locale=lang)
        given = {"zh": zh, "en": en}.get(lang, texts.get(lang, {}))
        for key in zh:
            message = catalog.get(key)
            text = given.get(key, "")
            if message is None:
                catalog.add(key, text, auto_comments=[f"zh: {zh[key]}", f"en: {en[key]}"])
            elif text and message.string != text:
                if message.string:
                    report.append(f"{lang} {key}: {message.string!r} replaced by {text!r}")
                message.string = text
        write_catalog(path, catalog)
    assert module.__file__ is not None
    found = extracted_keys()
    if not Path(module.__file__).resolve().is_relative_to(SOURCE_DIR.resolve()):
        found |= extracted_keys(Path(module.__file__).parent)
    unextracted = sorted(set(zh) - found)
    removed = rewrite_module(Path(module.__file__), unextracted)
    report.append(
        f"{module_name}: {len(zh)} keys into zh, en (and bo, untranslated); "
        f"{removed} register() call(s) removed; {len(unextracted)} N_() marker(s)"
    )
    report.append(f"next: make translations && .venv/bin/ruff check --fix {module.__file__}")
    return report


def annotate(pot: Path) -> None:
    """Each template entry gets ``zh: ...`` and ``en: ...`` extracted comments."""
    template = read_catalog(pot)
    sources = {lang: read_catalog(po_path(lang), locale=lang) for lang in ("zh", "en")}
    for message in template:
        if not message.id:
            continue
        comments = [c for c in message.auto_comments if not c.startswith(("zh: ", "en: "))]
        for lang, catalog in sources.items():
            found = catalog.get(message.id)
            if found is not None and found.string:
                comments.append(f"{lang}: {found.string}")
        message.auto_comments = comments
    write_catalog(pot, template)


def missing(lang: str) -> list[str]:
    catalog = read_catalog(po_path(lang), locale=lang)
    return sorted(str(m.id) for m in catalog if m.id and not m.string)


def main(argv: Sequence[str]) -> int:
    if len(argv) >= 2 and argv[0] == "absorb":
        for name in argv[1:]:
            for line in absorb(name):
                print(line)  # noqa: T201
        return 0
    if len(argv) == 2 and argv[0] == "annotate":
        annotate(Path(argv[1]))
        return 0
    if len(argv) in (1, 2) and argv[0] == "missing":
        for key in missing(argv[1] if len(argv) == 2 else "bo"):
            print(key)  # noqa: T201
        return 0
    print(__doc__)  # noqa: T201
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
