"""The officials' results page at the finish line: phone or tablet first, zh and en.

``/festivals/{id}/officials``: a race official (or organiser) signs in with
``POST /api/v1/auth/login`` (the token stays in the tab's sessionStorage), picks a race,
sees its start list (drawing it by lot if needed), taps the horses in finishing order or
types times, counts or scores, marks DNS/DNF/DSQ, and submits the whole race in one request
(``static/results.js``). The submission carries an ``Idempotency-Key`` made once per draft:
a submission whose answer was lost is retried with the same key and stored once; the
button is disabled while a request is in flight, so nothing is submitted twice. The
provisional result comes back on the page, with the objection window, and the official
declares it official.
"""

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.errors import DomainError
from events.festivals import services as festival_services
from events.web.i18n import N_
from events.web.pages import page

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

TEXT_KEYS = (
    "login_failed",
    "not_official",
    "expired",
    "network",
    "pick",
    "no_start_list",
    "draw",
    "publish",
    "submit",
    "sending",
    "retry",
    "failed",
    "submitted",
    "official",
    "declare",
    "declared",
    "objections_close",
    "place",
    "time",
    "faults",
    "count",
    "points",
    "scores",
    "dnf",
    "dns",
    "dsq",
    "reason_prompt",
    "clear",
    "dead_heat",
    "state_provisional",
    "state_official",
    "state_amended",
    "state_scheduled",
    "amend_reason",
    "unplaced",
    "prize",
)


class OfficialsPageController(Controller):
    include_in_schema = False

    @get(
        "/festivals/{festival_id:str}/officials",
        operation_id="OfficialsResultsPage",
        summary="Results entry for race officials (page)",
    )
    async def officials(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        try:
            festival = await festival_services.FestivalService(db_session).read(festival_id)
        except DomainError as exc:
            response = page(request, "checkin/error.html", code=exc.instance_code)
            response.status_code = exc.status_code
            return response
        response = page(
            request,
            "results/officials.html",
            festival=festival,
            text_keys=TEXT_KEYS,
            config={"festival_id": festival.id},
        )
        response.headers.update(NO_STORE)
        return response


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("off.amend_reason"),
    N_("off.count"),
    N_("off.dead_heat"),
    N_("off.declared"),
    N_("off.dnf"),
    N_("off.dns"),
    N_("off.dsq"),
    N_("off.expired"),
    N_("off.failed"),
    N_("off.faults"),
    N_("off.login_failed"),
    N_("off.network"),
    N_("off.not_official"),
    N_("off.objections_close"),
    N_("off.official"),
    N_("off.place"),
    N_("off.points"),
    N_("off.prize"),
    N_("off.publish"),
    N_("off.reason_prompt"),
    N_("off.scores"),
    N_("off.sending"),
    N_("off.state_amended"),
    N_("off.state_official"),
    N_("off.state_provisional"),
    N_("off.state_scheduled"),
    N_("off.submitted"),
    N_("off.time"),
    N_("off.unplaced"),
)
