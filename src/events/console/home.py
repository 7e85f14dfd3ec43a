"""The console's front door: choose a festival, then land where your role works."""

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only, requires_role
from events.access.models import Role
from events.checkin import services as checkin_services
from events.console.gates import local_day_start
from events.console.layout import (
    ALL_STAFF,
    NavItem,
    add_nav,
    console_page,
    festival_page,
    nav_for,
    signed_in,
    switchable_festivals,
)
from events.festivals import services as festival_services
from events.funding.services import FundingService
from events.payments.reconciliation import ReconciliationService
from events.registration import stats as entry_stats
from events.ticketing import stats as ticket_stats
from events.web.i18n import N_


def money(minor: int | None) -> str:
    """Whole yuan with separators (fen shown only when there are some)."""
    if minor is None:
        return "–"
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 100)
    return f"{sign}¥{whole:,}" + (f".{part:02d}" if part else "")


add_nav(
    NavItem(
        "console.nav.dashboard", "/console/festivals/{festival}", (Role.ORGANISER,), position=10
    ),
    # The results issue's officials page and the funding issue's page (their own sign-in).
    NavItem(
        "console.nav.officials",
        "/festivals/{festival}/officials",
        (Role.ORGANISER, Role.OFFICIAL),
        position=70,
    ),
    NavItem("console.nav.funding", "/festivals/{festival}/funding", (Role.ORGANISER,), position=71),
)


class ConsoleHomeController(Controller):
    include_in_schema = False

    @get(
        "/",
        operation_id="ConsoleHome",
        summary="Choose a festival (page)",
        guards=[requires_role(*ALL_STAFF)],
    )
    async def home(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        festival: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[Any]:
        """``?festival=<id>`` (the switcher) goes to that festival's first page for the
        caller's role; otherwise the list of festivals."""
        if festival:
            chosen = await festival_services.FestivalService(db_session).get(festival)
            entries = nav_for(signed_in(request), str(chosen.id))
            landing = next((e["url"] for e in entries if str(chosen.id) in e["url"]), None)
            if landing is not None:
                return Redirect(landing, status_code=303)
        festivals = await switchable_festivals(db_session)
        landings = {
            f.id: next(
                (e["url"] for e in nav_for(signed_in(request), f.id) if f.id in e["url"]), None
            )
            for f in festivals
        }
        return console_page(request, "home.html", festivals=festivals, landings=landings)

    @get(
        "/festivals/{festival_id:str}",
        operation_id="ConsoleDashboard",
        summary="A festival's dashboard (page)",
        guards=[organiser_only],
    )
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Today's figures, each read through the domain that owns it."""
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        zone = ZoneInfo(festival.timezone)
        since = local_day_start(festival.timezone)
        sold, sold_value = await ticket_stats.tickets_sold_since(db_session, festival.id, since)
        attendance = await checkin_services.attendance(db_session, festival.id, zone, None)
        entries = await entry_stats.entries_by_status(db_session, festival.id)
        payments = await ReconciliationService(db_session).summary(str(festival.id))
        funding = await FundingService(db_session).summary(festival.id)
        links = [
            item
            for item in nav_for(signed_in(request), str(festival.id))
            if item["url"] != request.url.path
        ]
        return await festival_page(
            request,
            db_session,
            festival_id,
            "dashboard.html",
            sold=sold,
            sold_value=sold_value,
            admitted=attendance.admitted,
            inside_now=attendance.inside_now,
            entries=entries,
            payments=payments,
            prize=funding.prize_money,
            coverage=funding.coverage,
            money=money,
            links=links,
        )


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.entry.cancelled"),
    N_("console.entry.confirmed"),
    N_("console.entry.inspected"),
    N_("console.entry.pending_payment"),
    N_("console.entry.scratched"),
    N_("console.entry.waiting"),
    N_("console.entry.withdrawn"),
    N_("console.nav.funding"),
    N_("console.nav.officials"),
)
