"""Fonts and text measuring shared by the letter and the annex PDF, and the check of their text inputs.

Liberation Serif (Times New Roman metrics, full Vietnamese) under token_agent's font names.
"""

from __future__ import annotations

import functools
import re

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from token_agent import appearance

__all__ = [
    "BOLD",
    "BOLD_ITALIC",
    "CONTROL",
    "HEADER_SIZE",
    "ITALIC",
    "MM",
    "REGULAR",
    "Measure",
    "check_text",
    "register_fonts",
]

MM = appearance.MM
REGULAR, BOLD, ITALIC = appearance.REGULAR, appearance.BOLD, appearance.ITALIC
BOLD_ITALIC = "LiberationSerif-BoldItalic"
HEADER_SIZE = 13.0
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_text(value: object, where: str, *, required: bool = True) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{where}: phải là chuỗi ký tự, không phải {type(value).__name__}.")
    if required and not value.strip():
        raise ValueError(f"{where}: không được để trống.")
    if CONTROL.search(value):
        raise ValueError(f"{where}: có ký tự điều khiển không in được.")


@functools.cache
def register_fonts() -> None:
    """Liberation Serif under token_agent's names (its fill step reads the font from the fields), plus bold
    italic, and the family so that Paragraph markup <b>/<i> finds them."""
    appearance.register_fonts()
    pdfmetrics.registerFont(
        TTFont(BOLD_ITALIC, str(appearance.font_file(REGULAR).with_name("LiberationSerif-BoldItalic.ttf")))
    )
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)


class Measure:
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
