"""The annex as tables: :func:`build_annex_xlsx` (one sheet per table), :func:`build_annex_csv` (one CSV for
all tables, a section each) and :func:`build_annex_csv_zip` (one CSV per table in a ZIP).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from certsvc.core.csvcells import excel_csv

from .annex import NUMBER_COLUMN, AnnexTable, check_tables
from .text import check_text

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

__all__ = ["TYPE_COLUMN", "build_annex_csv", "build_annex_csv_zip", "build_annex_xlsx"]

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31


def _sheet_names(tables: Sequence[AnnexTable]) -> list[str]:
    """Valid (no ``[]:*?/\\``, ≤ 31 characters) and unique (``… (2)``) sheet names. A name too long loses
    words before its closing ``(…)`` (the form it is on), marked ``…``, never its end."""
    names: list[str] = []
    for table in tables:
        full = " ".join(_SHEET_FORBIDDEN.sub(" ", table.sheet_name or table.title).split()).strip("'") or "Bảng"
        head, tail = _kept_end(full)
        name, suffix = _fitted(head, tail), 2
        while name.casefold() in {n.casefold() for n in names}:
            name, suffix = _fitted(head, f"{tail} ({suffix})"), suffix + 1
        names.append(name)
    return names


def _kept_end(name: str) -> tuple[str, str]:
    """``name`` as the part that may be shortened and the ``(…)`` at its end that is kept whole."""
    head, bracket, form = name.rpartition(" (")
    if bracket and form.endswith(")") and len(form) < _SHEET_NAME_MAX // 2:
        return head, f" ({form}"
    return name, ""


def _fitted(head: str, tail: str) -> str:
    """``head`` then ``tail`` in a sheet name's 31 characters: ``head`` cut at a word and marked ``…``."""
    if len(head) + len(tail) <= _SHEET_NAME_MAX:
        return head + tail
    cut = head[: _SHEET_NAME_MAX - len(tail) - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut[10:] else cut
    return cut.rstrip(" ,.") + "…" + tail


def _character_widths(table: AnnexTable) -> list[int]:
    """Excel column widths (in characters): the longest line of each column, between 6 and 60."""
    rows = table.rows
    widths = [max(len(str(len(rows))), len(NUMBER_COLUMN)) + 3]
    for index, column in enumerate(table.columns):
        longest = max((len(line) for row in rows for line in row[index].split("\n")), default=0)
        widths.append(min(max(longest, max(map(len, column.split())), 6) + 2, 60))
    return widths


def build_annex_xlsx(tables: list[AnnexTable], *, heading: str) -> bytes:
    """One sheet per table: row 1 the heading (its lines joined by `` — ``), row 2 the table's title, row 3 the
    bold header (``STT`` first), the rows from row 4; rows 1–3 frozen, column widths from the content. Every
    cell is text (leading zeros of an ID kept; a value beginning with ``=`` is never a formula). Printed on A4
    landscape, fitted to the page's width, the header row on every page."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    check_tables(tables)
    check_text(heading, "Tiêu đề phụ lục")
    workbook = Workbook(write_only=True)
    workbook.properties.title = heading.splitlines()[0]
    workbook.properties.creator = "certsvc"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    for table, name in zip(tables, _sheet_names(tables), strict=True):
        sheet = workbook.create_sheet(name)
        for index, width in enumerate(_character_widths(table), 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A4"
        _print_setup(sheet)

        def styled(value: str, sheet: Any = sheet) -> Cell:
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


def _print_setup(sheet: Any) -> None:
    from openpyxl.worksheet.worksheet import Worksheet

    """A4 landscape, every column on the page's width (as many pages down as it takes), row 3 (the header)
    repeated on every page."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "3:3"


def _text_cell(sheet: Any, value: str, cell_type: Callable[..., Any], wrap: Any) -> Any:
    """A plain string where it is safe; a cell forced to text for ``=…`` (else a formula) and multi-line text."""
    if not value.startswith("=") and "\n" not in value:
        return value
    cell = cell_type(sheet, value)
    cell.data_type = "s"
    if "\n" in value:
        cell.alignment = wrap
    return cell


#: The first column of the CSV: which table (request type) a row belongs to.
TYPE_COLUMN = "Loại đề nghị"
#: Text a spreadsheet would turn into a number and so change: a leading zero (a CCCD, a phone number) is
#: dropped, more than 11 digits are shown as 1,23457E+11, a serial such as ``12E45`` becomes 1,2E+46.
_NUMBER_LOOKALIKE = re.compile(r"^(0\d+|\d{12,}|\d+[eE][+-]?\d+)$")


@dataclass(frozen=True)
class _ExcelText:
    """A cell Excel keeps as the text it is: written ``="0912345678"`` (Excel ignores the quotes of a
    plain ``"0912345678"`` and drops the zero). Not a string, so :func:`neutralise` lets it past (it would
    take the formula for an attack); only digits (and an ``E``) are ever written so."""

    digits: str

    def __str__(self) -> str:
        return f'="{self.digits}"'


def _csv_cell(value: str) -> str | _ExcelText:
    return _ExcelText(value) if _NUMBER_LOOKALIKE.match(value) else value


def build_annex_csv(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """All tables in ONE CSV, as a clerk reads it in Excel: each table a section with its own header row
    (``Loại đề nghị``, ``STT``, its columns) and rows holding only its own columns, a blank row between
    sections; every row begins with its table's sheet name (filter column A to keep one type). Numbers
    written with digits that a spreadsheet would change (CCCD, phone) are kept as text; UTF-8 with BOM, CRLF."""
    check_tables(tables)
    if any(TYPE_COLUMN in table.columns for table in tables):
        raise ValueError(f"Không dùng «{TYPE_COLUMN}» làm tên cột: tên này là cột đầu của tệp CSV.")
    names = _sheet_names(tables)

    def rows() -> Iterator[list[str | _ExcelText]]:
        for index, (table, name) in enumerate(zip(tables, names, strict=True)):
            if index:
                yield []
                yield [TYPE_COLUMN, NUMBER_COLUMN, *table.columns]
            for number, row in enumerate(table.rows, 1):
                yield [name, str(number), *map(_csv_cell, row)]

    return excel_csv([TYPE_COLUMN, NUMBER_COLUMN, *tables[0].columns], rows(), delimiter)


def build_annex_csv_zip(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """One CSV per table (``STT`` then its columns; UTF-8 with BOM, text kept as in :func:`build_annex_csv`)
    in a ZIP, named ``01 <sheet name>.csv``."""
    check_tables(tables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (table, name) in enumerate(zip(tables, _sheet_names(tables), strict=True), 1):
            rows = ([str(number), *map(_csv_cell, row)] for number, row in enumerate(table.rows, 1))
            archive.writestr(f"{index:02d} {name}.csv", excel_csv([NUMBER_COLUMN, *table.columns], rows, delimiter))
    return buffer.getvalue()
