"""Page text in Chinese, English and Tibetan, from gettext catalogs managed by Babel.

The catalogs are ``src/events/locale/<lang>/LC_MESSAGES/messages.po`` (compiled to
``messages.mo`` beside them, shipped in the package and committed). Message ids are
stable keys (``"tickets.title"``), not source sentences: templates call ``t("key")`` and
Python calls ``translate(lang, "key")``; a key built at run time (``"status." + s``) is
listed with ``N_("status.pending")`` so that ``make translations`` extracts it.
``docs/translations.md`` says how to add and review text.

The language comes from ``?lang=``, then the ``lang`` cookie, then ``Accept-Language``;
Chinese is the default. A text missing in English or Tibetan falls back to Chinese, then
to the key itself.

``register({"zh": {...}, "en": {...}})`` is the old hand-written catalogue. It still works
(deprecated): its texts are used for keys the catalogs do not have, until
``python -m events.web.i18n_tools absorb <module>`` moves them into the catalogs.
"""

import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.messages.mofile import read_mo
from litestar import Request

Lang = Literal["zh", "en", "bo"]
LANGS: tuple[Lang, ...] = ("zh", "en", "bo")
DEFAULT_LANG: Lang = "zh"
FALLBACK: Lang = "zh"
"""Where a missing English or Tibetan text comes from (most Tibetan readers here read
Chinese; see docs/translations.md)."""
HTML_LANG: dict[Lang, str] = {"zh": "zh-CN", "en": "en", "bo": "bo"}
NATIVE_NAMES: dict[Lang, str] = {"zh": "中文", "en": "English", "bo": "བོད་ཡིག"}
LOCALE_DIR = Path(__file__).parents[1] / "locale"
DOMAIN = "messages"

_REGISTERED: dict[str, dict[str, dict[str, str]]] = {}
"""Deprecated ``register()`` dicts by the registering module: module → lang → key → text."""


def N_(key: str) -> str:  # noqa: N802 - the gettext name for "mark, do not translate"
    """Mark a key that is used under a computed name, so that extraction finds it."""
    return key


@cache
def catalog(lang: Lang) -> dict[str, str]:
    """The compiled catalog of one language: key → text (untranslated keys are absent)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: run `make translations`")
    with path.open("rb") as fileobj:
        compiled = read_mo(fileobj)
    return {str(m.id): str(m.string) for m in compiled if m.id and m.string}


def reload() -> None:
    """Read the ``.mo`` files again (after ``make translations``)."""
    catalog.cache_clear()


def register(messages: dict[str, dict[str, str]]) -> None:
    """Deprecated: add a module's hand-written ``{"zh": {...}, "en": {...}}`` texts.

    They are used for keys the catalogs lack. Move them into the catalogs with
    ``python -m events.web.i18n_tools absorb <module>``.
    """
    zh, en = messages.get("zh", {}), messages.get("en", {})
    missing = set(zh) ^ set(en)
    if missing:
        raise ValueError(f"messages missing a translation: {sorted(missing)}")
    module = str(sys._getframe(1).f_globals.get("__name__", "?"))
    warnings.warn(
        f"{module}: register() is deprecated; run `python -m events.web.i18n_tools "
        f"absorb {module}`",
        DeprecationWarning,
        stacklevel=2,
    )
    texts = _REGISTERED.setdefault(module, {})
    for lang, table in messages.items():
        texts.setdefault(lang, {}).update(table)


def registered(module: str) -> dict[str, dict[str, str]]:
    """The texts a module gave to ``register()`` (for the absorb tool)."""
    return _REGISTERED.get(module, {})


def _lookup(lang: Lang, key: str) -> str | None:
    found = catalog(lang).get(key)
    if found:
        return found
    for texts in _REGISTERED.values():
        if texts.get(lang, {}).get(key):
            return texts[lang][key]
    return None


def translate(lang: Lang, key: str, **values: Any) -> str:
    text = _lookup(lang, key) or (_lookup(FALLBACK, key) if lang != FALLBACK else None) or key
    return text.format(**values) if values else text


def has_text(lang: Lang, key: str) -> bool:
    """Whether ``lang`` has its own text for ``key`` (no fallback)."""
    return _lookup(lang, key) is not None


def parse_accept_language(header: str) -> Lang | None:
    """The first of our languages in an ``Accept-Language`` header, by preference."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for negative_quality, _, primary in sorted(ranked):
        if negative_quality < 0 and primary in LANGS:
            return primary
    return None


def request_lang(request: Request[Any, Any, Any]) -> Lang:
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in LANGS:
            return candidate
    return parse_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG
