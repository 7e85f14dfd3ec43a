"""Ticket media: the QR code (SVG, PNG) and a printable PDF ticket in Chinese and English.

The QR holds the signed token in alphanumeric mode (base32 upper case), error correction
M: a day ticket is a version 6 symbol (41 modules). The PDF uses a CJK font from the
settings (``ticket_font_path``, Debian ``fonts-wqy-microhei``); without it a PDF is
refused with ``503 ticket_font_missing`` rather than printed with missing glyphs.
Tibetan names (``name_bo``) are printed in a Tibetan font (``ticket_tibetan_font_path``,
Debian ``fonts-tibetan-machine``) through HarfBuzz (uharfbuzz), which stacks the letters;
without that font the Tibetan lines are left out rather than printed as boxes.
"""

import io
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.image.svg

from events.errors import ServiceUnavailable
from events.money import format_money
from events.ticketing.mappers import TicketMedia
from events.web.statuses import status_labels


def _qr(token: str, border: int = 4) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, box_size=10
    )
    code.add_data(token, optimize=0)  # one alphanumeric segment
    code.make(fit=True)
    return code


def qr_png(token: str, *, box_size: int = 8) -> bytes:
    code = _qr(token)
    code.box_size = box_size
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> bytes:
    image = _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def ticket_pdf(media: TicketMedia, font_path: Path, tibetan_font_path: Path | None = None) -> bytes:
    """One A6 page: festival, ticket type, enclosure, day(s), price, and a large QR."""
    if not font_path.is_file():
        raise ServiceUnavailable(
            f"The CJK font for PDF tickets is missing ({font_path}). Install Debian's "
            "fonts-wqy-microhei (make browser) or set EVENTS_TICKET_FONT_PATH.",
            code="ticket_font_missing",
        )
    ticket = media.ticket
    from fpdf import FPDF  # imported when a PDF is made: 26 MiB less per worker
    from fpdf.enums import XPos, YPos

    pdf = FPDF(orientation="portrait", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(8, 8, 8)
    pdf.add_font("cjk", fname=str(font_path), collection_font_number=0)
    tibetan = tibetan_font_path is not None and tibetan_font_path.is_file()
    if tibetan:
        pdf.add_font("tibetan", fname=str(tibetan_font_path))
    pdf.set_title(f"{media.festival_name_en} ticket")
    pdf.set_creator("events")
    pdf.add_page()
    width = pdf.w - 16

    def line(text: str, size: float, height: float) -> None:
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def tibetan_line(text: str, size: float, height: float) -> None:
        """Tibetan, shaped (stacked consonants, vowel signs) by HarfBuzz."""
        if not (tibetan and text):
            return
        pdf.set_text_shaping(use_shaping_engine=True, script="tibt", language="bod")
        pdf.set_font("tibetan", size=size)
        pdf.multi_cell(width, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_shaping(use_shaping_engine=False)

    tibetan_line(media.festival_name_bo, 12, 6.5)
    line(media.festival_name_zh, 12, 6)
    line(media.festival_name_en, 7.5, 4)
    pdf.ln(1.5)
    tibetan_line(ticket.name_bo, 10.5, 6)
    line(f"{ticket.name_zh}  ·  {ticket.enclosure.name_zh}", 10.5, 5.5)
    line(f"{ticket.name_en} · {ticket.enclosure.name_en}", 7.5, 4)
    days = "、".join(f"{d.date.month}月{d.date.day}日" for d in ticket.days)
    days_en = ", ".join(d.date.strftime("%d %b %Y") for d in ticket.days)
    line(days, 10, 5)
    line(days_en, 7.5, 4)
    qr_size = 62.0
    pdf.image(
        io.BytesIO(qr_png(ticket.token, box_size=6)),
        x=(pdf.w - qr_size) / 2,
        y=pdf.get_y() + 2,
        w=qr_size,
        h=qr_size,
    )
    pdf.set_y(pdf.get_y() + qr_size + 3)
    if ticket.status != "valid":
        zh, en = status_labels("ticket", ticket.status)
        pdf.set_text_color(179, 38, 30)
        line(f"{zh} {en.upper()}", 12, 6)
        pdf.set_text_color(0, 0, 0)
    audience = "儿童票 Child · " if ticket.audience == "child" else ""
    line(f"{audience}{format_money(ticket.price, ticket.currency)}", 8, 4)
    line("入场请出示此二维码 · Show this code at the gate", 7.5, 4)
    if media.venue_zh or media.venue_en:
        line(media.venue_zh or media.venue_en, 7, 4)
    pdf.set_font("cjk", size=6)
    pdf.set_text_color(95, 99, 104)
    pdf.multi_cell(width, 3, f"{ticket.id} · #{ticket.serial}", align="C")
    return bytes(pdf.output())
