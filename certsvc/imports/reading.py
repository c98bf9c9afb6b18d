"""Reading an import file: its encoding, its CSV records, and its header matched to the columns of its kind.

What only the file itself can get wrong is refused here, before any row is checked: a wrong
encoding, a broken record, unknown, repeated or missing columns, too many rows.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from certsvc.imports.specs import Column, ImportProblem, ImportRefused, ImportSpec, fold, quote

__all__ = ["MAX_BYTES", "MAX_ROWS", "Row", "read_rows"]

#: Largest file accepted, in bytes.
MAX_BYTES = 5 * 1024 * 1024
#: Most data rows in one file.
MAX_ROWS = 5000


@dataclass(frozen=True)
class Row:
    """A data row: its first line in the file, and its cells by column key."""

    line: int
    cells: Mapping[str, str]


def _refuse(message: str, line: int | None = None, column: str = "") -> ImportRefused:
    return ImportRefused([ImportProblem(line, column, message)])


def _decode(content: bytes) -> str:
    if not content.strip():
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse(
            "Tệp được lưu theo mã UTF-16 («Unicode Text»). Trong Excel, chọn Lưu thành (Save As) "
            "với kiểu «CSV UTF-8 (Comma delimited)» rồi tải lên lại."
        )
    if b"\x00" in content:
        raise _refuse("Tệp không phải là tệp văn bản CSV (có ký tự nhị phân).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise _refuse(
            "Tệp không được lưu theo mã UTF-8 (có thể là mã Windows-1258 hoặc Windows-1252 mặc định của "
            "Excel), nên chữ tiếng Việt sẽ bị sai. Trong Excel, chọn Lưu thành (Save As) với kiểu "
            "«CSV UTF-8 (Comma delimited)» rồi tải lên lại.",
            line,
        ) from None
    if not text.strip():
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    return unicodedata.normalize("NFC", text)


def _sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-empty CSV records with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True)
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise _refuse("Dòng này không đọc được: ô quá dài hoặc dấu ngoặc kép không khớp.", start) from None


def _match_headers(spec: ImportSpec, line: int, headers: list[str]) -> list[Column | None]:
    """The column of each header cell (None for an empty one), or every header problem at once."""
    by_name = {fold(name): column for column in spec.columns for name in column.names}
    problems: list[ImportProblem] = []
    matched: list[Column | None] = []
    seen: set[str] = set()
    for header in headers:
        folded = fold(header)
        column = by_name.get(folded)
        if folded and column is None:
            problems.append(ImportProblem(line, quote(header), "Không nhận ra cột này."))
        elif column is not None and column.key in seen:
            problems.append(ImportProblem(line, column.label, "Cột này xuất hiện hai lần."))
        elif column is not None:
            seen.add(column.key)
        matched.append(column)
    for column in spec.columns:
        if column.required and column.key not in seen:
            problems.append(ImportProblem(line, column.label, "Thiếu cột bắt buộc."))
    if problems:
        expected = ", ".join(f"«{column.label}»" for column in spec.columns)
        problems.append(ImportProblem(line, "", f"Các cột của tệp {spec.label.lower()}: {expected}."))
        raise ImportRefused(problems)
    return matched


def read_rows(spec: ImportSpec, content: bytes) -> list[Row]:
    """Decode and parse a file into rows keyed by column, or raise :class:`ImportRefused`."""
    if len(content) > MAX_BYTES:
        raise _refuse(f"Tệp lớn quá {MAX_BYTES // (1024 * 1024)} MB. Hãy chia thành nhiều tệp.")
    records = _records(_decode(content))
    header = next(records, None)
    if header is None:
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    header_line, headers = header
    columns = _match_headers(spec, header_line, headers)
    rows: list[Row] = []
    problems: list[ImportProblem] = []
    for line, cells in records:
        if len(rows) == MAX_ROWS:
            raise _refuse(f"Tệp có hơn {MAX_ROWS} dòng dữ liệu. Hãy chia thành nhiều tệp.", line)
        values: dict[str, str] = {}
        for index, cell in enumerate(cells):
            column = columns[index] if index < len(columns) else None
            if column is not None:
                values[column.key] = cell
            elif cell.strip():
                problems.append(ImportProblem(line, f"Cột thứ {index + 1}", "Ô có dữ liệu nhưng cột không có tiêu đề."))
        rows.append(Row(line, values))
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise _refuse("Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào.", header_line)
    return rows
