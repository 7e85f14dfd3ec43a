"""Organisers' funding pages, phone first, Chinese and English.

- ``/festivals/{id}/funding``: sign in (``static/organiser.js``), then the summary with its
  warnings, the two charts (SVG drawn by the server, ``.../funding/charts/*.svg``), the
  ledger with filters, and a form to record a receipt or reverse a record
  (``static/funding.js``).
- ``/festivals/{id}/sponsors/{sponsor_id}/statement``: a sponsor's statement, with its PDF
  in either language.

The pages hold no figures themselves: everything comes from the API with the organiser's
token.
"""

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.pages import festival_or_error
from events.funding.models import MANUAL_SOURCES, FundingSource
from events.web.i18n import Lang, register, request_lang, translate
from events.web.pages import page

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}




def labels(lang: Lang) -> dict[str, dict[str, str]]:
    """Sources, origins and tiers by code, in the page's language (for the script)."""
    return {group: {code: translate(lang, f"fund.{group}.{code}") for code in codes}
            for group, codes in (("source", SOURCES), ("origin", ORIGINS), ("tier", TIERS),
                                 ("warning", WARNINGS))}


class FundingPageController(Controller):
    include_in_schema = False

    @get("/festivals/{festival_id:str}/funding", operation_id="FundingPage",
         summary="Funding for organisers (page)")
    async def funding(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                      db_session: NamedDependency[AsyncSession]) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "funding/error.html")
        if isinstance(festival, Template):
            return festival
        response = page(request, "funding/funding.html", festival=festival,
                        sources=[s.value for s in FundingSource],
                        manual_sources=[s.value for s in FundingSource if s in MANUAL_SOURCES],
                        labels=labels(request_lang(request)),
                        config={"festival_id": festival.id, "timezone": festival.timezone})
        response.headers.update(NO_STORE)
        return response

    @get("/festivals/{festival_id:str}/sponsors/{sponsor_id:str}/statement",
         operation_id="SponsorStatementPage", summary="A sponsor's statement (page)")
    async def statement(self, request: Request[Any, Any, Any], festival_id: FromPath[str],
                        sponsor_id: FromPath[str], db_session: NamedDependency[AsyncSession]
                        ) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "funding/error.html")
        if isinstance(festival, Template):
            return festival
        response = page(request, "funding/statement.html", festival=festival,
                        labels=labels(request_lang(request)),
                        config={"festival_id": festival.id, "sponsor_id": sponsor_id})
        response.headers.update(NO_STORE)
        return response


SOURCES = {
    "self_raised": ("自筹资金", "Self-raised funds"),
    "entry_fees": ("报名费", "Entry fees"),
    "sponsorship": ("赞助", "Sponsorship"),
    "ticket_revenue": ("门票收入", "Ticket revenue"),
    "other": ("其他", "Other"),
    "prize_payout": ("奖金发放", "Prize payouts"),
}
TIERS = {
    "title": ("冠名赞助", "Title sponsor"), "gold": ("金牌赞助", "Gold"),
    "silver": ("银牌赞助", "Silver"), "bronze": ("铜牌赞助", "Bronze"),
    "community": ("社区支持", "Community"), "in_kind": ("实物赞助", "In kind"),
}
ORIGINS = {
    "manual": ("手工登记", "Recorded by hand"), "payment": ("在线/现场付款", "Payment"),
    "refund": ("退款", "Refund"), "payout": ("奖金发放", "Prize payout"),
    "reversal": ("冲正", "Reversal"),
}
WARNINGS = {
    "commitments_exceed_funds": ("承诺奖金超出已到账与已认捐资金，缺口 {amount}。",
                                 "Prize money committed exceeds the money received and "
                                 "pledged by {amount}."),
    "in_kind_prizes_not_covered": ("实物奖品的价值超出赞助商提供的实物，缺口 {amount}。",
                                   "Prizes in kind are worth {amount} more than sponsors "
                                   "gave in kind."),
    "owed_exceeds_balance": ("应付未付奖金超出现有结余 {amount}。",
                             "Prize money owed and unpaid exceeds the balance by {amount}."),
}
MESSAGES: dict[str, tuple[str, str]] = {
    "fund.title": ("经费与赞助", "Funding and sponsors"),
    "fund.summary": ("概况", "Summary"),
    "fund.received": ("已收到", "Received"),
    "fund.paid_out": ("已支出", "Paid out"),
    "fund.balance": ("结余", "Balance"),
    "fund.committed": ("承诺奖金", "Prize money committed"),
    "fund.owed": ("应付奖金", "Prize money owed"),
    "fund.paid": ("已付奖金", "Prize money paid"),
    "fund.income": ("净收入", "Net income"),
    "fund.pledged_outstanding": ("待到账认捐", "Pledged, not yet received"),
    "fund.in_kind": ("实物（申报价值）", "In kind (declared value)"),
    "fund.in_kind_items": ("实物赞助", "Contributions in kind"),
    "fund.shortfall": ("缺口", "Shortfall"),
    "fund.coverage": ("奖金覆盖率", "Prize list covered"),
    "fund.chart_by_source": ("各来源资金（净额）", "Funding by source (net)"),
    "fund.chart_coverage": ("承诺奖金与资金对比", "Committed against funds"),
    "fund.by_source": ("按来源", "By source"),
    "fund.by_sponsor": ("按赞助商", "By sponsor"),
    "fund.source": ("来源", "Source"),
    "fund.sponsor": ("赞助商", "Sponsor"),
    "fund.no_sponsor": ("（无）", "(none)"),
    "fund.pledged": ("认捐", "Pledged"),
    "fund.outstanding": ("未到账", "Outstanding"),
    "fund.net": ("净额", "Net"),
    "fund.ledger": ("账目", "Ledger"),
    "fund.filter": ("筛选", "Filter"),
    "fund.all": ("全部", "All"),
    "fund.direction": ("收支", "In / out"),
    "fund.in": ("收入", "In"),
    "fund.out": ("支出", "Out"),
    "fund.from": ("起始日期", "From"),
    "fund.to": ("截止日期", "To"),
    "fund.date": ("日期", "Date"),
    "fund.amount": ("金额（元）", "Amount (yuan)"),
    "fund.reference": ("凭证号", "Reference"),
    "fund.note": ("备注", "Note"),
    "fund.record": ("登记收入或支出", "Record a receipt or a payment"),
    "fund.record_submit": ("登记", "Record"),
    "fund.saved": ("已登记。", "Recorded."),
    "fund.reverse": ("冲正", "Reverse"),
    "fund.reverse_prompt": ("冲正原因：", "Why is this record reversed?"),
    "fund.reversed": ("已冲正。", "Reversed."),
    "fund.reversal_of": ("冲正记录", "reverses a record"),
    "fund.reversed_by": ("已被冲正", "reversed"),
    "fund.no_records": ("没有符合条件的记录。", "No records match."),
    "fund.export_csv": ("导出 CSV", "Export CSV"),
    "fund.export_xlsx": ("导出 Excel", "Export Excel"),
    "fund.error": ("操作失败，请稍后再试。", "That did not work; try again shortly."),
    "fund.warning_ok": ("承诺的奖金已有资金覆盖。", "The prize money committed is covered."),
    "fund.statement": ("对账单", "Statement"),
    "fund.statement_title": ("赞助对账单", "Sponsor statement"),
    "fund.tier": ("级别", "Tier"),
    "fund.placements": ("冠名与展示", "Where the sponsor's name appears"),
    "fund.placements_where": ("赛事页面、成绩公告及直播字幕中均显示上述冠名。",
                              "Shown on the festival's pages, in the results and on the "
                              "livestream overlay."),
    "fund.prize_money": ("奖金", "prize money"),
    "fund.receipts": ("到账记录", "Receipts"),
    "fund.no_receipts": ("尚无到账记录。", "Nothing received yet."),
    "fund.generated": ("生成于 {time}", "Generated {time}"),
    "fund.pdf_zh": ("下载 PDF（中文）", "PDF (Chinese)"),
    "fund.pdf_en": ("下载 PDF（英文）", "PDF (English)"),
    "fund.shown": ("显示 {count} / {total} 条", "Showing {count} of {total}"),
    "fund.back": ("返回经费页", "Back to funding"),
    "fund.error_title": ("无法打开", "Cannot open"),
    "fund.error_not_found": ("找不到该活动。", "No such festival."),
}
for key, pair in SOURCES.items():
    MESSAGES[f"fund.source.{key}"] = pair
for key, pair in TIERS.items():
    MESSAGES[f"fund.tier.{key}"] = pair
for key, pair in ORIGINS.items():
    MESSAGES[f"fund.origin.{key}"] = pair
for key, pair in WARNINGS.items():
    MESSAGES[f"fund.warning.{key}"] = pair

register({"zh": {k: v[0] for k, v in MESSAGES.items()},
          "en": {k: v[1] for k, v in MESSAGES.items()}})
