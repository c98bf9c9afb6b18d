"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection), and CSV files Excel opens
with Vietnamese intact."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["FORMULA_START", "neutralise", "excel_csv"]

#: Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def excel_csv(header: Sequence[object], rows: Iterable[Sequence[object]], delimiter: str = ",") -> bytes:
    """A CSV file as Excel reads it right: UTF-8 with a byte-order mark (else Vietnamese letters break), CRLF
    line ends (RFC 4180), every cell :func:`neutralise`-d."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
