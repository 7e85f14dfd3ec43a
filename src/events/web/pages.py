"""Rendering pages: the template context every page shares."""

from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Template

from events.web import statuses  # noqa: F401 - every page can say t("status.<kind>.<value>")
from events.web.i18n import LANGS, request_lang, translate


def page(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    """A page in the caller's language; ``?lang=`` also sets the ``lang`` cookie."""
    lang = request_lang(request)
    other = next(code for code in LANGS if code != lang)

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def name(obj: Any, field: str = "name") -> str:
        """The zh or en variant of a bilingual field, falling back to the other."""
        primary = getattr(obj, f"{field}_{lang}", "") if not isinstance(obj, dict) else obj.get(
            f"{field}_{lang}", "")
        fallback = getattr(obj, f"{field}_{other}", "") if not isinstance(obj, dict) else obj.get(
            f"{field}_{other}", "")
        return str(primary or fallback)

    # The language switch keeps the page's own query (an order's access token, a day).
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    switch_url = f"{request.url.path}?{urlencode([*query, ('lang', other)])}"
    response = Template(template_name=template,
                        context={"lang": lang, "other_lang": other, "t": t, "name": name,
                                 "path": request.url.path, "switch_url": switch_url,
                                 **context})
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def error_page(request: Request[Any, Any, Any], status: int, code: str) -> Template:
    """The page a browser shows for a missing page, in the visitor's language."""
    response = page(request, "error.html", code=code)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
