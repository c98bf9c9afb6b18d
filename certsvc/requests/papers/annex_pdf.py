"""The annex as PDF: :func:`build_annex_pdf`, A4 landscape, one table per request type, header row repeated
on every page, long cells wrapped. Rows are drawn directly on the canvas (not Platypus tables): 10,000 rows
take a fraction of a second.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .annex import NUMBER_COLUMN, AnnexTable, check_tables
from .text import BOLD, HEADER_SIZE, ITALIC, MM, REGULAR, Measure, check_text, register_fonts

__all__ = ["build_annex_pdf"]

_ANNEX_MARGINS = (20 * MM, 15 * MM, 20 * MM, 15 * MM)
#: A table's font size: the largest at which its short cells fit on one line (a table of many columns
#: takes a smaller one rather than cut its words).
_TABLE_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
#: The share of its natural width a short column gets before any is given all of it: two lines at most.
_SHORT_FIRST = 0.6
#: Below this size a table has every short cell on one line only when it has no room otherwise.
_SMALLEST_ROOMY = 8.0
_LEADING = 1.2
_CELL_PAD = 3.0
#: A cell no wider than this share of the table is short (a name, a date, a number): kept on one line
#: when the table has room for it; longer text wraps.
_SHORT = 1 / 5


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


@dataclass(frozen=True)
class _ColumnText:
    """What a column holds, measured at 1 pt (widths grow with the size): its widest line, its longest
    word, its header on one line and the header's longest word."""

    widest: float
    longest: float
    header: float
    header_word: float

    @classmethod
    def of(cls, header: str, cells: Sequence[str], regular: Measure, bold: Measure) -> _ColumnText:
        return cls(
            max((max(map(regular.line, cell.split("\n"))) for cell in cells), default=0.0) / regular.size,
            max((regular.longest_word(cell) for cell in cells), default=0.0) / regular.size,
            bold.line(header) / bold.size,
            bold.longest_word(header) / bold.size,
        )

    def least(self, size: float, available: float) -> float:
        """The header's words whole, and the cells' (a word wider than 1/4 of the table is cut)."""
        return max(self.header_word * size, min(self.longest * size, available / 4)) + 2 * _CELL_PAD

    def natural(self, size: float, available: float) -> float:
        """Every cell on one line, the header on at most three."""
        return max(max(self.widest, self.header / 3) * size + 2 * _CELL_PAD, self.least(size, available))

    def wanted(self, size: float, available: float, share: float) -> float:
        """A short column's (see :data:`_SHORT`) ``share`` of its natural width, a long one's least width;
        either with its longest word whole when that fits in half the table (as :func:`_column_widths` does)."""
        least, natural = self.least(size, available), self.natural(size, available)
        if (whole := self.longest * size + 2 * _CELL_PAD) <= available / 2:
            least = max(least, whole)
        if natural > available * _SHORT:
            return least
        return max(least, (natural - 2 * _CELL_PAD) * share + 2 * _CELL_PAD)


def _fits(columns: Sequence[_ColumnText], size: float, available: float, share: float) -> bool:
    """Whether the short cells fit at ``size`` with ``share`` of their natural width (1: on one line) while
    the others keep their least width."""
    return sum(column.wanted(size, available, share) for column in columns) <= available


def _column_widths(columns: Sequence[_ColumnText], size: float, available: float) -> list[float]:
    """Each column at least its least width (:meth:`_ColumnText.least`), then its longest word whole if that
    fits in half the width while the other columns keep theirs (a serial number or an address is cut only
    when the page has no room for it); then, keeping room for long text on three lines, every short column
    room for two lines and the short columns whole, smallest first (names, dates and numbers stay on one
    line); the rest shared out toward each column's natural width, then in proportion to it."""
    least = [column.least(size, available) for column in columns]
    natural = [column.natural(size, available) for column in columns]
    for index, column in enumerate(columns):
        whole = column.longest * size + 2 * _CELL_PAD
        if least[index] < whole <= min(available / 2, available - sum(least) + least[index]):
            least[index] = whole
            natural[index] = max(natural[index], whole)
    if sum(least) >= available:
        return [w * available / sum(least) for w in least]
    widths, left = list(least), available - sum(least)
    short = [index for index in range(len(columns)) if natural[index] <= available * _SHORT]
    # Long text keeps room for a third of its natural width (three lines) before short cells are widened.
    kept = sum(
        max(0.0, (natural[i] - 2 * _CELL_PAD) / 3 + 2 * _CELL_PAD - least[i])
        for i in range(len(columns))
        if i not in short
    )
    budget = left - min(kept, left / 2)
    two_lines = {index: max(least[index], columns[index].wanted(size, available, _SHORT_FIRST)) for index in short}
    if sum(two_lines.values()) - sum(least[index] for index in short) <= budget:
        for index, two in two_lines.items():
            widths[index], budget = two, budget - (two - least[index])
    for index in sorted(short, key=natural.__getitem__):
        want = natural[index] - widths[index]
        if want > budget:
            break
        widths[index], budget = natural[index], budget - want
    left = available - sum(widths)
    wanted = [n - w for n, w in zip(natural, widths, strict=True)]
    if sum(wanted) > left:
        return [w + given for w, given in zip(widths, _fair_shares(wanted, left), strict=True)]
    spare = left - sum(wanted)
    return [n + spare * n / sum(natural) for n in natural]


def _table_size(columns: Sequence[_ColumnText], available: Callable[[float], float]) -> float:
    """The largest size, down to 8 pt, at which the short cells fit on one line (see :func:`_fits`); else on
    two; else the largest at which every column has its least width (a table of many columns stays
    readable); else the smallest."""
    roomy = [size for size in _TABLE_SIZES if size >= _SMALLEST_ROOMY]
    for share in (1.0, _SHORT_FIRST):
        fitting = next((size for size in roomy if _fits(columns, size, available(size), share)), None)
        if fitting is not None:
            return fitting
    least = (size for size in _TABLE_SIZES if _fits(columns, size, available(size), 0.0))
    return next(least, _TABLE_SIZES[-1])


class _AnnexTableLayout:
    """The font size, column widths and wrapped cells of one table."""

    def __init__(self, table: AnnexTable, width: float) -> None:
        self.table = table
        regular, bold = Measure(REGULAR, _TABLE_SIZES[0]), Measure(BOLD, _TABLE_SIZES[0])
        cells = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
        measured = [
            _ColumnText.of(header, column, regular, bold) for header, column in zip(table.columns, cells, strict=True)
        ]
        digits = regular.line("0" * len(str(max(len(table.rows), 1)))) / regular.size
        number_width = max(digits, bold.line(NUMBER_COLUMN) / bold.size) + 0.1  # at 1 pt, with room for rounding
        self.size = _table_size(measured, lambda size: width - number_width * size - 2 * _CELL_PAD)
        self.leading = self.size * _LEADING
        self.regular, self.bold = Measure(REGULAR, self.size), Measure(BOLD, self.size)
        available = width - number_width * self.size - 2 * _CELL_PAD
        self.widths = [width - available, *_column_widths(measured, self.size, available)]
        self.header = self._wrapped([NUMBER_COLUMN, *table.columns], self.bold)

    def _wrapped(self, cells: Sequence[str], measure: Measure) -> list[list[str]]:
        return [measure.wrap(cell, width - 2 * _CELL_PAD) for cell, width in zip(cells, self.widths, strict=True)]

    def rows(self) -> Iterator[list[list[str]]]:
        for number, row in enumerate(self.table.rows, 1):
            yield self._wrapped([str(number), *row], self.regular)


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
            initialFontSize=_TABLE_SIZES[0],
        )
        self.canvas.setTitle(heading.splitlines()[0] if heading.strip() else "Phụ lục")
        self.canvas.setCreator("certsvc")
        self.page = 1
        self.y = self.page_height - self.top
        self.segment_top: float | None = None
        self.widths: list[float] = []
        self.size = _TABLE_SIZES[0]
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
        size, leading = self.size, self.size * _LEADING
        height = most * leading + 2 * _CELL_PAD
        if self.segment_top is None:
            self.segment_top = self.y
        if shaded:
            canvas.setFillGray(0.9)
            canvas.rect(self.left, self.y - height, self.width, height, stroke=0, fill=1)
            canvas.setFillGray(0)
        text = canvas.beginText()
        text.setFont(font, size)
        x = self.left
        for column, (lines, width) in enumerate(zip(cells, self.widths, strict=True)):
            y = self.y - _CELL_PAD - size * 0.9 - (most - len(lines)) * leading / 2 * shaded
            for line in lines:
                offset = (width - pdfmetrics.stringWidth(line, font, size)) / 2 if column == 0 or shaded else _CELL_PAD
                text.setTextOrigin(x + offset, y)
                text.textOut(line)
                y -= leading
            x += width
        canvas.drawText(text)
        self.y -= height
        canvas.setLineWidth(0.5)
        canvas.line(self.left, self.y, self.left + self.width, self.y)

    def _fits(self, lines: int) -> bool:
        return self.y - lines * self.size * _LEADING - 2 * _CELL_PAD >= self.bottom

    def _header_row(self, layout: _AnnexTableLayout) -> None:
        self.segment_top = self.y
        self.canvas.setLineWidth(0.5)
        self.canvas.line(self.left, self.y, self.left + self.width, self.y)
        self._row(layout.header, BOLD, shaded=True)

    def table(self, table: AnnexTable) -> None:
        layout = _AnnexTableLayout(table, self.width)
        self.widths, self.size = layout.widths, layout.size
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
        for cells in layout.rows():
            lines = max(map(len, cells))
            if not self._fits(lines):
                self._new_page()
                self._header_row(layout)
                room = int((self.y - self.bottom - 2 * _CELL_PAD) / layout.leading)
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
