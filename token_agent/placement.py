"""Finding, on a draft's pages, where the number, the date and the signer block are.

Drafts come from word processors in the layout of Nghị định 30/2020 (Phụ lục I): the first page carries the
``Số: .../UBND-VHTT`` line (left column) and the ``Văn Quan, ngày ... tháng ... năm ...`` line (right column,
italic); the last page ends with the signer block: the authority line, the position line, a blank space for
the signature and the signer's full name. Coordinates are PDF user space (points, origin bottom left).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTPage, LTTextContainer, LTTextLine
from pdfminer.pdfparser import PDFSyntaxError

from .errors import DocumentError, PlacementNotFoundError

__all__ = [
    "Box",
    "TextLine",
    "read_lines",
    "number_place",
    "date_place",
    "signer_place",
    "normalise",
    "BASELINE_DEPTH",
    "font_size_for",
]

_DATE_START = re.compile(r"^\S.*,\s*ngày\b", re.IGNORECASE)
_DATE_LINE = re.compile(r"^\S.*,\s*ngày\b.*\btháng\b.*\bnăm\b\s*\d{4}", re.IGNORECASE)
_NUMBER_PREFIX = "Số:"
_MIN_SIGNATURE_HEIGHT = 30.0
BASELINE_DEPTH = 0.35
"""A one-line text field reaches this many font sizes below its baseline (and one size above it)."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page (0-based page index)."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class TextLine:
    """A line of text as the page draws it: its text, box, the font size and the baseline."""

    text: str
    box: Box
    size: float
    baseline: float
    chars: tuple[tuple[str, float, float], ...]
    """Each character with its left and right x."""


def normalise(text: str) -> str:
    """NFC, single spaces: how Vietnamese text is compared (word processors mix NFC and NFD)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _lines(page: LTPage, index: int) -> Iterator[TextLine]:
    for element in page:
        if not isinstance(element, LTTextContainer):
            continue
        for line in element:
            if not isinstance(line, LTTextLine):
                continue
            chars = [c for c in line if isinstance(c, LTChar)]
            text = normalise(line.get_text())
            if not chars or not text:
                continue
            baseline = min(c.matrix[5] for c in chars)
            yield TextLine(
                text=text,
                box=Box(index, *line.bbox),
                size=max(c.size for c in chars),
                baseline=baseline,
                chars=tuple((c.get_text(), c.x0, c.x1) for c in chars),
            )


def read_lines(pdf: bytes, page_index: int) -> list[TextLine]:
    """The text lines of one page, top to bottom."""
    try:
        pages = list(extract_pages(io.BytesIO(pdf), page_numbers=[page_index], laparams=LAParams()))
    except (PDFSyntaxError, ValueError, KeyError) as exc:
        raise DocumentError(
            f"Không đọc được nội dung trang {page_index + 1} của tệp PDF.", code="pdf_unreadable"
        ) from exc
    if not pages:
        raise DocumentError(f"Tệp PDF không có trang {page_index + 1}.", code="pdf_unreadable")
    return sorted(_lines(pages[0], page_index), key=lambda line: (-line.baseline, line.box.x1))


def font_size_for(field_height: float) -> float:
    """The font size of a one-line text field of this height (the inverse of the box made below)."""
    return field_height / (1 + BASELINE_DEPTH)


def _field_box(page: int, x1: float, x2: float, baseline: float, size: float) -> Box:
    """The box of a one-line text field: the fill code reads the baseline back from it (see signing)."""
    return Box(page, x1, baseline - BASELINE_DEPTH * size, x2, baseline + size)


def _rest_of_row(lines: list[TextLine], line: TextLine) -> list[TextLine]:
    """The text fragments to the right of ``line`` on its baseline, left to right (word processors often
    write one line as several runs, with the blanks to be filled in as gaps)."""
    return sorted(
        (
            other
            for other in lines
            if other is not line and abs(other.baseline - line.baseline) < 1 and other.box.x1 >= line.box.x2 - 0.5
        ),
        key=lambda other: other.box.x1,
    )


def number_place(lines: list[TextLine]) -> tuple[Box, float]:
    """Where the number and symbol go: after ``Số:`` to the end of the symbol (``/UBND-VHTT``); font size."""
    line = next((line for line in lines if line.text.startswith(_NUMBER_PREFIX)), None)
    if line is None:
        raise PlacementNotFoundError(
            "Không tìm thấy dòng «Số: …» trên trang đầu của dự thảo; hãy chỉ vị trí bằng --number-box."
        )
    colon = next(x2 for ch, _x1, x2 in line.chars if ch == ":")
    row_end = line.box.x2
    for other in _rest_of_row(lines, line):
        gap = other.box.x1 - row_end
        if not (gap <= line.size or (other.text.startswith("/") and gap <= 6 * line.size)):
            break  # the next column (the date line sits on the same baseline)
        row_end = other.box.x2
    start = colon + 0.25 * line.size
    end = max(row_end + 4, start + 9 * line.size)
    return _field_box(line.box.page, start, end, line.baseline, line.size), line.size


def date_place(lines: list[TextLine]) -> tuple[Box, float]:
    """Where the place-and-date line goes: the whole ``…, ngày … tháng … năm …`` line, widened; font size."""
    for line in (line for line in lines if _DATE_START.match(line.text)):
        text, right = line.text, line.box.x2
        for other in _rest_of_row(lines, line):
            if _DATE_LINE.match(text) or other.box.x1 - right > 4 * line.size:
                break
            text, right = f"{text} {other.text}", other.box.x2
        if _DATE_LINE.match(text):
            centre = (line.box.x1 + right) / 2
            half = max((right - line.box.x1) / 2 + line.size, 9 * line.size)
            return _field_box(line.box.page, centre - half, centre + half, line.baseline, line.size), line.size
    raise PlacementNotFoundError(
        "Không tìm thấy dòng «…, ngày … tháng … năm …» trên trang đầu của dự thảo; hãy chỉ vị trí bằng --date-box."
    )


def signer_place(lines: list[TextLine], signer_name: str) -> Box:
    """The blank between the position line and the signer's name, centred on the name."""
    wanted = normalise(signer_name)
    name = next((line for line in reversed(lines) if line.text == wanted), None)
    if name is None:
        raise PlacementNotFoundError(
            f"Không tìm thấy tên người ký «{wanted}» trên trang cuối của dự thảo; "
            "hãy kiểm tra tên hoặc chỉ vị trí bằng --signature-box."
        )
    centre = (name.box.x1 + name.box.x2) / 2
    above = [line for line in lines if line.box.y1 > name.box.y2 and line.box.x1 < centre < line.box.x2]
    if not above:
        raise PlacementNotFoundError("Không tìm thấy dòng chức vụ phía trên tên người ký.")
    position = min(above, key=lambda line: line.box.y1)
    bottom, top = name.box.y2 + 2, position.box.y1 - 2
    if top - bottom < _MIN_SIGNATURE_HEIGHT:
        raise PlacementNotFoundError("Khoảng trống giữa chức vụ và tên người ký quá hẹp để đặt chữ ký.")
    half = max(position.box.width, name.box.width, 2.2 * (top - bottom)) / 2
    return Box(name.box.page, centre - half, bottom, centre + half, top)
