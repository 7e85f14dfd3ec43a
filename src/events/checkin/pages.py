"""Gate staff's scanner and organisers' pages, phone first, Chinese and English.

- ``/scan``: the scanner (``static/scanner.js``). The gate device's token is entered once
  (pasted, or opened from a ``/scan#token=...`` link) and kept in the phone's
  localStorage; scans go to ``POST /api/v1/checkin/scan``. Without a network the phone
  verifies the token itself (the keys from ``GET /api/v1/checkin/keys``), answers, and
  queues the scan for ``POST /api/v1/checkin/sync``.
- ``/festivals/{id}/attendance``: organisers sign in with ``POST /api/v1/auth/login`` (the
  bearer token stays in the tab's sessionStorage; ``static/organiser.js``) and watch
  ``GET .../attendance``.
- ``/festivals/{id}/devices``: organisers sign in the same way, register gate devices
  (``POST .../devices``), hand each one's ``/scan#token=...`` link to its phone as a QR code
  drawn in the browser (the token goes nowhere else), and revoke them.

The pages themselves hold no secret: everything private comes from the API, with the
device's or the organiser's token.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.checkin import services as checkin_services
from events.db.base import utcnow
from events.festivals.pages import festival_or_error
from events.web.i18n import LANGS, N_, Lang, request_lang, translate
from events.web.pages import page

SERVICE_WORKER = Path(__file__).parents[1] / "web" / "static" / "sw.js"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def scanner_texts() -> dict[str, list[str]]:
    """The server's answers in both languages, so an offline answer reads like an online
    one: reason (``ok`` for an admission) → [Chinese, English]."""
    texts = {reason or "ok": [zh, en] for reason, (zh, en) in checkin_services.EXPLANATIONS.items()}
    texts["exit"] = list(checkin_services.EXIT_TEXT)
    return texts


# The scanner's own words (``static/scanner.js`` reads them as ``config.text[lang][name]``).
SCANNER_KEYS = (
    N_("scanner.online"),
    N_("scanner.offline"),
    N_("scanner.queued"),
    N_("scanner.uploading"),
    N_("scanner.camera_start"),
    N_("scanner.camera_stop"),
    N_("scanner.camera_error"),
    N_("scanner.camera_missing"),
    N_("scanner.token_empty"),
    N_("scanner.token_refused"),
    N_("scanner.network"),
    N_("scanner.device_refused"),
    N_("scanner.keys_at"),
    N_("scanner.keys_none"),
    N_("scanner.clock_skew"),
    N_("scanner.conflict_item"),
    N_("scanner.rejected"),
    N_("scanner.forget_confirm"),
    N_("scanner.forget_ask"),
    N_("scanner.gate"),
    N_("scanner.other_gate"),
)
# The answer at the gate in the page's language when it is neither Chinese nor English
# (Tibetan): reason → text; shown above the Chinese and English lines.
ANSWER_KEYS = {
    "ok": N_("scan.answer.ok"),
    "exit": N_("scan.answer.exit"),
    "invalid": N_("scan.answer.invalid"),
    "canceled": N_("scan.answer.canceled"),
    "revoked": N_("scan.answer.revoked"),
    "wrong_day": N_("scan.answer.wrong_day"),
    "wrong_gate": N_("scan.answer.wrong_gate"),
    "already_redeemed": N_("scan.answer.already_redeemed"),
    "ambiguous": N_("scan.answer.ambiguous"),
    "device": N_("scan.answer.device"),
    "problem": N_("scan.answer.problem"),
}


def scanner_config(lang: Lang) -> dict[str, Any]:
    """What ``static/scanner.js`` needs besides the API: its words in every language (the
    offline banner shows Chinese and English together) and the answers."""
    config: dict[str, Any] = {
        "explanations": scanner_texts(),
        "text": {
            code: {key.removeprefix("scanner."): translate(code, key) for key in SCANNER_KEYS}
            for code in LANGS
        },
    }
    if lang not in ("zh", "en"):
        config["answers"] = {reason: translate(lang, key) for reason, key in ANSWER_KEYS.items()}
    return config


def default_day(days: list[dt.date], today: dt.date) -> dt.date | None:
    """Today if it is a festival day, else the festival day nearest to it (the earlier of
    two as near)."""
    return min(days, key=lambda d: (abs((d - today).days), d > today), default=None)


class CheckinPageController(Controller):
    include_in_schema = False

    @get("/scan", operation_id="ScannerPage", summary="Gate scanner (page)")
    async def scanner(self, request: Request[Any, Any, Any]) -> Template:
        response = page(request, "checkin/scan.html", config=scanner_config(request_lang(request)))
        response.headers.update(NO_STORE)
        return response

    @get(
        "/sw.js",
        operation_id="OfflineServiceWorker",
        summary="The offline copy (script)",
        media_type="text/javascript",
    )
    async def service_worker(self) -> Response[bytes]:
        """``static/sw.js`` at the site's root, so that its scope covers ``/scan`` and the
        order pages; always revalidated, so a new version reaches phones at once."""
        return Response(
            SERVICE_WORKER.read_bytes(),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get(
        "/festivals/{festival_id:str}/attendance",
        operation_id="AttendancePage",
        summary="Attendance for organisers (page)",
    )
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "checkin/error.html")
        if isinstance(festival, Template):
            return festival
        days = [d for m in festival.meetings for d in m.days]
        today = utcnow().astimezone(ZoneInfo(festival.timezone)).date()
        chosen = default_day([d.date for d in days], today)
        days = sorted(days, key=lambda d: d.date)
        response = page(
            request,
            "checkin/attendance.html",
            festival=festival,
            days=days,
            chosen=chosen,
            today=today,
            config={
                "festival_id": festival.id,
                "timezone": festival.timezone,
                "day": chosen.isoformat() if chosen else None,
                "today": today.isoformat(),
            },
        )
        response.headers.update(NO_STORE)
        return response

    @get(
        "/festivals/{festival_id:str}/devices",
        operation_id="DevicesPage",
        summary="Gate devices for organisers (page)",
    )
    async def devices(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "checkin/error.html")
        if isinstance(festival, Template):
            return festival
        gates = [{"id": g.id, "name_zh": g.name_zh, "name_en": g.name_en} for g in festival.gates]
        response = page(
            request,
            "checkin/devices.html",
            festival=festival,
            config={"festival_id": festival.id, "timezone": festival.timezone, "gates": gates},
        )
        response.headers.update(NO_STORE)
        return response
