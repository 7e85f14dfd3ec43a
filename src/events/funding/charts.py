"""The funding page's two charts, drawn on the server as SVG (no script, no library).

- ``by_source_svg``: net money per funding source (income sources and prize payouts).
- ``coverage_svg``: prize money committed against money received, pledged and given in
  kind, with the shortfall when there is one.

Text is escaped; sizes are fixed so that the SVG scales to the phone's width.
"""

from html import escape

from events.funding import schemas
from events.money import format_money
from events.web.i18n import Lang, translate

WIDTH = 360
BAR = 22
GAP = 12
LABEL_W = 118
COLOURS = {
    "self_raised": "#1f6feb",
    "entry_fees": "#1a7f37",
    "sponsorship": "#bf8700",
    "ticket_revenue": "#8250df",
    "other": "#57606a",
    "prize_payout": "#cf222e",
}


def yuan(fen: int) -> str:
    """A chart label: whole yuan when there are no fen (the exact fen are in the tables)."""
    return format_money(fen, "CNY", trim=True)


def _bars(rows: list[tuple[str, int, str, str]], title: str, testid: str) -> str:
    """Horizontal bars: (label, value fen, colour, key) each."""
    top = max((abs(v) for _, v, _, _ in rows), default=0) or 1
    span = WIDTH - LABEL_W - 84
    height = GAP + len(rows) * (BAR + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" data-testid="{testid}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value, colour, key) in enumerate(rows):
        y = GAP + i * (BAR + GAP)
        width = 0 if value == 0 else max(2, round(abs(value) * span / top))
        parts.append(
            f'<g data-key="{escape(key)}" data-fen="{value}">'
            f'<text x="{LABEL_W - 6}" y="{y + BAR * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR}" rx="3" '
            f'fill="{colour}"/>'
            f'<text x="{LABEL_W + width + 4}" y="{y + BAR * 0.7:.1f}" font-size="11">'
            f"{escape(yuan(value))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def by_source_svg(summary: schemas.FundingSummary, lang: Lang) -> str:
    rows = [
        (
            translate(lang, f"fund.source.{s.source}"),
            s.net_fen,
            COLOURS.get(s.source, "#57606a"),
            s.source,
        )
        for s in summary.by_source
        if s.records
    ]
    return _bars(rows, translate(lang, "fund.chart_by_source"), "chart-by-source")


def coverage_svg(summary: schemas.FundingSummary, lang: Lang) -> str:
    c, p = summary.coverage, summary.prize_money
    rows = [
        (translate(lang, "fund.committed"), p.committed_fen, "#cf222e", "committed"),
        (translate(lang, "fund.income"), c.income_fen, "#1a7f37", "income"),
        (
            translate(lang, "fund.pledged_outstanding"),
            c.pledged_outstanding_fen,
            "#bf8700",
            "pledged",
        ),
        (translate(lang, "fund.in_kind"), c.in_kind_contributed_fen, "#8250df", "in_kind"),
    ]
    if c.cash_shortfall_fen:
        rows.append(
            (translate(lang, "fund.shortfall"), c.cash_shortfall_fen, "#82071e", "shortfall")
        )
    return _bars(rows, translate(lang, "fund.chart_coverage"), "chart-coverage")
