"""The console's front door: choose a festival, then land where your role works."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only, requires_role
from events.access.models import Role
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

add_nav(
    NavItem(
        "console.nav.dashboard", "/console/festivals/{festival}", (Role.ORGANISER,), position=10
    )
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
        return await festival_page(request, db_session, festival_id, "dashboard.html")
