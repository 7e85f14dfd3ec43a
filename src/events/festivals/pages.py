"""The home page: festivals, each with its dates and venue."""

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.services import FestivalService
from events.web.pages import page


class HomeController(Controller):
    include_in_schema = False

    @get("/", operation_id="HomePage", summary="Festivals (page)")
    async def home(self, request: Request[Any, Any, Any],
                   db_session: NamedDependency[AsyncSession]) -> Template:
        festivals, _ = await FestivalService(db_session).list(limit=50, offset=0)
        return page(request, "home.html", festivals=festivals)
