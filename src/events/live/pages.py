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
from events.web.i18n import register
from events.web.pages import page

OVERLAY_PARTS = ("start", "result", "prize", "sponsor")


def _embed(raw: bytes) -> str:
    """The document as a JSON literal that cannot close the ``<script>`` holding it."""
    return raw.decode().replace("<", "\\u003c")


class LiveResultsPageController(Controller):
    include_in_schema = False
    dependencies = {"feed": Provide(provide_feed, sync_to_thread=False)}

    @get("/festivals/{festival_id:str}/results", operation_id="LiveResultsPage",
         summary="Live results (page)")
    async def results(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                      feed: NamedDependency[ResultsFeed]) -> Template:
        try:
            festival = parse_id(festival_id, "festival")
            body = await feed.body(festival)
        except DomainError as exc:
            response = page(request, "live/missing.html", code=exc.instance_code)
            response.status_code = exc.status_code
            return response
        response = page(request, "live/results.html", festival_id=str(festival),
                        document=_embed(body.raw))
        response.headers.update({"Cache-Control": "public, max-age=5"})
        return response

    @get("/festivals/{festival_id:str}/overlay", operation_id="LiveOverlayPage",
         summary="Livestream overlay (browser source, 1920x1080, transparent)")
    async def overlay(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                      feed: NamedDependency[ResultsFeed],
                      show: Annotated[str, QueryParameter(
                          max_length=100, description="Parts: start,result,prize,sponsor")
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
        return page(request, "live/overlay.html", festival_id=str(festival),
                    document=_embed(body.raw), parts=parts, race_id=race_id or "")


register({
    "zh": {
        "live.title": "实时成绩",
        "live.missing": "没有找到这个活动。",
        "live.scheduled": "未开赛",
        "live.provisional": "暂定成绩",
        "live.official": "正式成绩",
        "live.amended": "已更正",
        "live.start_list": "出场名单",
        "live.result": "成绩",
        "live.place": "名次",
        "live.horse": "马匹",
        "live.rider": "骑手",
        "live.province": "省份",
        "live.time": "用时",
        "live.prize": "奖金",
        "live.empty": "还没有比赛。",
        "live.connected": "实时更新中",
        "live.polling": "网络受限，每 15 秒刷新",
        "live.offline": "连接中断，正在重试…",
        "live.provinces": "各省奖牌与奖金",
        "live.points": "马王积分榜",
        "live.points_col": "积分",
        "live.wins": "冠军",
        "live.next": "下一场",
        "live.all_days": "全部比赛日",
        "live.status.dns": "未出赛",
        "live.status.dnf": "未完赛",
        "live.status.dsq": "取消成绩",
        "live.sponsor": "冠名",
    },
    "en": {
        "live.title": "Live results",
        "live.missing": "This festival was not found.",
        "live.scheduled": "Not yet run",
        "live.provisional": "Provisional",
        "live.official": "Official",
        "live.amended": "Amended",
        "live.start_list": "Start list",
        "live.result": "Result",
        "live.place": "Pl.",
        "live.horse": "Horse",
        "live.rider": "Rider",
        "live.province": "Province",
        "live.time": "Time",
        "live.prize": "Prize",
        "live.empty": "No races yet.",
        "live.connected": "Live",
        "live.polling": "Limited network: refreshing every 15 s",
        "live.offline": "Connection lost, retrying…",
        "live.provinces": "Provinces: wins and prize money",
        "live.points": "Horse king points",
        "live.points_col": "Points",
        "live.wins": "Wins",
        "live.next": "Next race",
        "live.all_days": "All days",
        "live.status.dns": "DNS",
        "live.status.dnf": "DNF",
        "live.status.dsq": "DSQ",
        "live.sponsor": "Sponsored by",
    },
})
