"""The annex as tables: :func:`build_annex_xlsx` (one sheet per table), :func:`build_annex_csv` (one CSV for
all tables) and :func:`build_annex_csv_zip` (one CSV per table in a ZIP).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from certsvc.core.csvcells import excel_csv

from .annex import NUMBER_COLUMN, AnnexTable, check_tables
from .text import check_text

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

__all__ = ["build_annex_csv", "build_annex_csv_zip", "build_annex_xlsx"]

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31


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
            name, suffix = base[: _SHEET_NAME_MAX - len(tail)].rstrip() + tail, suffix + 1
        names.append(name)
    return names


def _character_widths(table: AnnexTable) -> list[int]:
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


def _text_cell(sheet: Any, value: str, cell_type: Callable[..., Any], wrap: Any) -> Any:
    """A plain string where it is safe; a cell forced to text for ``=…`` (else a formula) and multi-line text."""
    if not value.startswith("=") and "\n" not in value:
        return value
    cell = cell_type(sheet, value)
    cell.data_type = "s"
    if "\n" in value:
        cell.alignment = wrap
    return cell


def build_annex_csv(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """All tables in ONE rectangular CSV: the columns are ``Bảng`` (the table's title), ``STT``, then every
    column of every table once, in order of first appearance; a row leaves the columns of other tables empty.
    UTF-8 with BOM, CRLF; ``csv.DictReader`` gives back each table by its ``Bảng`` value."""
    check_tables(tables)
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

    return excel_csv(["Bảng", NUMBER_COLUMN, *columns], rows(), delimiter)


def build_annex_csv_zip(tables: list[AnnexTable], *, delimiter: str = ",") -> bytes:
    """One CSV per table (``STT`` then its columns; UTF-8 with BOM) in a ZIP, named ``01 <sheet name>.csv``."""
    check_tables(tables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (table, name) in enumerate(zip(tables, _sheet_names(tables), strict=True), 1):
            rows = ([str(number), *row] for number, row in enumerate(table.rows, 1))
            archive.writestr(f"{index:02d} {name}.csv", excel_csv([NUMBER_COLUMN, *table.columns], rows, delimiter))
    return buffer.getvalue()
