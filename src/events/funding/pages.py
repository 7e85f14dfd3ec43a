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
from events.web.i18n import N_, Lang, request_lang, translate
from events.web.pages import page

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def labels(lang: Lang) -> dict[str, dict[str, str]]:
    """Sources, origins and tiers by code, in the page's language (for the script)."""
    return {
        group: {code: translate(lang, f"fund.{group}.{code}") for code in codes}
        for group, codes in (
            ("source", SOURCES),
            ("origin", ORIGINS),
            ("tier", TIERS),
            ("warning", WARNINGS),
        )
    }


class FundingPageController(Controller):
    include_in_schema = False

    @get(
        "/festivals/{festival_id:str}/funding",
        operation_id="FundingPage",
        summary="Funding for organisers (page)",
    )
    async def funding(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "funding/error.html")
        if isinstance(festival, Template):
            return festival
        response = page(
            request,
            "funding/funding.html",
            festival=festival,
            sources=[s.value for s in FundingSource],
            manual_sources=[s.value for s in FundingSource if s in MANUAL_SOURCES],
            labels=labels(request_lang(request)),
            config={"festival_id": festival.id, "timezone": festival.timezone},
        )
        response.headers.update(NO_STORE)
        return response

    @get(
        "/festivals/{festival_id:str}/sponsors/{sponsor_id:str}/statement",
        operation_id="SponsorStatementPage",
        summary="A sponsor's statement (page)",
    )
    async def statement(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        sponsor_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        festival = await festival_or_error(request, db_session, festival_id, "funding/error.html")
        if isinstance(festival, Template):
            return festival
        response = page(
            request,
            "funding/statement.html",
            festival=festival,
            labels=labels(request_lang(request)),
            config={"festival_id": festival.id, "sponsor_id": sponsor_id},
        )
        response.headers.update(NO_STORE)
        return response


SOURCES = ("self_raised", "entry_fees", "sponsorship", "ticket_revenue", "other", "prize_payout")
TIERS = ("title", "gold", "silver", "bronze", "community", "in_kind")
ORIGINS = ("manual", "payment", "refund", "payout", "reversal")
WARNINGS = ("commitments_exceed_funds", "in_kind_prizes_not_covered", "owed_exceeds_balance")
"""Codes whose labels are ``fund.<group>.<code>`` in the catalogs."""

# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("fund.filter"),
    N_("fund.origin.manual"),
    N_("fund.origin.payment"),
    N_("fund.origin.payout"),
    N_("fund.origin.refund"),
    N_("fund.origin.reversal"),
    N_("fund.source.entry_fees"),
    N_("fund.source.other"),
    N_("fund.source.prize_payout"),
    N_("fund.source.self_raised"),
    N_("fund.source.sponsorship"),
    N_("fund.source.ticket_revenue"),
    N_("fund.summary"),
    N_("fund.tier"),
    N_("fund.tier.bronze"),
    N_("fund.tier.community"),
    N_("fund.tier.gold"),
    N_("fund.tier.in_kind"),
    N_("fund.tier.silver"),
    N_("fund.tier.title"),
    N_("fund.warning.commitments_exceed_funds"),
    N_("fund.warning.in_kind_prizes_not_covered"),
    N_("fund.warning.owed_exceeds_balance"),
)
