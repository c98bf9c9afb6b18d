"""What signatures and filled fields look like on the page, drawn with reportlab (Nghị định 30/2020, Phụ lục I).

Each appearance is a one-page PDF exactly the size of its field; the signing code imports that page as the
field's appearance stream. Text is set in Liberation Serif (Times New Roman metrics, full Vietnamese):
pyHanko's own stamp font has no Vietnamese glyphs.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .errors import DocumentError, TokenAgentError

__all__ = [
    "FONT_DIR_ENV",
    "MM",
    "REGULAR",
    "font_file",
    "ITALIC",
    "BOLD",
    "TextLayout",
    "register_fonts",
    "image_appearance",
    "TextBox",
    "text_appearances",
    "text_width",
]

FONT_DIR_ENV = "TOKEN_AGENT_FONT_DIR"
"""Environment variable naming a folder with LiberationSerif-*.ttf, when they are not in a Debian place."""

_FONT_DIRS = (
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/liberation-serif",
)
MM = 72 / 25.4
"""One millimetre in PDF points."""
REGULAR = "LiberationSerif"
ITALIC = "LiberationSerif-Italic"
BOLD = "LiberationSerif-Bold"
_FILES = {
    REGULAR: "LiberationSerif-Regular.ttf",
    ITALIC: "LiberationSerif-Italic.ttf",
    BOLD: "LiberationSerif-Bold.ttf",
}


@functools.cache
def _font_folder() -> Path:
    folders = [os.environ[FONT_DIR_ENV]] if os.environ.get(FONT_DIR_ENV) else list(_FONT_DIRS)
    for folder in folders:
        if all((Path(folder) / name).exists() for name in _FILES.values()):
            return Path(folder)
    raise TokenAgentError(
        "Không tìm thấy phông chữ Liberation Serif (gói fonts-liberation2) để viết tiếng Việt; "
        f"hãy cài gói đó hoặc chỉ thư mục phông bằng biến {FONT_DIR_ENV}.",
        code="font_missing",
    )


def font_file(font: str) -> Path:
    """The TrueType file of REGULAR, ITALIC or BOLD."""
    return _font_folder() / _FILES[font]


@functools.cache
def register_fonts() -> None:
    """Register Liberation Serif (regular, italic, bold) with reportlab once per process."""
    for font in _FILES:
        pdfmetrics.registerFont(TTFont(font, str(font_file(font))))


def text_width(text: str, font: str, size: float) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, font, size)


def _canvas(width: float, height: float) -> tuple[io.BytesIO, Canvas]:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setCreator("token-agent")
    return buffer, canvas


def image_appearance(width: float, height: float, image: Path) -> bytes:
    """The image (a PNG with transparency: signature or seal) scaled to fit the box, centred, aspect kept.

    Drawn once per image file version and box size in a process: an agent signs many documents with the
    same signature and seal.
    """
    try:
        stat = Path(image).stat()
    except OSError as exc:
        raise DocumentError(f"Không đọc được tệp ảnh {image}.", code="image_unreadable") from exc
    return _image_appearance(round(width, 2), round(height, 2), str(image), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _image_appearance(width: float, height: float, image: str, _mtime_ns: int, _size: int) -> bytes:
    try:
        reader = ImageReader(image)
        image_w, image_h = reader.getSize()
    except OSError as exc:
        raise DocumentError(f"Không đọc được tệp ảnh {image}.", code="image_unreadable") from exc
    scale = min(width / image_w, height / image_h)
    draw_w, draw_h = image_w * scale, image_h * scale
    buffer, canvas = _canvas(width, height)
    canvas.drawImage(reader, (width - draw_w) / 2, (height - draw_h) / 2, draw_w, draw_h, mask="auto")
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class TextLayout:
    """How lines of text sit in a box: font, size (shrunk to fit the width), alignment, background."""

    font: str = REGULAR
    size: float = 10.0
    centred: bool = False
    opaque: bool = False
    """Paint the box white first, hiding what the draft printed under the field (blanks, a placeholder)."""
    baseline_offset: float | None = None
    """Baseline of the last line above the box's bottom; None puts the block in the middle."""


@dataclass(frozen=True)
class TextBox:
    """Lines of text to draw in a box of the given size."""

    width: float
    height: float
    lines: tuple[str, ...]
    layout: TextLayout


def _draw_text(canvas: Canvas, box: TextBox) -> None:
    layout, margin = box.layout, 1.0
    widest = max(pdfmetrics.stringWidth(line, layout.font, layout.size) for line in box.lines)
    size = layout.size * min(1.0, (box.width - 2 * margin) / widest) if widest else layout.size
    leading = size * 1.2
    if layout.baseline_offset is not None:
        bottom = layout.baseline_offset
    else:
        bottom = (box.height - leading * len(box.lines)) / 2 - pdfmetrics.getDescent(layout.font, size)
    if layout.opaque:
        canvas.setFillColorRGB(1, 1, 1)
        canvas.rect(0, 0, box.width, box.height, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(layout.font, size)
    for index, line in enumerate(reversed(box.lines)):
        y = bottom + index * leading
        if layout.centred:
            canvas.drawCentredString(box.width / 2, y, line)
        else:
            canvas.drawString(margin, y, line)


def text_appearances(boxes: Sequence[TextBox]) -> bytes:
    """One page per box, each exactly the box's size, with its black text lines; the font shrinks when the
    longest line would not fit. Several boxes share one PDF (and one embedded font subset)."""
    register_fonts()
    buffer, canvas = _canvas(boxes[0].width, boxes[0].height)
    for box in boxes:
        canvas.setPageSize((box.width, box.height))
        _draw_text(canvas, box)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
