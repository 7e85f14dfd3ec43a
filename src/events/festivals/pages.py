"""The home page (festivals, each with its dates and venue), and a festival for other
domains' pages."""

from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.errors import DomainError
from events.festivals.schemas import FestivalRead
from events.festivals.services import FestivalService
from events.web.pages import page

FAVICON = Path(__file__).parents[1] / "web" / "static" / "icons" / "scanner-192.png"


async def festival_or_error(
    request: Request[Any, Any, Any], session: AsyncSession, festival_id: str, error_template: str
) -> FestivalRead | Template:
    """The festival, or the error page to answer with (404 for an unknown one)."""
    try:
        return await FestivalService(session).read(festival_id)
    except DomainError as exc:
        response = page(request, error_template, code=exc.instance_code)
        response.status_code = exc.status_code
        return response


class HomeController(Controller):
    include_in_schema = False

    @get("/", operation_id="HomePage", summary="Festivals (page)")
    async def home(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        festivals, _ = await FestivalService(db_session).list(limit=50, offset=0)
        return page(request, "home.html", festivals=festivals)

    @get("/favicon.ico", operation_id="Favicon", summary="The site's icon", media_type="image/png")
    async def favicon(self) -> Response[bytes]:
        return Response(
            FAVICON.read_bytes(),
            media_type="image/png",
            headers={"Cache-Control": "public, max-age=86400"},
        )
