"""The documents of a consolidation batch: the proposal letter, its annex (PDF, XLSX, CSV).

Pure functions: data in, bytes out; no Flask, no database.

- :func:`build_letter_pdf`: the consolidated proposal letter in the layout of Nghị định 30/2020 (Phụ lục I):
  A4 portrait, Liberation Serif (Times New Roman metrics, full Vietnamese), issuing body top left, national
  motto top right with its underline, ``Số:      /UBND-VHTT`` and the place-and-date line left blank, the
  ``V/v`` summary, ``Kính gửi:``, the body with the count of each request type and the total, and the
  ``Nơi nhận:`` list beside the signer block (kept together: it moves whole onto the next page).
  The file is ready for token_agent: it carries the empty text fields ``SoKyHieu`` and ``DiaDanhNgayThang``
  over the number and date blanks, and the signature fields ``ChuKyCaNhan`` (the blank between the position
  line and the signer's name) and ``ChuKyCoQuan`` (the seal, over its left third), made by token_agent's own
  ``prepare`` with the boxes this module laid out. So ``token-agent sign --role approve`` then
  ``--role issue`` sign it, the clerk's step filling number and date without breaking the leader's signature.
- :func:`build_annex_pdf`: A4 landscape, one table per request type, header row repeated on every page,
  long cells wrapped. Rows are drawn directly on the canvas (not Platypus tables): 10,000 rows take a
  fraction of a second.
- :func:`build_annex_xlsx`: one sheet per table; :func:`build_annex_csv`: one CSV for all tables;
  :func:`build_annex_csv_zip`: one CSV per table in a ZIP.

Row numbers: every builder adds the ``STT`` column itself (1, 2, … in each table); the tables' own
columns must not include it. Bad input raises ValueError with a Vietnamese message naming the table, row
and column.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

from certsvc.core.csvcells import neutralise
from certsvc.core.numbers import format_count
from token_agent import appearance
from token_agent.placement import BASELINE_DEPTH, Box

__all__ = [
    "AnnexTable",
    "LetterData",
    "NUMBER_COLUMN",
    "build_letter_pdf",
    "build_annex_pdf",
    "build_annex_xlsx",
    "build_annex_csv",
    "build_annex_csv_zip",
    "format_count",
]

MM = appearance.MM
REGULAR, BOLD, ITALIC = appearance.REGULAR, appearance.BOLD, appearance.ITALIC
BOLD_ITALIC = "LiberationSerif-BoldItalic"
NUMBER_COLUMN = "STT"
"""The row-number column every builder adds first to every table."""

# Nghị định 30/2020, Phụ lục I: margins (top 20–25 mm, bottom 20–25 mm, left 30–35 mm, right 15–20 mm).
_LETTER_MARGINS = (20 * MM, 20 * MM, 30 * MM, 15 * MM)  # top, bottom, left, right
_ANNEX_MARGINS = (20 * MM, 15 * MM, 20 * MM, 15 * MM)
_LEFT_COLUMN = 70 * MM
"""Width of the issuing-body column (the number, the summary and ``Nơi nhận`` sit in it too)."""
_HEADER_SIZE = 13.0
_MOTTO_SIZE = 12.0
_BODY_SIZE = 14.0
_SUMMARY_SIZE = 12.0
_COPIES_SIZE = 11.0
_SIGNATURE_SPACE = 30 * MM
"""The blank between the position line and the signer's name, where the signature image goes."""
_INDENT = 10 * MM
_RULE_DROP = 6.5
"""How far below the baseline the rules under the issuing body and the motto go (clear of dots below)."""
_TABLE_SIZE = 10.0
_TABLE_LEADING = 12.0
_CELL_PAD = 3.0
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31


# --- data ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnnexTable:
    """One table of the annex: the requests of one type, one row each.

    ``columns`` are the Vietnamese headers WITHOUT ``STT`` (the builders number the rows); every row has
    exactly one string per column (``""`` for nothing; ``\\n`` starts a new line in the cell).
    """

    title: str
    """e.g. ``Bảng 1. Đề nghị cấp mới chứng thư số cho cá nhân (Mẫu 01)``."""
    columns: list[str]
    rows: list[list[str]]
    sheet_name: str | None = None
    """The XLSX sheet (and CSV file in the ZIP) name; None derives it from the title (≤ 31 characters)."""


@dataclass(frozen=True)
class LetterData:
    """What the consolidated proposal letter says (Nghị định 30/2020 layout)."""

    issuing_body_parent: str
    """First line of the issuing body block, e.g. ``ỦY BAN NHÂN DÂN`` (upper case, regular)."""
    issuing_body: str
    """Second line, bold and underlined, e.g. ``HUYỆN VĂN QUAN``."""
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


# --- validation ----------------------------------------------------------------------------------------

def _check_text(value: object, where: str, *, required: bool = True) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{where}: phải là chuỗi ký tự, không phải {type(value).__name__}.")
    if required and not value.strip():
        raise ValueError(f"{where}: không được để trống.")
    if _CONTROL.search(value):
        raise ValueError(f"{where}: có ký tự điều khiển không in được.")


def _check_tables(tables: Sequence[AnnexTable]) -> None:
    """Raise ValueError unless there is at least one well-formed table."""
    if not tables:
        raise ValueError("Phụ lục phải có ít nhất một bảng.")
    for number, table in enumerate(tables, 1):
        if not isinstance(table, AnnexTable):
            raise ValueError(f"Bảng thứ {number} không phải AnnexTable.")
        _check_text(table.title, f"Tên bảng thứ {number}")
        name = f"Bảng «{table.title}»"
        if not table.columns:
            raise ValueError(f"{name} không có cột nào.")
        for column in table.columns:
            _check_text(column, f"{name}, tên cột")
        if NUMBER_COLUMN in table.columns:
            raise ValueError(f"{name}: không đưa cột «{NUMBER_COLUMN}» vào columns, cột này được tự đánh số.")
        if len(set(table.columns)) != len(table.columns):
            raise ValueError(f"{name} có tên cột trùng nhau.")
        width = len(table.columns)
        for index, row in enumerate(table.rows, 1):
            if len(row) != width:
                raise ValueError(f"{name}, dòng {index}: có {len(row)} ô, cần đúng {width} ô "
                                 f"({', '.join(table.columns)}).")
            for column, cell in zip(table.columns, row, strict=True):
                if type(cell) is not str or _CONTROL.search(cell):
                    _check_text(cell, f"{name}, dòng {index}, cột «{column}»", required=False)


def _check_letter(letter: LetterData) -> None:
    for name in ("issuing_body_parent", "issuing_body", "symbol", "place", "summary", "opening", "closing",
                 "signer_authority", "signer_name"):
        _check_text(getattr(letter, name), f"Công văn, trường {name}")
    _check_text(letter.signer_title, "Công văn, trường signer_title", required=False)
    if letter.symbol.startswith("/") or " " in letter.symbol.strip():
        raise ValueError(f"Ký hiệu «{letter.symbol}» phải có dạng «UBND-VHTT» "
                         "(không có dấu «/» đầu, không có dấu cách).")
    if not letter.recipients:
        raise ValueError("Công văn phải có ít nhất một nơi nhận ở «Kính gửi».")
    for line in (*letter.recipients, *letter.copies_to):
        _check_text(line, "Công văn, nơi nhận")
    if not letter.counts:
        raise ValueError("Công văn phải có số lượng của ít nhất một loại đề nghị.")
    for label, count in letter.counts:
        _check_text(label, "Công văn, loại đề nghị")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"Số lượng đề nghị «{label}» phải là số nguyên không âm, không phải {count!r}.")
    if letter.annex_reference is not None:
        _check_text(letter.annex_reference, "Công văn, annex_reference")


# --- fonts and text measuring --------------------------------------------------------------------------

@functools.cache
def _register_fonts() -> None:
    """Liberation Serif under token_agent's names (its fill step reads the font from the fields), plus bold
    italic, and the family so that Paragraph markup <b>/<i> finds them."""
    appearance.register_fonts()
    pdfmetrics.registerFont(TTFont(BOLD_ITALIC, str(appearance.font_file(REGULAR).with_name(
        "LiberationSerif-BoldItalic.ttf"))))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)


class _Measure:
    """Text widths in one font and size, cached per word (the annex repeats its words many times)."""

    def __init__(self, font: str, size: float) -> None:
        self.font, self.size = font, size
        self._words: dict[str, float] = {}
        self.space = pdfmetrics.stringWidth(" ", font, size)

    def word(self, word: str) -> float:
        width = self._words.get(word)
        if width is None:
            width = self._words[word] = pdfmetrics.stringWidth(word, self.font, self.size)
        return width

    def line(self, text: str) -> float:
        words = text.split(" ")
        return sum(map(self.word, words)) + self.space * (len(words) - 1)

    def longest_word(self, text: str) -> float:
        return max((self.word(word) for word in text.split()), default=0.0)

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of at most ``width`` (words longer than that are cut between characters); ``\\n`` breaks."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current, used = "", 0.0
            for word in paragraph.split():
                size = self.word(word)
                if current and used + self.space + size <= width:
                    current, used = f"{current} {word}", used + self.space + size
                    continue
                if current:
                    lines.append(current)
                while size > width and len(word) > 1:
                    cut = self._fitting_prefix(word, width)
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self.word(word)
                current, used = word, size
            lines.append(current)
        return lines

    def _fitting_prefix(self, word: str, width: float) -> int:
        used = 0.0
        for index, char in enumerate(word):
            used += pdfmetrics.stringWidth(char, self.font, self.size)
            if used > width:
                return max(index, 1)
        return len(word)


# --- the letter ----------------------------------------------------------------------------------------

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


def _centred_lines(canvas: Canvas, centre: float, top: float, lines: Sequence[tuple[str, float, str]],
                   leading: float = 1.2) -> float:
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
        self.body_block = [*((REGULAR, _HEADER_SIZE, line) for line in
                             _Measure(REGULAR, _HEADER_SIZE).wrap(letter.issuing_body_parent.upper(), column)),
                           *((BOLD, _HEADER_SIZE, line) for line in
                             _Measure(BOLD, _HEADER_SIZE).wrap(letter.issuing_body.upper(), column))]
        summary = letter.summary if letter.summary.startswith("V/v") else f"V/v {letter.summary}"
        self.summary_lines = _Measure(REGULAR, _SUMMARY_SIZE).wrap(summary, _LEFT_COLUMN - 6 * MM)
        self.height = (_HEADER_SIZE + (len(self.body_block) - 1) * _HEADER_SIZE * 1.2 + _RULE_DROP + 22
                       + 20 + (len(self.summary_lines) - 1) * _SUMMARY_SIZE * 1.2 + 8)
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        left, right = _LEFT_COLUMN / 2, _LEFT_COLUMN + (self.width - _LEFT_COLUMN) / 2
        first = self.height - _HEADER_SIZE
        canvas.setLineWidth(0.6)
        last_body = _centred_lines(canvas, left, first, self.body_block)
        body_half = pdfmetrics.stringWidth(self.body_block[-1][2], BOLD, _HEADER_SIZE) / 5  # rule: 2/5 of the line
        canvas.line(left - body_half, last_body - _RULE_DROP, left + body_half, last_body - _RULE_DROP)
        motto = _centred_lines(canvas, right, first, [(BOLD, _MOTTO_SIZE, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
                                                      (BOLD, _HEADER_SIZE, self._MOTTO)])
        motto_half = pdfmetrics.stringWidth(self._MOTTO, BOLD, _HEADER_SIZE) / 2  # rule: as long as the line
        canvas.line(right - motto_half, motto - _RULE_DROP, right + motto_half, motto - _RULE_DROP)
        baseline = min(last_body, motto) - _RULE_DROP - 22
        self._number(left, baseline)
        self._date(right, baseline)
        _centred_lines(canvas, left, baseline - 20, [(REGULAR, _SUMMARY_SIZE, line) for line in self.summary_lines])

    def _number(self, centre: float, baseline: float) -> None:
        size, canvas = _HEADER_SIZE, self.canv
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
        self.titles = [letter.signer_authority.upper(), *(line.strip().upper()
                                                          for line in letter.signer_title.splitlines()
                                                          if line.strip())]
        measure = _Measure(REGULAR, _COPIES_SIZE)
        hanging = measure.word("-") + measure.space  # a long line goes on under its text, past the dash
        self.copies = [(hanging if index else 0.0, part)  # (indent, text)
                       for line in letter.copies_to
                       for index, part in enumerate(measure.wrap(line, _LEFT_COLUMN - 4 * MM - hanging))]

    def _left_height(self) -> float:
        return 12 + len(self.copies) * _COPIES_SIZE * 1.15 + 4

    def _right_height(self) -> float:
        return len(self.titles) * _BODY_SIZE * 1.2 + _SIGNATURE_SPACE + _BODY_SIZE + 6

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self.height = max(self._left_height(), self._right_height()) + 6
        return self.width, self.height

    def draw(self) -> None:
        canvas, letter = self.canv, self.letter
        top = self.height - _BODY_SIZE
        canvas.setFont(BOLD_ITALIC, 12)
        canvas.drawString(0, top, "Nơi nhận:")
        canvas.setFont(REGULAR, _COPIES_SIZE)
        y = top - 2
        for indent, line in self.copies:
            y -= _COPIES_SIZE * 1.15
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
    base: dict[str, Any] = dict(fontName=REGULAR, fontSize=_BODY_SIZE, leading=_BODY_SIZE * 1.25,
                                alignment=TA_JUSTIFY, firstLineIndent=_INDENT, spaceAfter=6)
    return ParagraphStyle(name, **(base | overrides))


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    return [Paragraph(escape(" ".join(part.split())), style) for part in text.split("\n\n") if part.strip()]


def _recipients(letter: LetterData, width: float) -> Table:
    """``Kính gửi:`` and the recipient(s) beside it; several are listed ``- name;`` … ``- name.``."""
    names = [name.strip().removeprefix("-").strip().rstrip(";.").strip() for name in letter.recipients]
    if len(names) > 1:
        names = [f"- {name}{'.' if index == len(names) - 1 else ';'}" for index, name in enumerate(names)]
    style = _paragraph_style("recipient", firstLineIndent=0, alignment=TA_LEFT, spaceAfter=0)
    label_width = pdfmetrics.stringWidth("Kính gửi: ", REGULAR, _BODY_SIZE) + 4
    measure = _Measure(REGULAR, _BODY_SIZE)
    names_width = min(max(measure.line(name) for name in names) + 8, width * 0.75 - label_width)
    table = Table([["Kính gửi:", [Paragraph(escape(name), style) for name in names]]],
                  colWidths=[label_width, names_width], hAlign="CENTER")
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), REGULAR, _BODY_SIZE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _page_number(canvas: Canvas, document: BaseDocTemplate) -> None:
    """From page 2: the page number centred in the top margin (Nghị định 30/2020, Phụ lục I)."""
    if canvas.getPageNumber() > 1:
        canvas.saveState()
        canvas.setFont(REGULAR, _HEADER_SIZE)
        width, height = document.pagesize
        canvas.drawCentredString(width / 2, height - 12 * MM, str(canvas.getPageNumber()))
        canvas.restoreState()


def _letter_story(letter: LetterData, places: _Places, width: float) -> list[Flowable]:
    body = _paragraph_style("body")
    count_style = _paragraph_style("count", spaceAfter=2)
    unit = escape(letter.count_unit)
    counts = [Paragraph(f"- {escape(label)}: {format_count(count)} {unit};", count_style)
              for label, count in letter.counts]
    total = sum(count for _label, count in letter.counts)
    story: list[Flowable] = [_Header(letter, places), Spacer(1, 8), _recipients(letter, width), Spacer(1, 10),
                             *_paragraphs(letter.opening, body), *counts,
                             Paragraph(f"<b>Tổng cộng: {format_count(total)} {unit}.</b>", body)]
    if letter.annex_reference:
        story.append(Paragraph(f"<i>{escape(letter.annex_reference)}</i>", body))
    story += [*_paragraphs(letter.closing, body), Spacer(1, 6), _SignerBlock(letter, places)]
    return story


def _letter_layout(letter: LetterData) -> tuple[bytes, _Places]:
    """The plain letter (no form fields yet) and where its number, date and signature blank are."""
    _register_fonts()
    top, bottom, left, right = _LETTER_MARGINS
    buffer, places = io.BytesIO(), _Places()
    document = BaseDocTemplate(buffer, pagesize=A4, leftMargin=left, rightMargin=right, topMargin=top,
                               bottomMargin=bottom, title=letter.summary, author=letter.issuing_body,
                               creator="certsvc", initialFontName=REGULAR, initialFontSize=_BODY_SIZE)
    frame = Frame(left, bottom, A4[0] - left - right, A4[1] - top - bottom, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_page_number)])
    document.build(_letter_story(letter, places, frame._width))
    return buffer.getvalue(), places


def build_letter_pdf(letter: LetterData) -> bytes:
    """The consolidated proposal letter, with the empty number and date text fields and the two signature
    fields token_agent fills and signs (names from :mod:`token_agent.signing`)."""
    _check_letter(letter)
    pdf, places = _letter_layout(letter)
    assert places.number and places.date and places.signature
    from token_agent import signing  # pyHanko and PKCS#11: loaded only when a letter is made

    return signing.prepare(pdf, number_box=places.number, date_box=places.date,
                           signature_box=places.signature).pdf


# --- the annex as PDF ----------------------------------------------------------------------------------

def _fair_shares(wanted: Sequence[float], extra: float) -> list[float]:
    """``extra`` shared out among ``wanted``: whoever wants no more than an equal share of what is left
    gets all of it, smallest first; the others split the rest in proportion to what they want."""
    given = [0.0] * len(wanted)
    waiting = sorted(range(len(wanted)), key=wanted.__getitem__)
    left = extra
    while waiting and wanted[waiting[0]] <= left / len(waiting):
        index = waiting.pop(0)
        given[index] = wanted[index]
        left -= wanted[index]
    still = sum(wanted[index] for index in waiting)
    for index in waiting:
        given[index] = wanted[index] * left / still
    return given


class _AnnexTableLayout:
    """Column widths and wrapped cells of one table, in the annex's font and size."""

    def __init__(self, table: AnnexTable, width: float, regular: _Measure, bold: _Measure) -> None:
        self.table = table
        digits = pdfmetrics.stringWidth("0" * len(str(max(len(table.rows), 1))), REGULAR, _TABLE_SIZE)
        number_width = max(digits, bold.line(NUMBER_COLUMN)) + 2 * _CELL_PAD
        self.widths = [number_width, *self._column_widths(width - number_width, regular, bold)]
        self.header = self._wrapped([NUMBER_COLUMN, *table.columns], bold)

    def _column_widths(self, available: float, regular: _Measure, bold: _Measure) -> list[float]:
        """Each column at least its header on two lines and (up to 1/4 of the width) its longest word,
        then its longest word whole if that fits in half the width while the other columns keep theirs
        (a serial number or an address is cut only when the page has no room for it: a word that could
        never fit gets nothing more), the rest shared out toward each column's natural width (short cells
        first, so that names and dates stay on one line while long text wraps), then in proportion to it."""
        columns = list(zip(*self.table.rows, strict=True)) if self.table.rows else [()] * len(self.table.columns)
        natural, least, whole = [], [], []
        for header, cells in zip(self.table.columns, columns, strict=True):
            widest = max((max(map(regular.line, cell.split("\n"))) for cell in cells), default=0.0)
            longest = max((regular.longest_word(cell) for cell in cells), default=0.0)
            header_floor = min(bold.line(header), max(bold.longest_word(header), bold.line(header) / 2))
            floor = max(header_floor, min(longest, available / 4)) + 2 * _CELL_PAD
            least.append(floor)
            whole.append(longest + 2 * _CELL_PAD)
            natural.append(max(widest + 2 * _CELL_PAD, floor))
        for index, wanted_whole in enumerate(whole):
            if least[index] < wanted_whole <= min(available / 2, available - sum(least) + least[index]):
                least[index] = wanted_whole
                natural[index] = max(natural[index], wanted_whole)
        if sum(least) >= available:
            return [w * available / sum(least) for w in least]
        extra, wanted = available - sum(least), [n - m for n, m in zip(natural, least, strict=True)]
        if sum(wanted) > extra:
            return [m + given for m, given in zip(least, _fair_shares(wanted, extra), strict=True)]
        spare = extra - sum(wanted)
        return [n + spare * n / sum(natural) for n in natural]

    def _wrapped(self, cells: Sequence[str], measure: _Measure) -> list[list[str]]:
        return [measure.wrap(cell, width - 2 * _CELL_PAD) for cell, width in zip(cells, self.widths, strict=True)]

    def rows(self, regular: _Measure) -> Iterator[list[list[str]]]:
        for number, row in enumerate(self.table.rows, 1):
            yield self._wrapped([str(number), *row], regular)


class _AnnexWriter:
    """Draws the annex page by page: heading, table titles, header rows (repeated), rows with borders."""

    def __init__(self, buffer: io.BytesIO, heading: str) -> None:
        self.page_width, self.page_height = landscape(A4)
        self.top, self.bottom, self.left, self.right = _ANNEX_MARGINS
        self.width = self.page_width - self.left - self.right
        self.canvas = Canvas(buffer, pagesize=landscape(A4), pageCompression=1, initialFontName=REGULAR,
                             initialFontSize=_TABLE_SIZE)
        self.canvas.setTitle(heading.splitlines()[0] if heading.strip() else "Phụ lục")
        self.canvas.setCreator("certsvc")
        self.regular, self.bold = _Measure(REGULAR, _TABLE_SIZE), _Measure(BOLD, _TABLE_SIZE)
        self.page = 1
        self.y = self.page_height - self.top
        self.segment_top: float | None = None
        self.widths: list[float] = []
        self._heading(heading)

    def _heading(self, heading: str) -> None:
        measure = {BOLD: _Measure(BOLD, _HEADER_SIZE), ITALIC: _Measure(ITALIC, _HEADER_SIZE)}
        for index, text in enumerate(line for line in heading.splitlines() if line.strip()):
            font = BOLD if index == 0 else ITALIC
            fits = measure[font].line(text) <= self.width  # as given: its blanks are kept
            for line in [text.strip()] if fits else measure[font].wrap(text, self.width):
                self.y -= _HEADER_SIZE * 1.25
                self.canvas.setFont(font, _HEADER_SIZE)
                self.canvas.drawCentredString(self.left + self.width / 2, self.y, line)
        self.y -= 8

    def _new_page(self) -> None:
        self._close_segment()
        self.canvas.showPage()
        self.page += 1
        self.y = self.page_height - self.top
        self.canvas.setFont(REGULAR, _HEADER_SIZE)
        self.canvas.drawCentredString(self.page_width / 2, self.page_height - 12 * MM, str(self.page))

    def _close_segment(self) -> None:
        """The vertical borders of the part of the table drawn on this page."""
        if self.segment_top is None:
            return
        x, lines = self.left, []
        for width in [0.0, *self.widths]:
            x += width
            lines.append((x, self.segment_top, x, self.y))
        self.canvas.setLineWidth(0.5)
        self.canvas.lines(lines)
        self.segment_top = None

    def _row(self, cells: list[list[str]], font: str, shaded: bool = False) -> None:
        canvas = self.canvas
        most = max(map(len, cells))
        height = most * _TABLE_LEADING + 2 * _CELL_PAD
        if self.segment_top is None:
            self.segment_top = self.y
        if shaded:
            canvas.setFillGray(0.9)
            canvas.rect(self.left, self.y - height, self.width, height, stroke=0, fill=1)
            canvas.setFillGray(0)
        text = canvas.beginText()
        text.setFont(font, _TABLE_SIZE)
        x = self.left
        for column, (lines, width) in enumerate(zip(cells, self.widths, strict=True)):
            y = self.y - _CELL_PAD - _TABLE_SIZE * 0.9 - (most - len(lines)) * _TABLE_LEADING / 2 * shaded
            for line in lines:
                offset = (width - pdfmetrics.stringWidth(line, font, _TABLE_SIZE)) / 2 if column == 0 or shaded \
                    else _CELL_PAD
                text.setTextOrigin(x + offset, y)
                text.textOut(line)
                y -= _TABLE_LEADING
            x += width
        canvas.drawText(text)
        self.y -= height
        canvas.setLineWidth(0.5)
        canvas.line(self.left, self.y, self.left + self.width, self.y)

    def _fits(self, lines: int) -> bool:
        return self.y - lines * _TABLE_LEADING - 2 * _CELL_PAD >= self.bottom

    def _header_row(self, layout: _AnnexTableLayout) -> None:
        self.segment_top = self.y
        self.canvas.setLineWidth(0.5)
        self.canvas.line(self.left, self.y, self.left + self.width, self.y)
        self._row(layout.header, BOLD, shaded=True)

    def table(self, table: AnnexTable) -> None:
        layout = _AnnexTableLayout(table, self.width, self.regular, self.bold)
        self.widths = layout.widths
        title_lines = _Measure(BOLD, 12).wrap(table.title, self.width)
        header_lines = max(map(len, layout.header))
        if not self._fits(len(title_lines) + header_lines + 3):
            self._new_page()
        self.y -= 6
        for line in title_lines:
            self.y -= 14.5
            self.canvas.setFont(BOLD, 12)
            self.canvas.drawString(self.left, self.y, line)
        self.y -= 6
        self._header_row(layout)
        for cells in layout.rows(self.regular):
            lines = max(map(len, cells))
            if not self._fits(lines):
                self._new_page()
                self._header_row(layout)
                room = int((self.y - self.bottom - 2 * _CELL_PAD) / _TABLE_LEADING)
                if lines > room:  # taller than a whole page: cut, marked with an ellipsis
                    cells = [cell[:room - 1] + ["…"] if len(cell) > room else cell for cell in cells]
            self._row(cells, REGULAR)
        self._close_segment()
        self.y -= 8

    def finish(self) -> None:
        self._close_segment()
        self.canvas.showPage()
        self.canvas.save()


def build_annex_pdf(tables: list[AnnexTable], *, heading: str) -> bytes:
    """The annex: A4 landscape; ``heading``'s first line bold, the next ones italic (e.g. ``PHỤ LỤC`` /
    ``Danh sách đề nghị …`` / ``(Kèm theo Công văn số      /UBND-VHTT ngày …)``), centred on page 1; then each
    table with its title, ``STT`` first, header row repeated on each page, long cells wrapped; page numbers
    from page 2. The top right corner of page 1 stays free for token_agent's ``sign_appendix``."""
    _check_tables(tables)
    _check_text(heading, "Tiêu đề phụ lục")
    _register_fonts()
    buffer = io.BytesIO()
    writer = _AnnexWriter(buffer, heading)
    for table in tables:
        writer.table(table)
    writer.finish()
    return buffer.getvalue()


# --- the annex as XLSX and CSV -------------------------------------------------------------------------

def _sheet_names(tables: Sequence[AnnexTable]) -> list[str]:
    """Valid (no ``[]:*?/\\``, ≤ 31 characters, cut at a word) and unique (``… (2)``) sheet names."""
    names: list[str] = []
    for table in tables:
        base = " ".join(_SHEET_FORBIDDEN.sub(" ", table.sheet_name or table.title).split()).strip("'") or "Bảng"
        if len(base) > _SHEET_NAME_MAX:
            cut = base[:_SHEET_NAME_MAX]
            base = cut.rsplit(" ", 1)[0] if " " in cut[10:] else cut
        name, suffix = base, 2
        while name.casefold() in {n.casefold() for n in names}:
            tail = f" ({suffix})"
            name, suffix = base[:_SHEET_NAME_MAX - len(tail)].rstrip() + tail, suffix + 1
        names.append(name)
    return names


def _character_widths(table: AnnexTable) -> list[float]:
    """Excel column widths (in characters): the longest line of each column, between 6 and 60."""
    rows = table.rows
    widths = [len(str(len(rows))) + 2]
    for index, column in enumerate(table.columns):
        longest = max((len(line) for row in rows for line in row[index].split("\n")), default=0)
        widths.append(min(max(longest, max(map(len, column.split())), 6) + 2, 60))
    return widths


def build_annex_xlsx(tables: list[AnnexTable], *, heading: str) -> bytes:
    """One sheet per table: row 1 the heading (its lines joined by `` — ``), row 2 the table's title, row 3 the
    bold header (``STT`` first), the rows from row 4; rows 1–3 frozen, column widths from the content. Every
    cell is text (leading zeros of an ID kept; a value beginning with ``=`` is never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    _check_tables(tables)
    _check_text(heading, "Tiêu đề phụ lục")
    workbook = Workbook(write_only=True)
    workbook.properties.title = heading.splitlines()[0]
    workbook.properties.creator = "certsvc"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    for table, name in zip(tables, _sheet_names(tables), strict=True):
        sheet = workbook.create_sheet(name)
        for index, width in enumerate(_character_widths(table), 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A4"

        def styled(value: str, sheet: Any = sheet) -> WriteOnlyCell:
            cell = WriteOnlyCell(sheet, value)
            cell.font = bold
            return cell

        sheet.append([styled(" — ".join(line.strip() for line in heading.splitlines() if line.strip()))])
        sheet.append([styled(table.title)])
        header = []
        for value in (NUMBER_COLUMN, *table.columns):
            cell = styled(value)
            cell.alignment = wrap
            header.append(cell)
        sheet.append(header)
        for number, row in enumerate(table.rows, 1):
            sheet.append([number, *(_text_cell(sheet, value, WriteOnlyCell, wrap) for value in row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, value: str, cell_type: Callable[..., Any], wrap: Any) -> Any:
    """A plain string where it is safe; a cell forced to text for ``=…`` (else a formula) and multi-line text."""
    if not value.startswith("=") and "\n" not in value:
        return value
    cell = cell_type(sheet, value)
    cell.data_type = "s"
    if "\n" in value:
        cell.alignment = wrap
    return cell


def _csv_bytes(header: list[str], rows: Iterator[list[str]], delimiter: str) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Vietnamese right), CRLF line ends (RFC 4180); a value a
    spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) gets a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def build_annex_csv(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """All tables in ONE rectangular CSV: the columns are ``Bảng`` (the table's title), ``STT``, then every
    column of every table once, in order of first appearance; a row leaves the columns of other tables empty.
    UTF-8 with BOM, CRLF; ``csv.DictReader`` gives back each table by its ``Bảng`` value."""
    _check_tables(tables)
    columns = list(dict.fromkeys(column for table in tables for column in table.columns))
    if "Bảng" in columns:
        raise ValueError("Không dùng «Bảng» làm tên cột: tên này là cột đầu của tệp CSV (tên bảng).")
    position = {column: index for index, column in enumerate(columns)}

    def rows() -> Iterator[list[str]]:
        for table in tables:
            slots = [position[column] for column in table.columns]
            for number, row in enumerate(table.rows, 1):
                line = [""] * len(columns)
                for slot, value in zip(slots, row, strict=True):
                    line[slot] = value
                yield [table.title, str(number), *line]

    return _csv_bytes(["Bảng", NUMBER_COLUMN, *columns], rows(), delimiter)


def build_annex_csv_zip(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """One CSV per table (``STT`` then its columns; UTF-8 with BOM) in a ZIP, named ``01 <sheet name>.csv``."""
    _check_tables(tables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (table, name) in enumerate(zip(tables, _sheet_names(tables), strict=True), 1):
            rows = ([str(number), *row] for number, row in enumerate(table.rows, 1))
            archive.writestr(f"{index:02d} {name}.csv", _csv_bytes([NUMBER_COLUMN, *table.columns], rows, delimiter))
    return buffer.getvalue()
