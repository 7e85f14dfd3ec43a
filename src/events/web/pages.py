"""Rendering pages: the template context every page shares."""

from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Template

from events.web import statuses  # noqa: F401 - every page can say t("status.<kind>.<value>")
from events.web.i18n import FALLBACK, HTML_LANG, LANGS, NATIVE_NAMES, request_lang, translate


def page(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    """A page in the caller's language; ``?lang=`` also sets the ``lang`` cookie."""
    lang = request_lang(request)
    # zh <-> en as before; Tibetan falls back to Chinese, then English.
    other = "en" if lang == "zh" else FALLBACK
    order = [lang, other, *(code for code in LANGS if code not in (lang, other))]

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def name(obj: Any, field: str = "name") -> str:
        """The variant of a multilingual field (``name_zh``, ``name_bo``...) in the page's
        language, else the next one that is there."""
        for code in order:
            value = (
                obj.get(f"{field}_{code}", "")
                if isinstance(obj, dict)
                else getattr(obj, f"{field}_{code}", "")
            )
            if value:
                return str(value)
        return ""

    # The language links keep the page's own query (an order's access token, a day).
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]

    def url_for(code: str) -> str:
        return f"{request.url.path}?{urlencode([*query, ('lang', code)])}"

    # The first link (``lang-switch``) is the other of Chinese and English, as before.
    languages = [
        {
            "code": code,
            "name": NATIVE_NAMES[code],
            "url": url_for(code),
            "html_lang": HTML_LANG[code],
        }
        for code in [other, *(c for c in LANGS if c not in (lang, other))]
    ]
    response = Template(
        template_name=template,
        context={
            "lang": lang,
            "html_lang": HTML_LANG[lang],
            "other_lang": other,
            "t": t,
            "name": name,
            "path": request.url.path,
            "switch_url": url_for(other),
            "languages": languages,
            **context,
        },
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def error_page(request: Request[Any, Any, Any], status: int, code: str) -> Template:
    """The page a browser shows for a missing page, in the visitor's language."""
    response = page(request, "error.html", code=code)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
