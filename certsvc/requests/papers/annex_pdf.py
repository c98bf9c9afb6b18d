"""The annex as PDF: :func:`build_annex_pdf`, A4 landscape, one table per request type, header row repeated
on every page, long cells wrapped. Rows are drawn directly on the canvas (not Platypus tables): 10,000 rows
take a fraction of a second.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .annex import NUMBER_COLUMN, AnnexTable, check_tables
from .text import BOLD, HEADER_SIZE, ITALIC, MM, REGULAR, Measure, check_text, register_fonts

__all__ = ["build_annex_pdf"]

_ANNEX_MARGINS = (20 * MM, 15 * MM, 20 * MM, 15 * MM)
_TABLE_SIZE = 10.0
_TABLE_LEADING = 12.0
_CELL_PAD = 3.0


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

    def __init__(self, table: AnnexTable, width: float, regular: Measure, bold: Measure) -> None:
        self.table = table
        digits = pdfmetrics.stringWidth("0" * len(str(max(len(table.rows), 1))), REGULAR, _TABLE_SIZE)
        number_width = max(digits, bold.line(NUMBER_COLUMN)) + 2 * _CELL_PAD
        self.widths = [number_width, *self._column_widths(width - number_width, regular, bold)]
        self.header = self._wrapped([NUMBER_COLUMN, *table.columns], bold)

    def _column_widths(self, available: float, regular: Measure, bold: Measure) -> list[float]:
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

    def _wrapped(self, cells: Sequence[str], measure: Measure) -> list[list[str]]:
        return [measure.wrap(cell, width - 2 * _CELL_PAD) for cell, width in zip(cells, self.widths, strict=True)]

    def rows(self, regular: Measure) -> Iterator[list[list[str]]]:
        for number, row in enumerate(self.table.rows, 1):
            yield self._wrapped([str(number), *row], regular)


class _AnnexWriter:
    """Draws the annex page by page: heading, table titles, header rows (repeated), rows with borders."""

    def __init__(self, buffer: io.BytesIO, heading: str) -> None:
        self.page_width, self.page_height = landscape(A4)
        self.top, self.bottom, self.left, self.right = _ANNEX_MARGINS
        self.width = self.page_width - self.left - self.right
        self.canvas = Canvas(
            buffer,
            pagesize=landscape(A4),
            pageCompression=1,
            # types-reportlab has the font's name as a float; the canvas takes a registered font's name.
            initialFontName=REGULAR,  # type: ignore[arg-type]
            initialFontSize=_TABLE_SIZE,
        )
        self.canvas.setTitle(heading.splitlines()[0] if heading.strip() else "Phụ lục")
        self.canvas.setCreator("certsvc")
        self.regular, self.bold = Measure(REGULAR, _TABLE_SIZE), Measure(BOLD, _TABLE_SIZE)
        self.page = 1
        self.y = self.page_height - self.top
        self.segment_top: float | None = None
        self.widths: list[float] = []
        self._heading(heading)

    def _heading(self, heading: str) -> None:
        measure = {BOLD: Measure(BOLD, HEADER_SIZE), ITALIC: Measure(ITALIC, HEADER_SIZE)}
        for index, text in enumerate(line for line in heading.splitlines() if line.strip()):
            font = BOLD if index < 2 else ITALIC
            fits = measure[font].line(text) <= self.width  # as given: its blanks are kept
            for line in [text.strip()] if fits else measure[font].wrap(text, self.width):
                self.y -= HEADER_SIZE * 1.25
                self.canvas.setFont(font, HEADER_SIZE)
                self.canvas.drawCentredString(self.left + self.width / 2, self.y, line)
        self.y -= 8

    def _new_page(self) -> None:
        self._close_segment()
        self.canvas.showPage()
        self.page += 1
        self.y = self.page_height - self.top
        self.canvas.setFont(REGULAR, HEADER_SIZE)
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
                offset = (
                    (width - pdfmetrics.stringWidth(line, font, _TABLE_SIZE)) / 2
                    if column == 0 or shaded
                    else _CELL_PAD
                )
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
        title_lines = Measure(BOLD, 12).wrap(table.title, self.width)
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
                    cells = [[*cell[: room - 1], "…"] if len(cell) > room else cell for cell in cells]
            self._row(cells, REGULAR)
        self._close_segment()
        self.y -= 8

    def finish(self) -> None:
        self._close_segment()
        self.canvas.showPage()
        self.canvas.save()


def build_annex_pdf(tables: list[AnnexTable], *, heading: str) -> bytes:
    """The annex: A4 landscape; ``heading``'s first two lines bold, the next ones italic, as Nghị định 30 sets
    an appendix out (``Phụ lục`` / ``DANH SÁCH ĐỀ NGHỊ …`` / ``(Kèm theo Công văn số      /UBND-VHTT ngày …
    của Ủy ban nhân dân huyện Văn Quan)``), centred on page 1; then each
    table with its title, ``STT`` first, header row repeated on each page, long cells wrapped; page numbers
    from page 2. The top right corner of page 1 stays free for token_agent's ``sign_appendix``."""
    check_tables(tables)
    check_text(heading, "Tiêu đề phụ lục")
    register_fonts()
    buffer = io.BytesIO()
    writer = _AnnexWriter(buffer, heading)
    for table in tables:
        writer.table(table)
    writer.finish()
    return buffer.getvalue()
