"""Spectators' live results page and the livestream overlay.

Both are a small server-rendered shell around the festival's results document: the first
paint comes with the page (no request before anything shows on a slow network), then
``static/live.js`` keeps it current from the SSE stream, falling back to polling with
``If-None-Match`` when a network blocks streams.
"""

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from events.errors import DomainError
from events.ids import parse_id
from events.live.controllers import provide_feed
from events.live.feed import ResultsFeed
from events.web.pages import page

OVERLAY_PARTS = ("start", "result", "prize", "sponsor")


def _embed(raw: bytes) -> str:
    """The document as a JSON literal that cannot close the ``<script>`` holding it."""
    return raw.decode().replace("<", "\\u003c")


class LiveResultsPageController(Controller):
    include_in_schema = False
    dependencies = {"feed": Provide(provide_feed, sync_to_thread=False)}

    @get(
        "/festivals/{festival_id:str}/results",
        operation_id="LiveResultsPage",
        summary="Live results (page)",
    )
    async def results(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        feed: NamedDependency[ResultsFeed],
    ) -> Template:
        try:
            festival = parse_id(festival_id, "festival")
            body = await feed.body(festival)
        except DomainError as exc:
            response = page(request, "live/missing.html", code=exc.instance_code)
            response.status_code = exc.status_code
            return response
        response = page(
            request, "live/results.html", festival_id=str(festival), document=_embed(body.raw)
        )
        response.headers.update({"Cache-Control": "public, max-age=5"})
        return response

    @get(
        "/festivals/{festival_id:str}/overlay",
        operation_id="LiveOverlayPage",
        summary="Livestream overlay (browser source, 1920x1080, transparent)",
    )
    async def overlay(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        feed: NamedDependency[ResultsFeed],
        show: Annotated[
            str, QueryParameter(max_length=100, description="Parts: start,result,prize,sponsor")
        ] = ",".join(OVERLAY_PARTS),
        race_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Template:
        try:
            festival = parse_id(festival_id, "festival")
            body = await feed.body(festival)
        except DomainError as exc:
            response = page(request, "live/missing.html", code=exc.instance_code)
            response.status_code = exc.status_code
            return response
        parts = [part for part in show.split(",") if part in OVERLAY_PARTS]
        return page(
            request,
            "live/overlay.html",
            festival_id=str(festival),
            document=_embed(body.raw),
            parts=parts,
            race_id=race_id or "",
        )
