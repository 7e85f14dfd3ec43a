"""Live results routes: the document (ETag, 304, gzip from memory) and its SSE stream."""

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from events.errors import NotFound, ServiceUnavailable
from events.ids import parse_id
from events.live.feed import Body, Document, ResultsFeed
from events.problems import error_responses

CACHE_CONTROL = "public, max-age=2, stale-while-revalidate=30"
NO_COMPRESSION = {"skip_compression": True}
"""Route opt: the body is gzipped once in memory (or is a stream), never per request."""


def provide_feed(state: State) -> ResultsFeed:
    feed: ResultsFeed = state.live
    return feed


def _races(document: Document, key: str, value: object) -> Document:
    """The document cut to the races whose ``key`` is ``value`` (a list like any other)."""
    wanted = str(value)
    items = [race for race in document.get("items", ()) if str(race.get(key)) == wanted]
    return {**document, "items": items, "total": len(items), "limit": len(items)}


def _respond(request: Request[Any, Any, Any], body: Body) -> Response[bytes]:
    headers = {"ETag": body.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if body.etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            body.gzipped,
            media_type="application/json",
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return Response(body.raw, media_type="application/json", headers=headers)


class LiveResultsController(Controller):
    tags = ["Live results"]
    dependencies = {"feed": Provide(provide_feed, sync_to_thread=False)}
    opt = NO_COMPRESSION

    @get(
        "/api/v1/festivals/{festival_id:str}/results",
        operation_id="FestivalResults",
        summary="Live results of a festival (or one race or day): ETag, 304, public cache",
        responses=error_responses(NotFound),
    )
    async def festival_results(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        feed: NamedDependency[ResultsFeed],
        race_id: Annotated[str | None, QueryParameter(description="Only this race")] = None,
        day: Annotated[
            dt.date | None,
            QueryParameter(description="Only this day's races (festival-local date)"),
        ] = None,
    ) -> Response[bytes]:
        """Each race is ``scheduled``, ``provisional``, ``official`` or ``amended``. The body
        is built once per change and served from memory; send ``If-None-Match`` to get a
        304 while nothing changed. ``event_id`` is the last change included: open the stream
        with ``?last_event_id=`` set to it to miss nothing in between."""
        festival = parse_id(festival_id, "festival")
        if race_id is not None:
            race = parse_id(race_id, "race")
            body = await feed.body(festival, f"race:{race}", lambda d: _races(d, "race_id", race))
        elif day is not None:
            body = await feed.body(festival, f"day:{day}", lambda d: _races(d, "date", day))
        else:
            body = await feed.body(festival)
        return _respond(request, body)

    @get(
        "/api/v1/festivals/{festival_id:str}/results/stream",
        operation_id="FestivalResultsStream",
        summary="Live results as Server-Sent Events; Last-Event-ID resumes",
        responses=error_responses(NotFound, ServiceUnavailable),
    )
    async def festival_results_stream(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        feed: NamedDependency[ResultsFeed],
        last_event_id: Annotated[
            str | None,
            QueryParameter(description="Resume after this event (as the Last-Event-ID header)"),
        ] = None,
    ) -> Stream:
        """One event per change (result entered, declared official, amended, start list
        published), each with an ``id`` and the race as it now stands. ``Last-Event-ID``
        resumes without loss; an id too old, or malformed, gets a ``refresh`` event (reload
        the document). ``: ping`` comments every 15 s. 503 ``too_many_streams`` with
        ``Retry-After`` when this server holds its maximum."""
        festival = parse_id(festival_id, "festival")
        await feed.body(festival)  # 404 for an unknown festival; cached for the next read
        resume = request.headers.get("last-event-id", last_event_id)
        events = await feed.stream(festival, resume)
        return Stream(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
