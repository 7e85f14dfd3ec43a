"""Gate staff's scanner and organisers' pages, phone first, Chinese and English.

- ``/scan``: the scanner (``static/scanner.js``). The gate device's token is entered once
  (pasted, or opened from a ``/scan#token=...`` link) and kept in the phone's
  localStorage; scans go to ``POST /api/v1/checkin/scan``. Without a network the phone
  verifies the token itself (the keys from ``GET /api/v1/checkin/keys``), answers, and
  queues the scan for ``POST /api/v1/checkin/sync``.
- ``/festivals/{id}/attendance``: organisers sign in with ``POST /api/v1/auth/login`` (the
  bearer token stays in the tab's sessionStorage; ``static/organiser.js``) and watch
  ``GET .../attendance``.
- ``/festivals/{id}/devices``: organisers sign in the same way, register gate devices
  (``POST .../devices``), hand each one's ``/scan#token=...`` link to its phone as a QR code
  drawn in the browser (the token goes nowhere else), and revoke them.

The pages themselves hold no secret: everything private comes from the API, with the
device's or the organiser's token.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.checkin import services as checkin_services
from events.db.base import utcnow
from events.festivals.pages import festival_or_error
from events.web.i18n import register
from events.web.pages import page

SERVICE_WORKER = Path(__file__).parents[1] / "web" / "static" / "sw.js"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def scanner_texts() -> dict[str, list[str]]:
    """The server's answers in both languages, so an offline answer reads like an online
    one: reason (``ok`` for an admission) → [Chinese, English]."""
    texts = {reason or "ok": [zh, en]
             for reason, (zh, en) in checkin_services.EXPLANATIONS.items()}
    texts["exit"] = list(checkin_services.EXIT_TEXT)
    return texts


def default_day(days: list[dt.date], today: dt.date) -> dt.date | None:
    """Today if it is a festival day, else the festival day nearest to it (the earlier of
    two as near)."""
    return min(days, key=lambda d: (abs((d - today).days), d > today), default=None)




class CheckinPageController(Controller):
    include_in_schema = False

    @get("/scan", operation_id="ScannerPage", summary="Gate scanner (page)")
    async def scanner(self, request: Request[Any, Any, Any]) -> Template:
        response = page(request, "checkin/scan.html",
                        config={"explanations": scanner_texts()})
        response.headers.update(NO_STORE)
        return response

    @get("/sw.js", operation_id="OfflineServiceWorker", summary="The offline copy (script)",
         media_type="text/javascript")
    async def service_worker(self) -> Response[bytes]:
        """``static/sw.js`` at the site's root, so that its scope covers ``/scan`` and the
        order pages; always revalidated, so a new version reaches phones at once."""
        return Response(SERVICE_WORKER.read_bytes(), media_type="text/javascript",
                        headers={"Cache-Control": "no-cache",
                                 "Service-Worker-Allowed": "/"})

    @get("/festivals/{festival_id:str}/attendance", operation_id="AttendancePage",
         summary="Attendance for organisers (page)")
    async def attendance(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                         db_session: NamedDependency[AsyncSession]) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "checkin/error.html")
        if isinstance(festival, Template):
            return festival
        days = [d for m in festival.meetings for d in m.days]
        today = utcnow().astimezone(ZoneInfo(festival.timezone)).date()
        chosen = default_day([d.date for d in days], today)
        days = sorted(days, key=lambda d: d.date)
        response = page(request, "checkin/attendance.html", festival=festival, days=days,
                        chosen=chosen, today=today,
                        config={"festival_id": festival.id, "timezone": festival.timezone,
                                "day": chosen.isoformat() if chosen else None,
                                "today": today.isoformat()})
        response.headers.update(NO_STORE)
        return response

    @get("/festivals/{festival_id:str}/devices", operation_id="DevicesPage",
         summary="Gate devices for organisers (page)")
    async def devices(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                      db_session: NamedDependency[AsyncSession]) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "checkin/error.html")
        if isinstance(festival, Template):
            return festival
        gates = [{"id": g.id, "name_zh": g.name_zh, "name_en": g.name_en} for g in festival.gates]
        response = page(request, "checkin/devices.html", festival=festival,
                        config={"festival_id": festival.id, "timezone": festival.timezone,
                                "gates": gates})
        response.headers.update(NO_STORE)
        return response


register({
    "zh": {
        "scan.title": "检票",
        "scan.setup_title": "设置检票设备",
        "scan.setup_hint": "粘贴主办方为本门创建的设备令牌（只需一次），"
                           "或直接打开主办方提供的设备链接。",
        "scan.device_token": "设备令牌",
        "scan.save_device": "保存并开始检票",
        "scan.entry": "入场",
        "scan.exit": "出场",
        "scan.kind": "扫码类型",
        "scan.wedge_label": "扫码枪输入（扫码后自动提交）",
        "scan.recent": "最近扫码",
        "scan.forget": "忘记本设备",
        "scan.settings": "本设备设置",
        "scan.clear_after": "绿色结果自动关闭",
        "scan.clear_seconds": "{n} 秒后",
        "scan.clear_never": "不自动关闭",
        "scan.tap_to_dismiss": "轻触屏幕关闭",
        "scan.conflicts": "离线冲突",
        "scan.conflicts_clear": "知道了",
        "scan.insecure": "此页面需要 HTTPS 连接才能使用摄像头和离线核验。",
        "organiser.login": "主办方登录",
        "organiser.username": "用户名",
        "organiser.password": "密码",
        "organiser.submit": "登录",
        "organiser.logout": "退出登录",
        "organiser.failed": "用户名或密码错误。",
        "organiser.not_organiser": "需要主办方账号。",
        "organiser.expired": "登录已过期，请重新登录。",
        "organiser.network": "无法连接服务器，请稍后再试。",
        "att.title": "入场统计",
        "att.day": "日期",
        "att.showing": "当前显示：",
        "att.today": "（今天）",
        "att.inside_now": "当前场内",
        "att.admitted": "今日入场",
        "att.refused": "拒绝",
        "att.conflicts": "冲突",
        "att.conflict_list": "离线冲突",
        "att.conflict_hint": "离线手机放行了已在场内的票：已放行，不撤销；请核查这些票。",
        "att.conflict_item": "票 {ticket}：{time} 在{gate}离线放行，此前已于 {first} 入场",
        "att.chart": "每 10 分钟入场人数柱状图，{start}–{end}，共 {n} 人",
        "att.scans": "扫码次数",
        "att.by_gate": "按入口",
        "att.by_enclosure": "按场区",
        "att.gate": "入口",
        "att.enclosure": "场区",
        "att.inside": "场内",
        "att.arrivals": "每10分钟入场人数",
        "att.no_arrivals": "这一天还没有人入场。",
        "att.updated": "更新于 {time}，每30秒自动刷新",
        "att.error": "无法加载数据，稍后自动重试。",
        "att.no_days": "本活动还没有比赛日。",
        "dev.title": "检票设备",
        "dev.hint": "为每部门岗手机创建一个设备，再用那部手机扫描这里显示的二维码，即可开始检票。",
        "dev.add": "添加设备",
        "dev.gate": "入口",
        "dev.name": "设备名称",
        "dev.name_placeholder": "例如：东门 1 号手机",
        "dev.add_submit": "创建设备",
        "dev.no_gates": "本活动还没有入口，无法添加设备。",
        "dev.created_title": "设备已创建",
        "dev.created_hint": "用门岗手机的相机扫描此二维码，或把链接发给它。链接只显示这一次，"
                            "持有链接即可在此入口检票，请勿外传。",
        "dev.link": "检票链接",
        "dev.copy": "复制链接",
        "dev.copied": "已复制。",
        "dev.copy_failed": "无法自动复制，请长按链接手动复制。",
        "dev.qr_failed": "无法生成二维码，请改用链接。",
        "dev.done": "完成（隐藏链接）",
        "dev.list": "已有设备",
        "dev.none": "还没有设备。",
        "dev.active": "使用中",
        "dev.revoked": "已停用",
        "dev.created_at": "创建于 {time}",
        "dev.revoked_at": "停用于 {time}",
        "dev.revoke": "停用",
        "dev.revoke_confirm": "停用“{name}”？这部手机将立即无法检票，且不能恢复。",
        "dev.name_missing": "请填写设备名称。",
        "dev.error": "操作失败，请稍后再试。",
        "dev.load_error": "无法加载设备列表。",
        "checkin.error.title": "无法打开",
        "checkin.error.not_found": "找不到该活动。",
        "checkin.error.other": "出错了。",
    },
    "en": {
        "scan.title": "Gate check-in",
        "scan.setup_title": "Set up this gate device",
        "scan.setup_hint": "Paste the device token the organiser made for this gate (once), or "
                           "open the device link the organiser gives you.",
        "scan.device_token": "Device token",
        "scan.save_device": "Save and start scanning",
        "scan.entry": "Entry",
        "scan.exit": "Exit",
        "scan.kind": "Scan type",
        "scan.wedge_label": "Handheld scanner input (submits by itself)",
        "scan.recent": "Recent scans",
        "scan.forget": "Forget this device",
        "scan.settings": "This device's settings",
        "scan.clear_after": "Green answers clear",
        "scan.clear_seconds": "after {n} s",
        "scan.clear_never": "never by themselves",
        "scan.tap_to_dismiss": "Tap to dismiss",
        "scan.conflicts": "Offline conflicts",
        "scan.conflicts_clear": "Got it",
        "scan.insecure": "This page needs HTTPS for the camera and offline checks.",
        "organiser.login": "Organiser sign-in",
        "organiser.username": "Username",
        "organiser.password": "Password",
        "organiser.submit": "Sign in",
        "organiser.logout": "Sign out",
        "organiser.failed": "Wrong username or password.",
        "organiser.not_organiser": "This needs an organiser account.",
        "organiser.expired": "Your sign-in has expired; please sign in again.",
        "organiser.network": "Cannot reach the server; try again shortly.",
        "att.title": "Attendance",
        "att.day": "Day",
        "att.showing": "Showing:",
        "att.today": "(today)",
        "att.inside_now": "Inside now",
        "att.admitted": "Admitted",
        "att.refused": "Refused",
        "att.conflicts": "Conflicts",
        "att.conflict_list": "Offline conflicts",
        "att.conflict_hint": "An offline phone admitted a ticket already inside: admitted, "
                             "not undone; check these tickets.",
        "att.conflict_item": "Ticket {ticket}: admitted offline at {time} via {gate}, "
                             "it had entered at {first}",
        "att.chart": "Bar chart of admissions per 10 minutes, {start}–{end}, {n} in all",
        "att.scans": "Scans",
        "att.by_gate": "By gate",
        "att.by_enclosure": "By enclosure",
        "att.gate": "Gate",
        "att.enclosure": "Enclosure",
        "att.inside": "Inside",
        "att.arrivals": "Arrivals per 10 minutes",
        "att.no_arrivals": "Nobody has entered on this day yet.",
        "att.updated": "Updated {time}; refreshes every 30 seconds",
        "att.error": "Could not load the figures; retrying shortly.",
        "att.no_days": "This festival has no days yet.",
        "dev.title": "Gate devices",
        "dev.hint": "Add a device for each gate phone, then scan the QR code shown here with "
                    "that phone to start checking tickets.",
        "dev.add": "Add a device",
        "dev.gate": "Gate",
        "dev.name": "Device name",
        "dev.name_placeholder": "e.g. East gate, phone 1",
        "dev.add_submit": "Create the device",
        "dev.no_gates": "This festival has no gates yet, so no device can be added.",
        "dev.created_title": "Device created",
        "dev.created_hint": "Scan this QR code with the gate phone's camera, or send it the link. "
                            "It is shown only this once; whoever has it can scan at this gate, "
                            "so keep it private.",
        "dev.link": "Scanner link",
        "dev.copy": "Copy the link",
        "dev.copied": "Copied.",
        "dev.copy_failed": "Could not copy; press and hold the link to copy it.",
        "dev.qr_failed": "Could not draw the QR code; use the link instead.",
        "dev.done": "Done (hide the link)",
        "dev.list": "Devices",
        "dev.none": "No devices yet.",
        "dev.active": "Active",
        "dev.revoked": "Revoked",
        "dev.created_at": "Created {time}",
        "dev.revoked_at": "Revoked {time}",
        "dev.revoke": "Revoke",
        "dev.revoke_confirm": "Revoke “{name}”? That phone stops scanning at once; this cannot "
                              "be undone.",
        "dev.name_missing": "Give the device a name.",
        "dev.error": "That did not work; try again shortly.",
        "dev.load_error": "Could not load the devices.",
        "checkin.error.title": "Cannot open",
        "checkin.error.not_found": "No such festival.",
        "checkin.error.other": "Something went wrong.",
    },
})
