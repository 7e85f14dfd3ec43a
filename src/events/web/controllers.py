"""The home page: festivals, each with its dates and venue."""

from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.services import FestivalService
from events.web.pages import page

FAVICON = Path(__file__).parent / "static" / "icons" / "scanner-192.png"


class HomeController(Controller):
    include_in_schema = False

    @get("/", operation_id="HomePage", summary="Festivals (page)")
    async def home(self, request: Request[Any, Any, Any],
                   db_session: NamedDependency[AsyncSession]) -> Template:
        festivals, _ = await FestivalService(db_session).list(limit=50, offset=0)
        return page(request, "home.html", festivals=festivals)

    @get("/favicon.ico", operation_id="Favicon", summary="The site's icon",
         media_type="image/png")
    async def favicon(self) -> Response[bytes]:
        return Response(FAVICON.read_bytes(), media_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})
