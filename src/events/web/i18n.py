"""Chinese and English text for pages.

Each domain registers its own messages (``register({"zh": {...}, "en": {...}})``) at import
time; templates call ``t("key")``. The language comes from ``?lang=``, then the ``lang``
cookie, then ``Accept-Language``; Chinese is the default.
"""

from typing import Any, Literal

from litestar import Request

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

_CATALOG: dict[str, dict[str, str]] = {"zh": {}, "en": {}}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a domain's messages. Every key must exist in both languages."""
    zh, en = messages.get("zh", {}), messages.get("en", {})
    missing = set(zh) ^ set(en)
    if missing:
        raise ValueError(f"messages missing a translation: {sorted(missing)}")
    _CATALOG["zh"].update(zh)
    _CATALOG["en"].update(en)


def translate(lang: Lang, key: str, **values: Any) -> str:
    text = _CATALOG[lang].get(key) or _CATALOG[DEFAULT_LANG].get(key) or key
    return text.format(**values) if values else text


def request_lang(request: Request[Any, Any, Any]) -> Lang:
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in LANGS:
            return candidate
    accept = request.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return "en"
    return DEFAULT_LANG


register({
    "zh": {
        "site.name": "赛马节",
        "site.switch": "English",
        "home.title": "赛马节与文化旅游活动",
        "home.empty": "还没有活动。",
        "home.days": "{start} 至 {end}",
        "home.venue": "地点",
        "home.tickets": "购票",
        "home.enter": "马匹报名",
        "home.attendance": "入场统计（组委会）",
        "home.devices": "检票设备",
        "home.owners": "马主注册",
        "home.scanner": "检票（门岗）",
        "common.back": "返回",
        "page.not_found": "找不到该页面",
        "page.not_found_hint": "链接可能有误或已失效。",
        "page.home": "返回首页",
    },
    "en": {
        "site.name": "Horse-racing festivals",
        "site.switch": "中文",
        "home.title": "Horse-racing festivals and cultural events",
        "home.empty": "No festivals yet.",
        "home.days": "{start} to {end}",
        "home.venue": "Venue",
        "home.tickets": "Buy tickets",
        "home.enter": "Enter a horse",
        "home.attendance": "Attendance (organisers)",
        "home.devices": "Gate devices",
        "home.owners": "Owners: sign up",
        "home.scanner": "Gate scanner",
        "common.back": "Back",
        "page.not_found": "Page not found",
        "page.not_found_hint": "The link may be mistyped or out of date.",
        "page.home": "Home",
    },
})
