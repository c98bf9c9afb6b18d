"""The annex's tables as data, and their check; :mod:`.annex_pdf` and :mod:`.annex_tables` lay them out.

Row numbers: every builder adds the ``STT`` column itself (1, 2, … in each table); the tables' own
columns must not include it. Bad input raises ValueError with a Vietnamese message naming the table, row
and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .text import CONTROL, check_text

__all__ = ["NUMBER_COLUMN", "AnnexTable", "check_tables"]

NUMBER_COLUMN = "STT"
"""The row-number column every builder adds first to every table."""


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


def check_tables(tables: Sequence[AnnexTable]) -> None:
    """Raise ValueError unless there is at least one well-formed table."""
    if not tables:
        raise ValueError("Phụ lục phải có ít nhất một bảng.")
    for number, table in enumerate(tables, 1):
        if not isinstance(table, AnnexTable):
            raise ValueError(f"Bảng thứ {number} không phải AnnexTable.")
        check_text(table.title, f"Tên bảng thứ {number}")
        name = f"Bảng «{table.title}»"
        if not table.columns:
            raise ValueError(f"{name} không có cột nào.")
        for column in table.columns:
            check_text(column, f"{name}, tên cột")
        if NUMBER_COLUMN in table.columns:
            raise ValueError(f"{name}: không đưa cột «{NUMBER_COLUMN}» vào columns, cột này được tự đánh số.")
        if len(set(table.columns)) != len(table.columns):
            raise ValueError(f"{name} có tên cột trùng nhau.")
        width = len(table.columns)
        for index, row in enumerate(table.rows, 1):
            if len(row) != width:
                raise ValueError(
                    f"{name}, dòng {index}: có {len(row)} ô, cần đúng {width} ô ({', '.join(table.columns)})."
                )
            for column, cell in zip(table.columns, row, strict=True):
                if type(cell) is not str or CONTROL.search(cell):
                    check_text(cell, f"{name}, dòng {index}, cột «{column}»", required=False)
