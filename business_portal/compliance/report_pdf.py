"""Reports as PDF (reportlab): a title, a line of context, then each section as a table.

The text is set in DejaVu Sans (or Liberation / Noto Sans) when the system has it, since the
PDF base fonts have no ə, ğ or ı; without one, Helvetica is used and those letters may be lost.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from business_portal.compliance.report_files import Section

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/Library/Fonts"),
)
FONT_FILES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
)
ACCENT = colors.HexColor("#0f6b5c")
LINE = colors.HexColor("#e3e0d8")


@cache
def fonts() -> tuple[str, str]:
    """Register a font with Azerbaijani and Turkish letters; return (regular, bold) names."""
    for regular, bold in FONT_FILES:
        for folder in FONT_DIRS:
            if (folder / regular).is_file() and (folder / bold).is_file():
                pdfmetrics.registerFont(TTFont("EmanetSans", str(folder / regular)))
                pdfmetrics.registerFont(TTFont("EmanetSans-Bold", str(folder / bold)))
                return "EmanetSans", "EmanetSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", base["Title"], fontName=bold, textColor=ACCENT),
        "subtitle": ParagraphStyle("subtitle", base["Normal"], fontName=regular, fontSize=9.5),
        "heading": ParagraphStyle("heading", base["Heading2"], fontName=bold, spaceBefore=10),
        "cell": ParagraphStyle("cell", base["Normal"], fontName=regular, fontSize=9, leading=11.5),
        "head": ParagraphStyle("head", base["Normal"], fontName=bold, fontSize=9, leading=11.5),
    }


def _table(section: Section, styles: dict[str, ParagraphStyle], width: float) -> Table:
    columns = max(len(section.header), 1)
    data = [[Paragraph(escape(text), styles["head"]) for text in section.header]]
    data += [
        [Paragraph(escape(cell), styles["cell"]) for cell in (row + [""] * columns)[:columns]]
        for row in section.rows
    ]
    widths = (
        [width * 0.32] + [width * 0.68 / (columns - 1)] * (columns - 1) if columns > 1 else [width]
    )
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def sections_pdf(title: str, lines: list[str], sections: list[Section], author: str) -> bytes:
    """Return the report as an A4 PDF."""
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        subject=title,
    )
    story: list[object] = [Paragraph(escape(title), styles["title"])]
    story += [Paragraph(escape(line), styles["subtitle"]) for line in lines]
    for section in sections:
        story.append(Paragraph(escape(section.title), styles["heading"]))
        if section.rows:
            story.append(_table(section, styles, document.width))
        else:
            story.append(Paragraph("—", styles["cell"]))
        story.append(Spacer(1, 4 * mm))
    document.build(story)
    return buffer.getvalue()
