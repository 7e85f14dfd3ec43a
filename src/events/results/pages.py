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
from events.web.i18n import register
from events.web.pages import page

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

TEXT_KEYS = ("login_failed", "not_official", "expired", "network", "pick", "no_start_list",
             "draw", "publish", "submit", "sending", "retry", "failed", "submitted",
             "official", "declare", "declared", "objections_close", "place", "time", "faults",
             "count", "points", "scores", "dnf", "dns", "dsq", "reason_prompt", "clear",
             "dead_heat", "state_provisional", "state_official", "state_amended",
             "state_scheduled", "amend_reason", "unplaced", "prize")


class OfficialsPageController(Controller):
    include_in_schema = False

    @get("/festivals/{festival_id:str}/officials", operation_id="OfficialsResultsPage",
         summary="Results entry for race officials (page)")
    async def officials(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                        db_session: NamedDependency[AsyncSession]) -> Template:
        try:
            festival = await festival_services.FestivalService(db_session).read(festival_id)
        except DomainError as exc:
            response = page(request, "checkin/error.html", code=exc.instance_code)
            response.status_code = exc.status_code
            return response
        response = page(request, "results/officials.html", festival=festival,
                        text_keys=TEXT_KEYS, config={"festival_id": festival.id})
        response.headers.update(NO_STORE)
        return response


register({
    "zh": {
        "home.officials": "成绩录入（裁判）",
        "off.title": "成绩录入（裁判）",
        "off.login": "裁判登录",
        "off.race": "比赛",
        "off.logout": "退出登录",
        "off.login_failed": "用户名或密码错误。",
        "off.not_official": "需要裁判或主办方账号。",
        "off.expired": "登录已过期，请重新登录。",
        "off.network": "网络不通，请重试。",
        "off.pick": "选择比赛",
        "off.no_start_list": "还没有出发名单。",
        "off.draw": "抽签生成出发名单",
        "off.publish": "公布出发名单",
        "off.submit": "提交整场成绩",
        "off.sending": "正在提交…",
        "off.retry": "重试提交（不会重复）",
        "off.failed": "提交失败：",
        "off.submitted": "已提交，成绩为临时成绩。",
        "off.official": "正式成绩",
        "off.declare": "宣布为正式成绩",
        "off.declared": "已宣布为正式成绩。",
        "off.objections_close": "申诉期截止：",
        "off.place": "名次",
        "off.time": "用时（分:秒.百分秒）",
        "off.faults": "步法犯规",
        "off.count": "数量",
        "off.points": "积分",
        "off.scores": "裁判评分（逗号分隔）",
        "off.dnf": "未完赛",
        "off.dns": "未出发",
        "off.dsq": "取消成绩",
        "off.reason_prompt": "取消成绩的原因：",
        "off.clear": "重新点选",
        "off.dead_heat": "与前一名并列",
        "off.state_provisional": "临时成绩",
        "off.state_official": "正式成绩",
        "off.state_amended": "已更正",
        "off.state_scheduled": "未比赛",
        "off.amend_reason": "成绩已正式公布，更正须说明原因：",
        "off.unplaced": "点选马匹按到达顺序排名",
        "off.prize": "奖金",
        "off.hint": "按到达终点的顺序点选马匹；或填写用时、数量、评分。",
    },
    "en": {
        "home.officials": "Results entry (officials)",
        "off.title": "Results entry (officials)",
        "off.login": "Officials' sign-in",
        "off.race": "Race",
        "off.logout": "Sign out",
        "off.login_failed": "Wrong username or password.",
        "off.not_official": "This needs a race official's or organiser's account.",
        "off.expired": "Your sign-in has expired; please sign in again.",
        "off.network": "No network; try again.",
        "off.pick": "Pick a race",
        "off.no_start_list": "No start list yet.",
        "off.draw": "Draw the start list by lot",
        "off.publish": "Publish the start list",
        "off.submit": "Submit the whole race",
        "off.sending": "Submitting…",
        "off.retry": "Retry the submission (it will not be doubled)",
        "off.failed": "Not submitted: ",
        "off.submitted": "Submitted: the result is provisional.",
        "off.official": "Official",
        "off.declare": "Declare official",
        "off.declared": "Declared official.",
        "off.objections_close": "Objections close at ",
        "off.place": "Place",
        "off.time": "Time (m:ss.hh)",
        "off.faults": "Gait faults",
        "off.count": "Count",
        "off.points": "Points",
        "off.scores": "Judges' scores (comma separated)",
        "off.dnf": "DNF",
        "off.dns": "DNS",
        "off.dsq": "DSQ",
        "off.reason_prompt": "Reason for the disqualification:",
        "off.clear": "Tap again",
        "off.dead_heat": "Dead heat with the one before",
        "off.state_provisional": "Provisional",
        "off.state_official": "Official",
        "off.state_amended": "Amended",
        "off.state_scheduled": "Not run",
        "off.amend_reason": "The result is official: give the reason for this amendment:",
        "off.unplaced": "Tap the horses in the order they finish",
        "off.prize": "Prize",
        "off.hint": "Tap the horses in the order they cross the line, or type times, counts "
                    "or scores.",
    },
})
