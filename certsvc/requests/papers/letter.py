"""The consolidated proposal letter of a batch, as a PDF ready for token_agent.

:func:`build_letter_pdf`: the letter in the layout of Nghị định 30/2020 (Phụ lục I):
A4 portrait, Liberation Serif (Times New Roman metrics, full Vietnamese), issuing body top left, national
motto top right with its underline, ``Số:      /UBND-VHTT`` and the place-and-date line left blank, the
``V/v`` summary, ``Kính gửi:``, the body with the count of each request type and the total, and the
``Nơi nhận:`` list (with its ``Bản điện tử:`` part, as seed 002 sets it out) beside the signer block (kept
together: it moves whole onto the next page). The file carries the document metadata of Quyết định 28/2018
(:mod:`certsvc.requests.papers.letter_metadata`).
The file is ready for token_agent: it carries the empty text fields ``SoKyHieu`` and ``DiaDanhNgayThang``
over the number and date blanks, and the signature fields ``ChuKyCaNhan`` (the blank between the position
line and the signer's name) and ``ChuKyCoQuan`` (the seal, over its left third), made by token_agent's own
``prepare`` with the boxes this module laid out. So ``token-agent sign --role approve`` then
``--role issue`` sign it, the clerk's step filling number and date without breaking the leader's signature.

One printed document whose parts (heading, body, signer block, fields) are laid out against each other, so
they stay in one module past the usual 400 lines.

Pure: data in, bytes out. Bad input raises ValueError with a Vietnamese message.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

from certsvc.core.numbers import format_count
from token_agent.placement import BASELINE_DEPTH, Box

from .letter_metadata import DocumentRecord, with_metadata
from .text import (
    BOLD,
    BOLD_ITALIC,
    HEADER_SIZE,
    ITALIC,
    MM,
    REGULAR,
    Measure,
    check_text,
    register_fonts,
)

__all__ = [
    "DOCUMENT_TYPE",
    "MAX_DISTRIBUTION_ROWS",
    "LetterData",
    "build_letter_pdf",
    "build_letter_pdfs",
    "distribution_rows",
    "document_record",
]

#: The letter's document type (Nghị định 30/2020, Phụ lục III: a công văn has no abbreviation).
DOCUMENT_TYPE = "Công văn"

# Nghị định 30/2020, Phụ lục I: margins (top 20–25 mm, bottom 20–25 mm, left 30–35 mm, right 15–20 mm).
_LETTER_MARGINS = (20 * MM, 20 * MM, 30 * MM, 15 * MM)  # top, bottom, left, right
_LEFT_COLUMN = 70 * MM
"""Width of the issuing-body column (the number, the summary and ``Nơi nhận`` sit in it too)."""
_MOTTO_SIZE = 12.0
_BODY_SIZE = 14.0
_SUMMARY_SIZE = 12.0
_COPIES_SIZE = 11.0
_SIGNATURE_SPACE = 30 * MM
"""The blank between the position line and the signer's name, where the signature image goes."""
_INDENT = 10 * MM
_RULE_DROP = 6.5
"""How far below the baseline the rules under the issuing body and the motto go (clear of dots below)."""


@dataclass(frozen=True)
class LetterData:
    """What the consolidated proposal letter says (Nghị định 30/2020 layout)."""

    issuing_body_parent: str
    """The superior body's line above the issuing body, regular, e.g. ``UBND TỈNH LẠNG SƠN`` above ``SỞ NỘI VỤ``;
    ``""`` for none (a committee: its name in full is the issuing body)."""
    issuing_body: str
    """The issuing body's name, bold in full, ruled below, one line per ``\n`` (a line too long for the column
    wraps), e.g. ``ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN``."""
    symbol: str
    """The part after ``Số: …/``, e.g. ``UBND-VHTT``."""
    place: str
    """The place of the date line, e.g. ``Văn Quan``."""
    summary: str
    """``V/v …`` under the number (the ``V/v`` is added when missing)."""
    recipients: list[str]
    """``Kính gửi:`` one or several; several are listed as ``- name;`` (a given ``- `` or ``;`` is kept once)."""
    opening: str
    """The body's first paragraph (the legal basis); ``\\n\\n`` separates paragraphs."""
    counts: list[tuple[str, int]]
    """Per request type: its label and how many requests (the caller omits types with none)."""
    closing: str
    """The closing paragraph(s); ``\\n\\n`` separates paragraphs."""
    copies_to: list[str]
    """``Nơi nhận:`` lines as printed, e.g. ``["- Như trên;", "- Lưu: VT, VHTT."]``."""
    signer_authority: str
    """e.g. ``TM. ỦY BAN NHÂN DÂN``."""
    signer_title: str
    """e.g. ``KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH`` (one line per ``\\n``); ``""`` when the authority line is the
    position itself (the head signing: ``signer_authority="GIÁM ĐỐC"``)."""
    signer_name: str
    annex_reference: str | None = None
    """A line after the counts, e.g. ``(Chi tiết tại Phụ lục kèm theo)``; None prints nothing."""
    count_unit: str = "trường hợp"
    """The word after each count and the total: ``- Cấp mới …: 12 trường hợp;``."""
    electronic_copies_to: list[str] = field(default_factory=list)
    """The ``Bản điện tử:`` part of ``Nơi nhận``, lines as printed (those who get the letter electronically
    only, seed 002); empty prints no such part."""
    agency_code: str = ""
    """Mã định danh of the issuing body, for the file's metadata; ``""`` when it has none recorded."""
    issuing_body_name: str = ""
    """The issuing body as a sentence names it (``Ủy ban nhân dân huyện Văn Quan``), for the file's metadata;
    ``""``: the heading's lines."""
    reference: tuple[str, date] | None = None
    """The number and symbol (``193/UBND-VHTT``) and date the register gave, for the file's metadata (the page
    keeps its blanks: the clerk's step fills them); None before."""


def _check_letter(letter: LetterData) -> None:
    check_text(letter.issuing_body_parent, "Công văn, trường issuing_body_parent", required=False)
    for name in (
        "issuing_body",
        "symbol",
        "place",
        "summary",
        "opening",
        "closing",
        "signer_authority",
        "signer_name",
    ):
        check_text(getattr(letter, name), f"Công văn, trường {name}")
    check_text(letter.signer_title, "Công văn, trường signer_title", required=False)
    if letter.symbol.startswith("/") or " " in letter.symbol.strip():
        raise ValueError(
            f"Ký hiệu «{letter.symbol}» phải có dạng «UBND-VHTT» (không có dấu «/» đầu, không có dấu cách)."
        )
    if not letter.recipients:
        raise ValueError("Công văn phải có ít nhất một nơi nhận ở «Kính gửi».")
    for line in (*letter.recipients, *letter.copies_to, *letter.electronic_copies_to):
        check_text(line, "Công văn, nơi nhận")
    check_text(letter.agency_code, "Công văn, mã định danh", required=False)
    check_text(letter.issuing_body_name, "Công văn, tên cơ quan ban hành", required=False)
    if len(distribution_rows(letter.copies_to, letter.electronic_copies_to)) > MAX_DISTRIBUTION_ROWS:
        raise ValueError(f"«Nơi nhận» in ra dài quá {MAX_DISTRIBUTION_ROWS} dòng: bớt hoặc gộp nơi nhận.")
    if not letter.counts:
        raise ValueError("Công văn phải có số lượng của ít nhất một loại đề nghị.")
    for label, count in letter.counts:
        check_text(label, "Công văn, loại đề nghị")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"Số lượng đề nghị «{label}» phải là số nguyên không âm, không phải {count!r}.")
    if letter.annex_reference is not None:
        check_text(letter.annex_reference, "Công văn, annex_reference")


def _summary(letter: LetterData) -> str:
    return letter.summary if letter.summary.startswith("V/v") else f"V/v {letter.summary}"


#: How many printed lines ``Nơi nhận`` may take: with the signer block beside it, it stays well within a page.
MAX_DISTRIBUTION_ROWS = 40


def distribution_rows(copies_to: Sequence[str], electronic: Sequence[str] = ()) -> list[tuple[float, str, str]]:
    """``Nơi nhận``'s printed lines under its label, as (indent, text, font): each line wrapped to the left
    column (a long one goes on under its text, past the dash), then ``Bản điện tử:`` and its lines."""
    register_fonts()
    measure = Measure(REGULAR, _COPIES_SIZE)
    hanging = measure.word("-") + measure.space

    def wrapped(lines: Sequence[str]) -> list[tuple[float, str, str]]:
        return [
            (hanging if index else 0.0, part, REGULAR)
            for line in lines
            for index, part in enumerate(measure.wrap(line, _LEFT_COLUMN - 4 * MM - hanging))
        ]

    electronic_part = [(0.0, "Bản điện tử:", BOLD_ITALIC), *wrapped(electronic)] if electronic else []
    return [*wrapped(copies_to), *electronic_part]


@dataclass
class _Places:
    """Where the laid-out letter put the number, the date and the signature blank (filled while drawing)."""

    number: Box | None = None
    date: Box | None = None
    signature: Box | None = None


def _field_box(canvas: Canvas, x1: float, x2: float, baseline: float, size: float) -> Box:
    """token_agent's one-line text field box at this canvas position: font size = height / (1 + depth)."""
    left, bottom = canvas.absolutePosition(x1, baseline - BASELINE_DEPTH * size)
    right, top = canvas.absolutePosition(x2, baseline + size)
    return Box(canvas.getPageNumber() - 1, left, bottom, right, top)


def _centred_lines(
    canvas: Canvas, centre: float, top: float, lines: Sequence[tuple[str, float, str]], leading: float = 1.2
) -> float:
    """Draw (font, size, text) lines centred on ``centre`` from baseline ``top`` down; the last baseline."""
    y = top
    for index, (font, size, text) in enumerate(lines):
        if index:
            y -= size * leading
        canvas.setFont(font, size)
        canvas.drawCentredString(centre, y, text)
    return y


class _Header(Flowable):
    """Issuing body (left, wrapped to its column) and national motto (right), each with its rule, then
    ``Số:`` (left) and the date line (right) on one baseline, then the ``V/v`` summary under the number.
    Records the number and date field boxes."""

    _MOTTO = "Độc lập - Tự do - Hạnh phúc"

    def __init__(self, letter: LetterData, places: _Places) -> None:
        super().__init__()
        self.letter, self.places = letter, places
        self.body_block: list[tuple[str, float, str]] = []
        self.summary_lines: list[str] = []

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width, letter, column = available_width, self.letter, _LEFT_COLUMN - 4 * MM
        superior = letter.issuing_body_parent.strip().upper()
        self.body_block = [
            *(
                (REGULAR, HEADER_SIZE, line)
                for line in Measure(REGULAR, HEADER_SIZE).wrap(superior, column)
                if superior
            ),
            *(
                (BOLD, HEADER_SIZE, line)
                for part in letter.issuing_body.upper().splitlines()
                if part.strip()
                for line in Measure(BOLD, HEADER_SIZE).wrap(part.strip(), column)
            ),
        ]
        self.summary_lines = Measure(REGULAR, _SUMMARY_SIZE).wrap(_summary(letter), _LEFT_COLUMN - 6 * MM)
        self.height = (
            HEADER_SIZE
            + (len(self.body_block) - 1) * HEADER_SIZE * 1.2
            + _RULE_DROP
            + 22
            + 20
            + (len(self.summary_lines) - 1) * _SUMMARY_SIZE * 1.2
            + 8
        )
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        left, right = _LEFT_COLUMN / 2, _LEFT_COLUMN + (self.width - _LEFT_COLUMN) / 2
        first = self.height - HEADER_SIZE
        canvas.setLineWidth(0.6)
        last_body = _centred_lines(canvas, left, first, self.body_block)
        body_half = pdfmetrics.stringWidth(self.body_block[-1][2], BOLD, HEADER_SIZE) / 5  # rule: 2/5 of the line
        canvas.line(left - body_half, last_body - _RULE_DROP, left + body_half, last_body - _RULE_DROP)
        motto = _centred_lines(
            canvas,
            right,
            first,
            [(BOLD, _MOTTO_SIZE, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), (BOLD, HEADER_SIZE, self._MOTTO)],
        )
        motto_half = pdfmetrics.stringWidth(self._MOTTO, BOLD, HEADER_SIZE) / 2  # rule: as long as the line
        canvas.line(right - motto_half, motto - _RULE_DROP, right + motto_half, motto - _RULE_DROP)
        baseline = min(last_body, motto) - _RULE_DROP - 22
        self._number(left, baseline)
        self._date(right, baseline)
        _centred_lines(canvas, left, baseline - 20, [(REGULAR, _SUMMARY_SIZE, line) for line in self.summary_lines])

    def _number(self, centre: float, baseline: float) -> None:
        size, canvas = HEADER_SIZE, self.canv
        prefix, blank, symbol = "Số:", 3.2 * size, f"/{self.letter.symbol}"
        prefix_w = pdfmetrics.stringWidth(prefix, REGULAR, size)
        total = prefix_w + blank + pdfmetrics.stringWidth(symbol, REGULAR, size)
        x = max(centre - total / 2, 0.0)
        canvas.setFont(REGULAR, size)
        canvas.drawString(x, baseline, prefix)
        canvas.drawString(x + prefix_w + blank, baseline, symbol)
        start = x + prefix_w + 0.25 * size
        end = min(max(x + total + 4, start + 9 * size), _LEFT_COLUMN)
        self.places.number = _field_box(canvas, start, end, baseline, size)

    def _date(self, centre: float, baseline: float) -> None:
        size, canvas, place = _BODY_SIZE, self.canv, self.letter.place
        canvas.setFont(ITALIC, size)
        canvas.drawCentredString(centre, baseline, f"{place}, ngày       tháng       năm        ")
        longest = pdfmetrics.stringWidth(f"{place}, ngày 28 tháng 12 năm 2026", ITALIC, size)
        half = min(max(longest / 2 + size, 9 * size), self.width - centre)
        self.places.date = _field_box(canvas, centre - half, centre + half, baseline, size)


class _SignerBlock(Flowable):
    """``Nơi nhận:`` and its lines (left) beside the signer block (right): one piece, never split, so it
    moves whole onto the next page. Records the signature blank between the position and the name."""

    def __init__(self, letter: LetterData, places: _Places) -> None:
        super().__init__()
        self.letter, self.places = letter, places
        self.lines = [
            letter.signer_authority.upper(),
            *(line.strip().upper() for line in letter.signer_title.splitlines() if line.strip()),
        ]
        self.titles = self.lines
        self.copies = distribution_rows(letter.copies_to, letter.electronic_copies_to)

    def _left_height(self) -> float:
        return 12 + len(self.copies) * _COPIES_SIZE * 1.15 + 4

    def _right_height(self) -> float:
        return len(self.titles) * _BODY_SIZE * 1.2 + _SIGNATURE_SPACE + _BODY_SIZE + 6

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        # a long position ("CHÁNH VĂN PHÒNG HĐND VÀ UBND HUYỆN") wraps inside the block, not into the margin
        block = available_width - _LEFT_COLUMN - 2 * MM
        self.titles = [part for line in self.lines for part in Measure(BOLD, _BODY_SIZE).wrap(line, block)]
        self.height = max(self._left_height(), self._right_height()) + 6
        return self.width, self.height

    def draw(self) -> None:
        canvas, letter = self.canv, self.letter
        top = self.height - _BODY_SIZE
        canvas.setFont(BOLD_ITALIC, 12)
        canvas.drawString(0, top, "Nơi nhận:")
        y = top - 2
        for indent, line, font in self.copies:
            y -= _COPIES_SIZE * 1.15
            canvas.setFont(font, _COPIES_SIZE)
            canvas.drawString(indent, y, line)
        centre = _LEFT_COLUMN + (self.width - _LEFT_COLUMN) / 2
        last_title = _centred_lines(canvas, centre, top, [(BOLD, _BODY_SIZE, line) for line in self.titles])
        name_baseline = last_title - _SIGNATURE_SPACE - _BODY_SIZE
        canvas.setFont(BOLD, _BODY_SIZE)
        canvas.drawCentredString(centre, name_baseline, letter.signer_name)
        bottom, top_of_blank = name_baseline + _BODY_SIZE + 1, last_title - 0.3 * _BODY_SIZE - 1
        widest = max(pdfmetrics.stringWidth(text, BOLD, _BODY_SIZE) for text in (*self.titles, letter.signer_name))
        half = min(max(widest, 2.2 * (top_of_blank - bottom)) / 2, self.width - centre)
        x1, y1 = canvas.absolutePosition(centre - half, bottom)
        x2, y2 = canvas.absolutePosition(centre + half, top_of_blank)
        self.places.signature = Box(canvas.getPageNumber() - 1, x1, y1, x2, y2)


def _paragraph_style(name: str, **overrides: Any) -> ParagraphStyle:
    base: dict[str, Any] = dict(
        fontName=REGULAR,
        fontSize=_BODY_SIZE,
        leading=_BODY_SIZE * 1.25,
        alignment=TA_JUSTIFY,
        firstLineIndent=_INDENT,
        spaceAfter=6,
    )
    return ParagraphStyle(name, **(base | overrides))


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    return [Paragraph(escape(" ".join(part.split())), style) for part in text.split("\n\n") if part.strip()]


def _unbroken_parts(name: str, width: float, measure: Measure) -> str:
    """``name`` with each part between " - " kept on one line when it fits: a line breaks between the parts
    of a compound name ("Cục … Bảo mật thông tin - Ban Cơ yếu Chính phủ"), not inside one."""
    return " - ".join(
        part.replace(" ", "\u00a0") if measure.line(part) <= width else part for part in name.split(" - ")
    )


def _recipients(letter: LetterData, width: float) -> Table:
    """``Kính gửi:`` and the recipient(s) beside it; several are listed ``- name;`` … ``- name.``, a name's
    next lines indented past its dash."""
    names = [name.strip().removeprefix("-").strip().rstrip(";.").strip() for name in letter.recipients]
    measure = Measure(REGULAR, _BODY_SIZE)
    hanging = 0.0
    if len(names) > 1:
        names = [f"- {name}{'.' if index == len(names) - 1 else ';'}" for index, name in enumerate(names)]
        hanging = measure.line("- ")
    style = _paragraph_style("recipient", firstLineIndent=-hanging, leftIndent=hanging, alignment=TA_LEFT, spaceAfter=0)
    label_width = pdfmetrics.stringWidth("Kính gửi: ", REGULAR, _BODY_SIZE) + 4
    names_width = min(max(measure.line(name) for name in names) + 8, width * 0.75 - label_width)
    table = Table(
        [
            [
                "Kính gửi:",
                [Paragraph(escape(_unbroken_parts(name, names_width - hanging, measure)), style) for name in names],
            ]
        ],
        colWidths=[label_width, names_width],
        hAlign="CENTER",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, _BODY_SIZE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _page_number(canvas: Canvas, document: BaseDocTemplate) -> None:
    """From page 2: the page number centred in the top margin (Nghị định 30/2020, Phụ lục I)."""
    if canvas.getPageNumber() > 1:
        canvas.saveState()
        canvas.setFont(REGULAR, HEADER_SIZE)
        width, height = document.pagesize
        canvas.drawCentredString(width / 2, height - 12 * MM, str(canvas.getPageNumber()))
        canvas.restoreState()


def _letter_story(letter: LetterData, places: _Places, width: float) -> list[Flowable]:
    body = _paragraph_style("body")
    count_style = _paragraph_style("count", spaceAfter=2)
    unit = escape(letter.count_unit)
    counts = [
        Paragraph(f"- {escape(label)}: {format_count(count)} {unit};", count_style) for label, count in letter.counts
    ]
    total = sum(count for _label, count in letter.counts)
    story: list[Flowable] = [
        _Header(letter, places),
        Spacer(1, 8),
        _recipients(letter, width),
        Spacer(1, 10),
        *_paragraphs(letter.opening, body),
        *counts,
        Paragraph(f"<b>Tổng cộng: {format_count(total)} {unit}.</b>", body),
    ]
    if letter.annex_reference:
        story.append(Paragraph(f"<i>{escape(letter.annex_reference)}</i>", body))
    story += [*_paragraphs(letter.closing, body), Spacer(1, 6), _SignerBlock(letter, places)]
    return story


def _letter_layout(letter: LetterData) -> tuple[bytes, _Places]:
    """The plain letter (no form fields yet) and where its number, date and signature blank are."""
    register_fonts()
    top, bottom, left, right = _LETTER_MARGINS
    buffer, places = io.BytesIO(), _Places()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=left,
        rightMargin=right,
        topMargin=top,
        bottomMargin=bottom,
        initialFontName=REGULAR,
        initialFontSize=_BODY_SIZE,
    )
    frame = Frame(
        left,
        bottom,
        A4[0] - left - right,
        A4[1] - top - bottom,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_page_number)])
    document.build(_letter_story(letter, places, frame.width))
    return buffer.getvalue(), places


def document_record(letter: LetterData) -> DocumentRecord:
    """The letter's metadata of Quyết định 28/2018: the signer's position is the last line above the name,
    the lines above it the authority (``TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH``)."""
    lines = [line.strip() for line in (letter.signer_authority, *letter.signer_title.splitlines()) if line.strip()]
    number_and_symbol, day = letter.reference or (None, None)
    return DocumentRecord(
        agency_code=letter.agency_code.strip(),
        issuing_body=letter.issuing_body_name.strip() or " ".join(letter.issuing_body.split()),
        document_type=DOCUMENT_TYPE,
        symbol=letter.symbol.strip(),
        summary=_summary(letter),
        place=letter.place.strip(),
        signer_authority=" / ".join(lines[:-1]),
        signer_position=lines[-1],
        signer_name=letter.signer_name.strip(),
        number_and_symbol=number_and_symbol,
        issue_date=day,
    )


def build_letter_pdfs(letter: LetterData) -> tuple[bytes, bytes]:
    """The consolidated proposal letter twice: as laid out (the draft, as a word processor exports it), and
    prepared for signing with the empty number and date text fields and the two signature fields token_agent
    fills and signs (names from :mod:`token_agent.signing`), over the boxes this module laid out. Both carry
    the document metadata (:func:`document_record`); the later revisions keep it."""
    _check_letter(letter)
    layout, places = _letter_layout(letter)
    assert places.number and places.date and places.signature
    pdf = with_metadata(layout, document_record(letter))
    from token_agent import signing  # pyHanko and PKCS#11: loaded only when a letter is made

    prepared = signing.prepare(pdf, number_box=places.number, date_box=places.date, signature_box=places.signature)
    return pdf, prepared.pdf


def build_letter_pdf(letter: LetterData) -> bytes:
    """The consolidated proposal letter prepared for signing (see :func:`build_letter_pdfs`)."""
    return build_letter_pdfs(letter)[1]
