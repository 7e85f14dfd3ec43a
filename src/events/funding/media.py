"""A sponsor's statement as a PDF (A4), in Chinese or English.

The same CJK font as the PDF tickets (``EVENTS_TICKET_FONT_PATH``, Debian
``fonts-wqy-microhei``); without it the PDF is refused with ``503 ticket_font_missing``
rather than printed with missing glyphs.
"""

from pathlib import Path

from events.errors import ServiceUnavailable
from events.funding import schemas
from events.funding.charts import yuan
from events.web.i18n import Lang, translate


def statement_pdf(statement: schemas.SponsorStatement, font_path: Path, lang: Lang) -> bytes:
    if not font_path.is_file():
        raise ServiceUnavailable(
            f"The CJK font for PDFs is missing ({font_path}). Install Debian's "
            "fonts-wqy-microhei (make browser) or set EVENTS_TICKET_FONT_PATH.",
            code="ticket_font_missing",
        )

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    def pick(zh: str, en: str) -> str:
        return (zh or en) if lang == "zh" else (en or zh)

    sponsor = statement.sponsor
    from fpdf import FPDF  # imported when a PDF is made: 26 MiB less per worker
    from fpdf.enums import XPos, YPos

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("cjk", fname=str(font_path), collection_font_number=0)
    pdf.set_title(f"{sponsor.name_en} statement")
    pdf.set_creator("events")
    pdf.add_page()
    width = pdf.w - 36

    def line(text: str, size: float = 10, height: float = 6, align: str = "L") -> None:
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(label: str, value: str) -> None:
        pdf.set_font("cjk", size=10)
        pdf.cell(width * 0.6, 7, label, border="B")
        pdf.cell(width * 0.4, 7, value, border="B", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(pick(statement.festival_name_zh, statement.festival_name_en), 14, 8)
    line(t("fund.statement_title"), 12, 7)
    line(pick(sponsor.name_zh, sponsor.name_en), 18, 10)
    line(f"{t('fund.tier')}: {t('fund.tier.' + sponsor.tier)}", 10)
    pdf.ln(3)
    row(t("fund.pledged"), yuan(statement.pledged_fen))
    row(t("fund.received"), yuan(statement.received_fen))
    row(t("fund.outstanding"), yuan(statement.outstanding_fen))
    row(t("fund.in_kind"), yuan(statement.in_kind_value_fen))
    pdf.ln(4)
    if sponsor.in_kind:
        line(t("fund.in_kind_items"), 12, 7)
        for item in sponsor.in_kind:
            row(pick(item.description_zh, item.description_en), yuan(item.value_fen))
        pdf.ln(4)
    line(t("fund.placements"), 12, 7)
    for placement in statement.placements:
        label = pick(placement.label_zh, placement.label_en)
        prize = (
            f" · {t('fund.prize_money')} {yuan(placement.prize_fen)}" if placement.prize_fen else ""
        )
        line(f"· {label}{prize}", 10)
    line(t("fund.placements_where"), 9, 5)
    pdf.ln(4)
    line(t("fund.receipts"), 12, 7)
    if not statement.lines:
        line(t("fund.no_receipts"), 10)
    for entry in statement.lines:
        amount = yuan(entry.amount if entry.direction == "in" else -entry.amount)
        text = f"{entry.occurred_on.isoformat()}  {entry.reference or entry.note}"
        row(text[:60], amount)
    pdf.ln(6)
    pdf.set_text_color(95, 99, 104)
    line(t("fund.generated", time=statement.generated_at.strftime("%Y-%m-%d %H:%M UTC")), 8, 4)
    return bytes(pdf.output())
