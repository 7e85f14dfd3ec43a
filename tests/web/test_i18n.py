"""The gettext catalogs: complete, in step with the code, compiled; language choice; the
deprecated ``register()`` shim and the tool that moves its texts into the catalogs."""

import io
import re
import shutil
import sys
import warnings
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo

from events.web import i18n, i18n_tools
from events.web.i18n import LANGS, parse_accept_language, translate
from events.web.i18n_tools import extracted_keys, po_path, read_catalog
from tests.conftest import Client

# The public pages (ticket shop, order and ticket pages, owner pages, scanner, results):
# their text must exist in Tibetan too.
PUBLIC = (
    "site.",
    "home.",
    "common.",
    "tickets.",
    "order.",
    "error.",
    "reg.",
    "login.",
    "status.",
    "rule.",
    "scan.",
    "scanner.",
    "live.",
    "find.",
    "page.",
    "refund.",
)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def texts(lang: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in read_catalog(po_path(lang), locale=lang) if m.id}


def test_the_catalogs_hold_exactly_the_keys_the_code_uses() -> None:
    used = extracted_keys()
    assert len(used) > 300
    for lang in LANGS:
        assert set(texts(lang)) == used, lang


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chinese_and_english_have_every_text(lang: str) -> None:
    assert [key for key, text in texts(lang).items() if not text] == []


def test_tibetan_has_every_text_of_the_public_pages() -> None:
    bo = texts("bo")
    public = [key for key in bo if key.startswith(PUBLIC)]
    assert len(public) > 200
    assert [key for key in public if not bo[key]] == []
    # ...in Tibetan script (U+0F00-U+0FFF), not a copy of the Chinese or English.
    zh, en = texts("zh"), texts("en")
    for key in public:
        assert re.search("[\u0f00-\u0fff]", bo[key]), key
        assert bo[key] not in (zh[key], en[key]), key


def test_drafted_tibetan_is_marked_for_native_review() -> None:
    catalog = read_catalog(po_path("bo"), locale="bo")
    drafted = [m for m in catalog if m.id and m.string]
    assert drafted
    assert all(i18n_tools.NEEDS_REVIEW in m.user_comments for m in drafted)


@pytest.mark.parametrize("lang", ["en", "bo"])
def test_every_translation_keeps_the_placeholders(lang: str) -> None:
    zh = texts("zh")
    for key, text in texts(lang).items():
        if text:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(zh[key])), key


@pytest.mark.parametrize("lang", LANGS)
def test_the_committed_mo_files_are_compiled_from_the_po_files(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(po_path(lang), locale=lang))
    compiled.seek(0)
    with po_path(lang).with_suffix(".mo").open("rb") as committed:
        expected = {(m.id, m.string) for m in read_mo(compiled) if m.id}
        assert {(m.id, m.string) for m in read_mo(committed) if m.id} == expected, (
            "run `make translations`"
        )


def test_tibetan_falls_back_to_chinese_and_an_unknown_key_to_itself() -> None:
    assert translate("bo", "tickets.title") == "འཛུལ་ཤོག"
    assert translate("bo", "fund.title") == translate("zh", "fund.title") == "经费与赞助"
    assert translate("en", "tickets.remaining", n=3) == "3 left"
    assert translate("bo", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("bo-CN,bo;q=0.9,zh;q=0.8", "bo"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("en;q=0.2,bo;q=0.7", "bo"),
        ("fr", None),
        ("bo;q=0", None),
        ("", None),
    ],
)
def test_accept_language_picks_our_language_by_preference(header: str, lang: str | None) -> None:
    assert parse_accept_language(header) == lang


async def test_pages_come_in_tibetan_by_query_cookie_or_accept_language(client: Client) -> None:
    asked = await client.get("/?lang=bo")
    assert asked.status_code == 200
    assert '<html lang="bo">' in asked.text
    assert "རྟ་རྒྱུགས་དུས་ཆེན།" in asked.text
    assert asked.cookies.get("lang") == "bo"
    client.cookies.clear()
    by_header = await client.get("/", headers={"Accept-Language": "bo-CN,zh;q=0.5"})
    assert '<html lang="bo">' in by_header.text
    client.cookies.clear()
    chinese = await client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="zh-CN">' in chinese.text
    # Every page offers the other two languages, Tibetan by its own name.
    assert 'hreflang="bo" lang="bo"' in chinese.text
    assert "བོད་ཡིག" in chinese.text
    assert 'data-testid="lang-switch">English<' in chinese.text


def test_register_still_works_but_is_deprecated_and_the_catalogs_win() -> None:
    with pytest.warns(DeprecationWarning, match="i18n_tools absorb"):
        i18n.register(
            {
                "zh": {"late.title": "迟到", "tickets.title": "别的"},
                "en": {"late.title": "Late", "tickets.title": "Other"},
            }
        )
    try:
        assert translate("en", "late.title") == "Late"
        assert translate("bo", "late.title") == "迟到"  # no Tibetan: the Chinese
        assert translate("zh", "tickets.title") == "购票"  # the catalog wins
        with pytest.raises(ValueError, match="missing a translation"):
            i18n.register({"zh": {"a.b": "甲"}, "en": {}})
    finally:
        i18n._REGISTERED.pop(__name__, None)


SAMPLE = '''"""A page module from another branch, still with a hand-written catalogue."""

from events.web.i18n import register


def heading(t):
    return t("sample.title")


register({
    "zh": {"sample.title": "样例", "sample.state.open": "开放"},
    "en": {"sample.title": "Sample", "sample.state.open": "Open"},
})
'''


def test_absorb_moves_a_modules_register_texts_into_the_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    monkeypatch.setattr(i18n_tools, "LOCALE_DIR", locale)
    package = tmp_path / "src"
    package.mkdir()
    (package / "absorb_sample.py").write_text(SAMPLE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, "absorb_sample", raising=False)
    try:
        report = i18n_tools.absorb("absorb_sample")
    finally:
        i18n._REGISTERED.pop("absorb_sample", None)
    assert "2 keys" in report[0]

    for lang, title, state in (("zh", "样例", "开放"), ("en", "Sample", "Open"), ("bo", "", "")):
        catalog = read_catalog(locale / lang / "LC_MESSAGES" / "messages.po", locale=lang)
        assert catalog.get("sample.title").string == title
        assert catalog.get("sample.state.open").string == state
        assert catalog.get("tickets.title").string  # the rest is kept
    source = (package / "absorb_sample.py").read_text(encoding="utf-8")
    assert "register(" not in source
    # The key only built at run time is marked for extraction; the t("...") one is found.
    assert 'N_("sample.state.open")' in source
    assert 'N_("sample.title")' not in source
    assert "from events.web.i18n import N_\n" in source
    assert extracted_keys(package) == {"sample.title", "sample.state.open"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no register() left
        compile(source, "absorb_sample.py", "exec")
        monkeypatch.delitem(sys.modules, "absorb_sample", raising=False)
        __import__("absorb_sample")
