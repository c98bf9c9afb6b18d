"""Benchmark: the documents of a consolidation of 10,000 accepted requests from 500 units (target: letter +
annex PDF + annex XLSX in at most 5 s), beside baselines measured in the same run.

Baselines: the same cell texts drawn with plain reportlab ``drawString`` at fixed places (no measuring,
wrapping, borders or repeated headers), and the same rows written by openpyxl in write-only mode without
styles. The CSV is timed too (not part of the target). The sample data (also used by the tests) is made
here: :func:`sample_letter` and :func:`sample_tables`.
Run: .venv/bin/python bench/consolidation_documents.py [ROWS] [UNITS]
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from certsvc.requests.papers.annex import AnnexTable
from certsvc.requests.papers.annex_pdf import build_annex_pdf
from certsvc.requests.papers.annex_tables import build_annex_csv, build_annex_xlsx
from certsvc.requests.papers.letter import LetterData, build_letter_pdf
from certsvc.requests.papers.text import REGULAR, register_fonts

__all__ = ["HEADING", "REQUEST_TYPES", "sample_letter", "sample_tables", "main"]

TARGET_SECONDS = 5.0
REQUEST_TYPES = (
    (
        "Đề nghị cấp mới chứng thư số cho cá nhân (Mẫu 01)",
        ["Họ và tên", "Số CCCD", "Chức vụ", "Đơn vị", "Thư điện tử công vụ", "Số điện thoại"],
    ),
    (
        "Đề nghị cấp mới chứng thư số cho cơ quan, tổ chức (Mẫu 02)",
        [
            "Tên cơ quan, tổ chức",
            "Địa chỉ",
            "Mã số thuế",
            "Mã quan hệ ngân sách",
            "Thư điện tử công vụ",
            "Người nhận thiết bị",
        ],
    ),
    (
        "Đề nghị cấp chứng thư số cho thiết bị, dịch vụ, phần mềm (Mẫu 03)",
        ["Tên thiết bị, dịch vụ", "Đơn vị quản lý", "Mục đích sử dụng", "Người quản lý"],
    ),
    (
        "Đề nghị gia hạn, thay đổi nội dung thông tin chứng thư số (Mẫu 04)",
        ["Họ và tên", "Số CCCD", "Số hiệu chứng thư số", "Nội dung đề nghị", "Đơn vị"],
    ),
    ("Đề nghị thu hồi chứng thư số (Mẫu 05)", ["Họ và tên", "Số hiệu chứng thư số", "Lý do thu hồi", "Đơn vị"]),
    ("Đề nghị khôi phục thiết bị lưu khóa bí mật (Mẫu 06)", ["Họ và tên", "Số hiệu thiết bị", "Lý do", "Đơn vị"]),
)
"""The six request types of the annex: title and columns."""

_SHARE = (40, 8, 2, 25, 15, 10)  # percent of the requests of each type
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Hà", "Nông", "Lương", "Đặng", "Vi", "Lục", "Triệu")
_MIDDLE = ("Văn", "Thị", "Đức", "Quốc", "Thu", "Minh", "Thanh", "Hữu")
_GIVEN = ("An", "Bình", "Cường", "Dũng", "Hạnh", "Hương", "Khánh", "Lâm", "Ngọc", "Phúc", "Quý", "Tài", "Yến")
_POSITIONS = (
    "Chủ tịch",
    "Phó Chủ tịch",
    "Công chức Văn phòng - Thống kê",
    "Trưởng phòng",
    "Phó Trưởng phòng",
    "Chuyên viên",
    "Văn thư",
)
_REASONS = (
    "Nghỉ hưu",
    "Chuyển công tác ra ngoài khu vực nhà nước",
    "Mất thiết bị lưu khóa bí mật",
    "Thiết bị bị khóa do nhập sai mã PIN quá số lần cho phép",
    "Thay đổi chức vụ",
)


def _unit(index: int) -> str:
    kinds = ("Ủy ban nhân dân xã", "Phòng", "Trường Trung học cơ sở", "Trạm Y tế xã")
    places = ("Tràng Các", "Tân Đoàn", "Khánh Khê", "Bình Phúc", "Tri Lễ", "Hữu Lễ", "Điềm He", "Văn An")
    return f"{kinds[index % 4]} {places[index % 8]} số {index + 1}"


def _person(n: int) -> str:
    return f"{_FAMILY[n % 12]} {_MIDDLE[n // 12 % 8]} {_GIVEN[n // 96 % 13]}"


def _row(kind: int, n: int, unit: str) -> list[str]:
    person, cccd = _person(n), f"{(n * 7919) % 10**12:012d}"
    serial = f"5404{n:012X}"
    return [
        [
            person,
            cccd,
            _POSITIONS[n % 7],
            unit,
            f"{person.split()[-1].lower()}{n}@langson.gov.vn",
            f"09{n % 10**8:08d}",
        ],
        [
            unit,
            f"Thôn Phai Xá, {unit}, huyện Văn Quan, tỉnh Lạng Sơn",
            f"49{n % 10**8:08d}",
            f"{1000000 + n}",
            f"vt{n}@langson.gov.vn",
            person,
        ],
        [f"Máy chủ ký số {n}", unit, "Ký số văn bản phát hành tự động trên hệ thống quản lý văn bản", person],
        [person, cccd, serial, "Gia hạn chứng thư số 03 năm và thay đổi chức vụ", unit],
        [person, serial, _REASONS[n % 5], unit],
        [person, f"TK{n:08d}", _REASONS[3 + n % 2], unit],
    ][kind]


def sample_tables(rows: int = 10_000, units: int = 500) -> list[AnnexTable]:
    """``rows`` requests from ``units`` units over the six request types (40/8/2/25/15/10 %)."""
    tables = []
    done = 0
    for kind, ((title, columns), share) in enumerate(zip(REQUEST_TYPES, _SHARE, strict=True)):
        count = rows - done if kind == len(REQUEST_TYPES) - 1 else rows * share // 100
        body = [_row(kind, done + i, _unit((done + i) % units)) for i in range(count)]
        tables.append(AnnexTable(title=f"Bảng {kind + 1}. {title}", columns=columns, rows=body))
        done += count
    return tables


def sample_letter(tables: list[AnnexTable]) -> LetterData:
    """The district's consolidated proposal letter for these tables."""
    return LetterData(
        issuing_body_parent="",
        issuing_body="ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN",
        symbol="UBND-VHTT",
        place="Văn Quan",
        summary="V/v đề nghị cấp mới, gia hạn, thay đổi thông tin, thu hồi chứng thư số chuyên dùng công vụ",
        recipients=[
            "Cục Chứng thực số và Bảo mật thông tin - Ban Cơ yếu Chính phủ",
            "Sở Khoa học và Công nghệ tỉnh Lạng Sơn",
        ],
        opening=(
            "Thực hiện Nghị định số 68/2024/NĐ-CP ngày 25/6/2024 của Chính phủ quy định về chữ ký số chuyên "
            "dùng công vụ; trên cơ sở đề xuất nhu cầu của các cơ quan, đơn vị, Ủy ban nhân dân các xã, thị "
            "trấn, Ủy ban nhân dân huyện Văn Quan đề nghị cấp, gia hạn, thay đổi nội dung thông tin, thu hồi "
            "chứng thư số và khôi phục thiết bị lưu khóa bí mật như sau:"
        ),
        counts=[(table.title.split(". ", 1)[1], len(table.rows)) for table in tables],
        closing=(
            "Ủy ban nhân dân huyện Văn Quan kính đề nghị Cục Chứng thực số và Bảo mật thông tin xem xét, giải quyết./."
        ),
        copies_to=["- Như trên;", "- CT, các PCT UBND huyện;", "- Lưu: VT, VHTT."],
        signer_authority="TM. ỦY BAN NHÂN DÂN",
        signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        signer_name="Triệu Đức Dũng",
        annex_reference="(Chi tiết tại Phụ lục kèm theo)",
    )


HEADING = (
    "Phụ lục\nDANH SÁCH ĐỀ NGHỊ CẤP, GIA HẠN, THAY ĐỔI THÔNG TIN, THU HỒI CHỨNG THƯ SỐ CHUYÊN DÙNG CÔNG VỤ\n"
    "(Kèm theo Công văn số       /UBND-VHTT ngày       tháng       năm        của UBND huyện Văn Quan)"
)


def _plain_reportlab(tables: list[AnnexTable]) -> bytes:
    """Baseline: every cell's text drawn at a fixed place, no measuring, wrapping or borders."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    y = 560.0
    for table in tables:
        for row in table.rows:
            text = canvas.beginText()
            text.setFont(REGULAR, 10)
            for index, cell in enumerate(row):
                text.setTextOrigin(40 + index * 130, y)
                text.textOut(cell)
            canvas.drawText(text)
            y -= 14
            if y < 40:
                canvas.showPage()
                y = 560.0
    canvas.save()
    return buffer.getvalue()


def _plain_openpyxl(tables: list[AnnexTable]) -> bytes:
    """Baseline: the same rows written by openpyxl in write-only mode, no styles."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for index, table in enumerate(tables):
        sheet = workbook.create_sheet(f"Bảng {index + 1}")
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _timed(what: Callable[[], bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    size = len(what())
    return time.perf_counter() - start, size


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    units = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    tables = sample_tables(rows, units)
    letter = sample_letter(tables)
    figures = {
        "letter PDF": _timed(lambda: build_letter_pdf(letter)),
        "annex PDF": _timed(lambda: build_annex_pdf(tables, heading=HEADING)),
        "annex XLSX": _timed(lambda: build_annex_xlsx(tables, heading=HEADING)),
    }
    total = sum(seconds for seconds, _size in figures.values())
    csv_seconds, csv_size = _timed(lambda: build_annex_csv(tables))
    pdf_base, _ = _timed(lambda: _plain_reportlab(tables))
    xlsx_base, _ = _timed(lambda: _plain_openpyxl(tables))
    print(f"{rows} requests from {units} units in {len(tables)} tables")
    for name, (seconds, size) in figures.items():
        print(f"  {name:<11} {seconds:6.2f} s  {size / 1024:8.0f} KiB")
    verdict = "met" if total <= TARGET_SECONDS else "MISSED"
    print(f"  {'total':<11} {total:6.2f} s  (target ≤ {TARGET_SECONDS:.1f} s: {verdict})")
    print(f"  annex CSV   {csv_seconds:6.2f} s  {csv_size / 1024:8.0f} KiB (not in the target)")
    print("baselines in the same run:")
    print(
        f"  plain reportlab drawString of the same cells  {pdf_base:6.2f} s  "
        f"(annex PDF is {figures['annex PDF'][0] / pdf_base:.1f}×)"
    )
    print(
        f"  openpyxl write-only, no styles                {xlsx_base:6.2f} s  "
        f"(annex XLSX is {figures['annex XLSX'][0] / xlsx_base:.1f}×)"
    )


if __name__ == "__main__":
    main()
