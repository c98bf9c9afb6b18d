"""The page frame the custody register's papers share (the minutes and the yearly book): fonts and styles, the
heading of Nghị định 30/2020 (Phụ lục I) for the issuing body, the secrecy marking, signature blocks and the
page numbers.

The heading is two rows of two columns, so that what ND30 sets side by side stays level: the issuing body
(its superior's line, regular, when it has one, then its own name bold in full, ruled below) beside the
national motto (ruled below); then the number and symbol ``Số:      /BB-UBND``, with "MẬT" framed under it,
beside the place-and-date line. The number is left blank: the clerk numbers the signed paper in the body's
series of secret documents. Later pages carry "MẬT" in their top left corner. Text is set in Liberation
Serif (Times New Roman metrics, full Vietnamese), as token_agent does.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from certsvc.orgs.models import Organisation
from certsvc.orgs.names import header_names, place_name
from certsvc.timeutil import to_vietnam
from token_agent.appearance import BOLD, ITALIC, MM, REGULAR, register_fonts

__all__ = [
    "BODY",
    "CELL",
    "CELL_BOLD",
    "CENTER",
    "CENTER_BOLD",
    "NBSP",
    "PageDrawing",
    "SMALL",
    "TITLE",
    "Signer",
    "build",
    "dated",
    "heading",
    "para",
    "signatures",
    "style",
]

_RED = colors.HexColor("#b3261e")
NBSP = "\u00a0"
_HEADER_SIZE = 12.5
_MOTTO = "Độc lập - Tự do - Hạnh phúc"
#: Room between a signer's title and name for the handwritten signature.
_SIGNING_ROOM = 28 * MM


def style(name: str, font: str = REGULAR, size: float = 13, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.22, **extra)


BODY = style("body", alignment=TA_JUSTIFY, spaceAfter=3, firstLineIndent=10 * MM)
CENTER = style("center", alignment=TA_CENTER)
CENTER_BOLD = style("center_bold", BOLD, alignment=TA_CENTER)
TITLE = style("title", BOLD, 14, alignment=TA_CENTER, spaceBefore=12)
SMALL = style("small", size=9.5)
CELL = style("cell", size=11)
CELL_BOLD = style("cell_bold", BOLD, size=11)
_HEAD = style("head", size=_HEADER_SIZE, alignment=TA_CENTER)
_HEAD_BOLD = style("head_bold", BOLD, _HEADER_SIZE, alignment=TA_CENTER)
_DATE = style("date", ITALIC, 13, alignment=TA_CENTER)
_FORM_CODE = style("form_code", BOLD, 12, alignment=TA_RIGHT)
_NUMBER = style("number", size=13, alignment=TA_CENTER)
_MARK = style("mark", BOLD, 13, alignment=TA_CENTER, textColor=_RED)


@functools.cache
def _fonts() -> None:
    register_fonts()
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


def para(text: object, paragraph_style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text (escaped; a ``\\n`` breaks the line)."""
    _fonts()
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), paragraph_style)


def dated(moment: datetime, place: str | None = None) -> str:
    """``Văn Quan, ngày 05 tháng 01 năm 2026``: day below 10 and months 1 and 2 with a leading zero."""
    local = to_vietnam(moment)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    text = f"ngày {local.day:02d} tháng {month} năm {local.year}"
    return f"{place}, {text}" if place else text.capitalize()


def _rule(width: float) -> HRFlowable:
    return HRFlowable(width=width, thickness=0.6, color=colors.black, spaceBefore=3, spaceAfter=4, hAlign="CENTER")


def _mark() -> Table:
    """ "MẬT" in a red frame, centred under the number and symbol."""
    stamp = Table([[para("MẬT", _MARK)]], colWidths=[20 * MM], hAlign="CENTER")
    stamp.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.4, _RED), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return stamp


def heading(
    org: Organisation,
    *,
    symbol: str | None = None,
    moment: datetime | None = None,
    form_code: str | None = None,
    width: float = 160 * MM,
) -> list[Flowable]:
    """The ND30 heading for ``org``, ``width`` wide: ``Số:      /{symbol}`` and the date line of ``moment``
    when given; the form's code (``Mẫu 08``) on a line of its own above, so that both columns start level."""
    superior, name = header_names(org)
    left: list[Flowable] = [para(superior, _HEAD)] if superior else []
    left += [para(name, _HEAD_BOLD), _rule(22 * MM)]
    right: list[Flowable] = [
        para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _HEAD_BOLD),
        para(_MOTTO, style("motto", BOLD, 13, alignment=TA_CENTER)),
        _rule(pdfmetrics.stringWidth(_MOTTO, BOLD, 13)),
    ]
    # The blank where the clerk writes the number: spaces that the paragraph does not collapse.
    number = [para(f"Số:{NBSP * 14}/{symbol}", _NUMBER)] if symbol else []
    table = Table(
        [[left, right], [[*number, _mark()], para(dated(moment, place_name(org)), _DATE) if moment else ""]],
        colWidths=[width * 0.425, width * 0.575],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [para(form_code, _FORM_CODE), table] if form_code else [table]


@dataclass(frozen=True)
class Signer:
    """One signature block: its title lines (bold), an optional position line under them, the name (bold)."""

    title: str
    name: str | None = None
    position: str | None = None


def signatures(signers: Sequence[Signer], width: float = 160 * MM) -> Table:
    """Signature blocks side by side: titles, the hint, room to sign, the names, each on its own row."""
    hint = style("hint", ITALIC, 12, alignment=TA_CENTER)
    title_rows: list[list[Flowable | str]] = [
        [para(s.title, CENTER_BOLD) for s in signers],
        [para(s.position or "", CENTER) for s in signers],
        [para("(Ký, ghi rõ họ tên)", hint) for _ in signers],
        ["" for _ in signers],
        [para(s.name or "", CENTER_BOLD) for s in signers],
    ]
    has_position = any(s.position for s in signers)
    rows = title_rows if has_position else [title_rows[0], *title_rows[2:]]
    heights: list[float | None] = [None] * len(rows)
    heights[-2] = _SIGNING_ROOM
    return Table(
        rows,
        colWidths=[width / len(signers)] * len(signers),
        rowHeights=heights,
        style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
    )


#: Draws on a page's canvas: ``(canvas, doc)``, as reportlab's page callbacks.
PageDrawing = Callable[[Canvas, BaseDocTemplate], None]


def _marking(canvas: Canvas, doc: BaseDocTemplate) -> None:
    """From page 2: the secrecy marking top left (page 1 has it under the number)."""
    if doc.page == 1:
        return
    canvas.saveState()
    _, height = doc.pagesize
    x, y = doc.leftMargin, height - 12 * MM
    canvas.setStrokeColor(_RED)
    canvas.setFillColor(_RED)
    canvas.setLineWidth(1.4)
    canvas.rect(x, y - 2.5 * MM, 20 * MM, 8 * MM)
    canvas.setFont(BOLD, 13)
    canvas.drawCentredString(x + 10 * MM, y, "MẬT")
    canvas.restoreState()


def _page_number(canvas: Canvas, doc: BaseDocTemplate) -> None:
    canvas.saveState()
    width, _ = doc.pagesize
    canvas.setFont(REGULAR, 9)
    canvas.drawRightString(width - doc.rightMargin, 8 * MM, f"Trang {doc.page}")
    canvas.restoreState()


def build(
    story: list[Flowable], pagesize=A4, title: str = "", footer: PageDrawing | None = None, footer_height: float = 0
) -> bytes:
    """The PDF of ``story``: ND30 margins (left 30 mm, right 20 mm), the marking on later pages, page numbers
    and, on every page, ``footer`` drawn in a bottom margin ``footer_height`` taller."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=30 * MM,
        rightMargin=20 * MM,
        topMargin=18 * MM,
        bottomMargin=14 * MM + footer_height,
        title=title,
        author="certsvc",
    )

    def page(canvas: Canvas, document: BaseDocTemplate) -> None:
        _marking(canvas, document)
        _page_number(canvas, document)
        if footer is not None:
            footer(canvas, document)

    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()
