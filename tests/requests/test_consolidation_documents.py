"""The consolidation documents: the proposal letter (fields token_agent fills and signs), the annex as PDF,
XLSX and CSV, bad input; and one round through token-agent's command line on a generated letter."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pyhanko.pdf_utils.reader import PdfFileReader

from bench.consolidation_documents import HEADING, REQUEST_TYPES, sample_letter, sample_tables
from certsvc.core.numbers import format_count
from certsvc.requests.papers.annex import AnnexTable
from certsvc.requests.papers.annex_pdf import build_annex_pdf
from certsvc.requests.papers.annex_tables import _sheet_names, build_annex_csv, build_annex_csv_zip, build_annex_xlsx
from certsvc.requests.papers.letter import _letter_layout, build_letter_pdf
from tests.token_agent.conftest import field_rects, qpdf_ok
from token_agent import placement, signing

MM = 72 / 25.4
A4_WIDTH, A4_HEIGHT = 595.2756, 841.8898


@pytest.fixture(scope="module")
def tables() -> list[AnnexTable]:
    return sample_tables(300, 40)


@pytest.fixture(scope="module")
def letter_pdf(tables, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("letter") / "cong-van.pdf"
    path.write_bytes(build_letter_pdf(sample_letter(tables)))
    return path


@pytest.fixture(scope="module")
def annex_pdf(tables, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("annex") / "phu-luc.pdf"
    path.write_bytes(build_annex_pdf(tables, heading=HEADING))
    return path


def pdftotext(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def fields_of(pdf: bytes) -> dict[str, object]:
    form = PdfFileReader(io.BytesIO(pdf)).root["/AcroForm"]
    return {str(f.get_object()["/T"]): f.get_object() for f in form["/Fields"]}


def baseline(rect: tuple[float, ...]) -> float:
    """The text baseline of a token_agent one-line field (its box reaches 0.35 sizes below it)."""
    size = placement.font_size_for(rect[3] - rect[1])
    return rect[1] + placement.BASELINE_DEPTH * size


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- the letter ----------------------------------------------------------------------------------------


def test_letter_has_the_fields_token_agent_fills_and_signs(letter_pdf):
    data = letter_pdf.read_bytes()
    fields = fields_of(data)
    assert set(fields) == {signing.NUMBER_FIELD, signing.DATE_FIELD, signing.PERSONAL_FIELD, signing.ORGANISATION_FIELD}
    number, date = fields[signing.NUMBER_FIELD], fields[signing.DATE_FIELD]
    assert number["/FT"] == date["/FT"] == "/Tx"
    assert "/V" not in number and "/V" not in date and "/AP" not in number  # blank until the clerk fills them
    assert str(number["/DA"]).startswith("/LiberationSerif ")
    assert str(date["/DA"]).startswith("/LiberationSerif-Italic ")
    rects = field_rects(data)
    n_x1, n_y1, n_x2, _ = rects[signing.NUMBER_FIELD]
    d_x1, _, d_x2, _ = rects[signing.DATE_FIELD]
    assert 30 * MM < n_x1 < n_x2 <= 100 * MM + 0.01 < d_x1 < d_x2 <= A4_WIDTH - 15 * MM  # left / right column
    assert baseline(rects[signing.NUMBER_FIELD]) == pytest.approx(baseline(rects[signing.DATE_FIELD]))
    assert A4_HEIGHT - 80 * MM < n_y1 < A4_HEIGHT - 20 * MM
    assert qpdf_ok(letter_pdf)


def test_letter_fields_are_where_token_agent_would_look(tables):
    """token_agent's own placement, run on the letter's plain layout, finds the same number, date and
    signature places the letter's fields were given."""
    letter = sample_letter(tables)
    plain, places = _letter_layout(letter)
    lines = placement.read_lines(plain, 0)
    number, _size = placement.number_place(lines)
    assert number.x1 == pytest.approx(places.number.x1, abs=2)
    assert number.y1 == pytest.approx(places.number.y1, abs=1)
    found = placement.signer_place(placement.read_lines(plain, places.signature.page), letter.signer_name)
    assert found.page == places.signature.page
    assert found.y1 == pytest.approx(places.signature.y1, abs=3)
    assert found.y2 == pytest.approx(places.signature.y2, abs=3)
    assert (found.x1 + found.x2) / 2 == pytest.approx((places.signature.x1 + places.signature.x2) / 2, abs=2)


def test_letter_text_is_vietnamese_with_counts_and_total(letter_pdf, tables):
    text = pdftotext(letter_pdf)
    for expected in (
        "ỦY BAN NHÂN DÂN",
        "HUYỆN VĂN QUAN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số:",
        "/UBND-VHTT",
        "Văn Quan, ngày",
        "V/v đề nghị cấp mới",
        "Kính gửi:",
        "- Cục Chứng thực số và Bảo mật thông tin",
        "Nơi nhận:",
        "- Lưu: VT, VHTT.",
        "TM. ỦY BAN NHÂN DÂN",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Triệu Đức Dũng",
        "(Chi tiết tại Phụ lục kèm theo)",
        "Tổng cộng: 300 trường hợp.",
    ):
        assert expected in text, expected
    flat = " ".join(text.split())
    assert "(Mẫu 01): 120 trường hợp;" in flat and "(Mẫu 06): 30 trường hợp;" in flat
    assert page_count(letter_pdf) == 1


def test_letter_fonts_are_embedded_liberation_serif(letter_pdf, annex_pdf):
    for path in (letter_pdf, annex_pdf):
        listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
        fonts = listing.splitlines()[2:]
        assert fonts and all("LiberationSerif" in line and " yes " in line for line in fonts), listing


def test_long_letter_flows_onto_page_two_with_the_signer_block_kept_together(tables, tmp_path):
    letter = sample_letter(tables)
    long = dataclasses.replace(
        letter, opening="\n\n".join([letter.opening] * 5), recipients=["Cục Chứng thực số", "Sở KH&CN <tỉnh> Lạng Sơn;"]
    )
    path = write(tmp_path, "dai.pdf", build_letter_pdf(long))
    assert page_count(path) == 2 and qpdf_ok(path)
    first, second = pdftotext(path, 1), pdftotext(path, 2)
    assert "- Sở KH&CN <tỉnh> Lạng Sơn." in first
    for part in ("Nơi nhận:", "TM. ỦY BAN NHÂN DÂN", "PHÓ CHỦ TỊCH", "Triệu Đức Dũng"):
        assert part in second and part not in first
    assert second.strip().startswith("2")  # page number from page 2
    pages = {name: box[0] for name, box in _field_pages(path.read_bytes()).items()}
    assert pages == {
        signing.NUMBER_FIELD: 0,
        signing.DATE_FIELD: 0,
        signing.PERSONAL_FIELD: 1,
        signing.ORGANISATION_FIELD: 1,
    }


def _field_pages(pdf: bytes) -> dict[str, tuple[int]]:
    reader = PdfFileReader(io.BytesIO(pdf))
    page_ids = [reader.find_page_for_modification(i)[0].idnum for i in range(int(reader.root["/Pages"]["/Count"]))]
    return {name: (page_ids.index(field.raw_get("/P").idnum),) for name, field in fields_of(pdf).items()}


def test_letter_wraps_a_long_issuing_body_and_takes_a_head_signing_alone(tables, tmp_path):
    letter = dataclasses.replace(
        sample_letter(tables),
        issuing_body_parent="UBND TỈNH LẠNG SƠN",
        issuing_body="Sở Khoa học và Công nghệ tỉnh Lạng Sơn",
        symbol="SKHCN-BCVT",
        signer_authority="GIÁM ĐỐC",
        signer_title="",
        recipients=["Cục Chứng thực số"],
    )
    path = write(tmp_path, "so.pdf", build_letter_pdf(letter))
    text = pdftotext(path)
    assert "SỞ KHOA HỌC VÀ CÔNG" in text and "NGHỆ TỈNH LẠNG SƠN" in text and "/SKHCN-BCVT" in text
    assert "Kính gửi: Cục Chứng thực số" in " ".join(text.split()) and "GIÁM ĐỐC" in text
    rects = field_rects(path.read_bytes())
    assert rects[signing.NUMBER_FIELD][2] <= 100 * MM + 0.01 and qpdf_ok(path)


def test_format_count_uses_vietnamese_grouping():
    assert [format_count(n) for n in (7, 10_000, 1_234_567)] == ["7", "10.000", "1.234.567"]


# --- the annex PDF -------------------------------------------------------------------------------------


def test_annex_pdf_paginates_with_the_header_on_every_page(annex_pdf, tables):
    pages = page_count(annex_pdf)
    assert pages > 5 and qpdf_ok(annex_pdf)
    first = pdftotext(annex_pdf, 1)
    assert "Phụ lục" in first and "Bảng 1. Đề nghị cấp mới chứng thư số cho cá nhân (Mẫu 01)" in first
    assert re.search(r"\(Kèm theo Công văn số\s+/UBND-VHTT ngày\s+tháng", first)  # the heading's blanks
    table_one_pages = [page for page in range(1, pages + 1) if "Số điện thoại" in pdftotext(annex_pdf, page)]
    assert len(table_one_pages) >= 3  # the 120 rows of table 1 run over several pages, each with the header
    for page in table_one_pages:
        assert re.search(r"STT\s+Họ và tên\s+Số CCCD\s+Chức vụ\s+Đơn vị", pdftotext(annex_pdf, page))
    everything = pdftotext(annex_pdf)
    for table in tables:
        assert " ".join(table.title.split()) in " ".join(everything.split())
        assert table.rows[-1][0].split()[0] in everything


def test_annex_pdf_wraps_long_cells_inside_the_page(tmp_path):
    long_word = "x" * 300
    table = AnnexTable(
        title="Bảng 1. Ô dài",
        columns=["Họ và tên", "Ghi chú", "Thư điện tử"],
        rows=[
            ["Nguyễn Văn An", "Rất dài " * 80, long_word],
            ["Lê Thị Bình", "Dòng một\nDòng hai", "binh@langson.gov.vn"],
        ],
    )
    path = write(tmp_path, "dai.pdf", build_annex_pdf([table], heading="PHỤ LỤC"))
    assert qpdf_ok(path)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True).stdout
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', html)]
    assert right_edges and max(right_edges) <= 841.89 - 15 * MM + 1  # landscape A4, right margin
    text = pdftotext(path)
    # Nothing lost (a line may end between "Rất" and "dài", so the words are counted one by one).
    cells = text.split("Bảng 1. Ô dài", 1)[1]
    assert "Dòng một" in cells and "Dòng hai" in cells and cells.count("Rất") == cells.count("dài") == 80


def test_annex_row_taller_than_a_page_is_cut_not_lost(tmp_path):
    table = AnnexTable(title="Bảng 1", columns=["Ghi chú"], rows=[["\n".join(f"dòng {i}" for i in range(80))], ["sau"]])
    path = write(tmp_path, "cao.pdf", build_annex_pdf([table], heading="PHỤ LỤC"))
    assert qpdf_ok(path) and "sau" in pdftotext(path) and "…" in pdftotext(path)


# --- XLSX and CSV --------------------------------------------------------------------------------------


def test_annex_xlsx_has_one_sheet_per_table_with_bold_frozen_header(tables):
    tricky = AnnexTable(
        title="Bảng 7. Ô đặc biệt: công thức? [thử]",
        columns=["Giá trị"],
        rows=[["=1+1"], ["001234567890"], ["Dòng một\nDòng hai"]],
    )
    workbook = load_workbook(io.BytesIO(build_annex_xlsx([*tables, tricky], heading=HEADING)))
    assert len(workbook.sheetnames) == 7 == len(set(workbook.sheetnames))
    assert all(len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name) for name in workbook.sheetnames)
    for table, sheet in zip(tables, workbook.worksheets, strict=False):
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][0].startswith("Phụ lục — DANH SÁCH ĐỀ NGHỊ") and values[1][0] == table.title
        assert list(values[2]) == ["STT", *table.columns]
        assert all(cell.font.b for cell in sheet[3])
        assert sheet.freeze_panes == "A4"
        assert [list(row) for row in values[3:]] == [[i, *row] for i, row in enumerate(table.rows, 1)]
        assert sheet.column_dimensions["B"].width > 6
    special = workbook.worksheets[-1]
    assert [row[1].value for row in special.iter_rows(min_row=4)] == ["=1+1", "001234567890", "Dòng một\nDòng hai"]
    assert special["B4"].data_type == "s"


def test_sheet_names_are_short_and_unique():
    title = "Bảng 1. Đề nghị cấp mới chứng thư số cho cá nhân (Mẫu 01)"
    names = _sheet_names(
        [AnnexTable(title, ["A"], []), AnnexTable(title, ["A"], []), AnnexTable("x", ["A"], [], sheet_name="Mẫu 01")]
    )
    assert names == ["Bảng 1. Đề nghị cấp… (Mẫu 01)", "Bảng 1. Đề nghị… (Mẫu 01) (2)", "Mẫu 01"]


def test_annex_csv_has_bom_and_round_trips(tables):
    special = AnnexTable(
        title="Bảng 7. Đặc biệt", columns=["Họ và tên", "Ghi chú"], rows=[['Lê "Bình", Văn', "dòng 1\ndòng 2"]]
    )
    data = build_annex_csv([*tables, special])
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    sections, section = [], []
    for line in lines:  # a section per table: its header row, its rows; a blank row between
        if line:
            section.append(line)
        else:
            sections.append(section)
            section = []
    sections.append(section)
    assert len(sections) == 7
    for table, (header, *rows), name in zip(
        [*tables, special], sections, _sheet_names([*tables, special]), strict=True
    ):
        assert header == ["Loại đề nghị", "STT", *table.columns]
        assert [row[:2] for row in rows] == [[name, str(i)] for i in range(1, len(table.rows) + 1)]
        assert [[_as_text(cell) for cell in row[2:]] for row in rows] == table.rows
    assert sections[-1][-1][-1] == "dòng 1\ndòng 2"


def _as_text(cell: str) -> str:
    """A CSV cell as Excel shows it: ``="0912"`` (kept as text) is 0912."""
    return cell[2:-1] if cell.startswith('="') and cell.endswith('"') else cell


def test_annex_csv_zip_has_one_csv_per_table(tables):
    with zipfile.ZipFile(io.BytesIO(build_annex_csv_zip(tables, delimiter=";"))) as archive:
        names = archive.namelist()
        assert len(names) == 6 and names[0].startswith("01 ") and all(n.endswith(".csv") for n in names)
        first = archive.read(names[0])
    assert first.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(first.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["STT", *REQUEST_TYPES[0][1]] and [[_as_text(c) for c in row] for row in rows[1:]] == [
        [str(i), *r] for i, r in enumerate(tables[0].rows, 1)
    ]


# --- bad input -----------------------------------------------------------------------------------------

BUILDERS = [
    lambda tables: build_annex_pdf(tables, heading="PHỤ LỤC"),
    lambda tables: build_annex_xlsx(tables, heading="PHỤ LỤC"),
    build_annex_csv,
    build_annex_csv_zip,
]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ([], "ít nhất một bảng"),
        ([AnnexTable("Bảng 1", ["Họ và tên", "Đơn vị"], [["An", "Xã A"], ["Bình"]])], "dòng 2: có 1 ô, cần đúng 2 ô"),
        ([AnnexTable("Bảng 1", [], [])], "không có cột"),
        ([AnnexTable("Bảng 1", ["STT", "Họ và tên"], [])], "tự đánh số"),
        ([AnnexTable("Bảng 1", ["A", "A"], [])], "trùng"),
        ([AnnexTable("Bảng 1", ["Họ và tên"], [[None]])], "cột «Họ và tên»: phải là chuỗi"),
        ([AnnexTable("Bảng 1", ["Họ và tên"], [["An\x00"]])], "ký tự điều khiển"),
        ([AnnexTable(" ", ["Họ và tên"], [])], "không được để trống"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_message(build, tables, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build(tables)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(recipients=[]), "Kính gửi"),
        (dict(counts=[]), "ít nhất một loại"),
        (dict(counts=[("Cấp mới", -1)]), "số nguyên không âm"),
        (dict(symbol="/UBND-VHTT"), "UBND-VHTT"),
        (dict(signer_name=""), "signer_name"),
    ],
)
def test_bad_letters_are_refused(tables, change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_letter_pdf(dataclasses.replace(sample_letter(tables), **change))


# --- through token-agent -------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("softhsm2-util"), reason="SoftHSM is not installed")
def test_token_agent_approves_and_issues_the_letter(letter_pdf, annex_pdf, tmp_path):
    """``token-agent sign --role approve`` then ``--role issue`` on the generated letter (no prepare step):
    the clerk's step fills number and date, and both signatures pass, the leader's as form filling. The
    annex takes the organisation's signature as a separate attachment (``--role appendix``)."""
    agent = [sys.executable, "-m", "token_agent.cli"]
    demo = tmp_path / "demo"
    subprocess.run([*agent, "demo", str(demo)], check=True, capture_output=True)
    env = os.environ | {"SOFTHSM2_CONF": str(demo / "softhsm2.conf"), "TA_PIN": "123456"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*agent, *args], env=env, capture_output=True, text=True)

    approved, issued = tmp_path / "da-ky.pdf", tmp_path / "ban-hanh.pdf"
    today = dt.datetime.now(signing.VN_TZ).date()
    done = run(
        "sign",
        "--role",
        "approve",
        str(letter_pdf),
        str(approved),
        "--token",
        "LANH-DAO",
        "--pin-env",
        "TA_PIN",
        "--signature-image",
        str(demo / "chu-ky.png"),
    )
    assert done.returncode == 0, done.stderr
    done = run(
        "sign",
        "--role",
        "issue",
        str(approved),
        str(issued),
        "--token",
        "VAN-THU",
        "--pin-env",
        "TA_PIN",
        "--seal-image",
        str(demo / "con-dau.png"),
        "--number",
        "7/UBND-VHTT",
        "--place",
        "Văn Quan",
        "--date",
        today.isoformat(),
        "--trust",
        str(demo / "root.pem"),
    )
    assert done.returncode == 0, done.stderr
    verified = run("verify", str(issued), "--trust", str(demo / "root.pem"), "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    by_field = {s["field_name"]: s for s in report["signatures"]}
    assert set(by_field) == {signing.PERSONAL_FIELD, signing.ORGANISATION_FIELD}
    assert all(s["verdict"] == "TOTAL_PASSED" for s in by_field.values())
    assert by_field[signing.PERSONAL_FIELD]["modification"] == "form_filling"
    fields = fields_of(issued.read_bytes())
    assert str(fields[signing.NUMBER_FIELD]["/V"]) == "07/UBND-VHTT"
    assert str(fields[signing.DATE_FIELD]["/V"]) == signing.format_date_line("Văn Quan", today)
    assert "/AP" in fields[signing.NUMBER_FIELD] and "/AP" in fields[signing.DATE_FIELD]  # visible when filled
    checked = subprocess.run(["pdfsig", str(issued)], capture_output=True, text=True).stdout
    assert checked.count("Signature Validation: Signature is Valid.") == 2, checked
    assert qpdf_ok(issued)

    signed_annex = tmp_path / "phu-luc-da-ky.pdf"
    done = run(
        "sign",
        "--role",
        "appendix",
        str(annex_pdf),
        str(signed_annex),
        "--token",
        "VAN-THU",
        "--pin-env",
        "TA_PIN",
        "--number",
        "7/UBND-VHTT",
    )
    assert done.returncode == 0, done.stderr
    verified = run("verify", str(signed_annex), "--trust", str(demo / "root.pem"))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _chars(path: Path) -> list:
    """Every character laid out on page 1, with its font and position (pdfminer)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTTextContainer

    page = next(extract_pages(str(path), page_numbers=[0]))
    return [
        char
        for box in page
        if isinstance(box, LTTextContainer)
        for line in box
        for char in (line if hasattr(line, "__iter__") else [])
        if isinstance(char, LTChar)
    ]


def _line_fonts(chars: list, text: str) -> set[str]:
    """The fonts of the laid-out line that reads ``text`` (its letters, spaces aside)."""
    lines: dict[float, list] = {}
    for char in chars:
        lines.setdefault(round(char.y0, 1), []).append(char)
    for line in lines.values():
        line.sort(key=lambda c: c.x0)
        read = "".join(c.get_text() for c in line)
        if text.replace(" ", "") in read.replace(" ", ""):
            start = read.replace(" ", "").index(text.replace(" ", ""))
            letters = [c for c in line if c.get_text() != " "]
            return {c.fontname for c in letters[start : start + len(text.replace(" ", ""))]}
    raise AssertionError(f"no line reads {text!r}")


def test_the_issuing_body_is_bold_in_full_and_a_long_position_wraps_inside_the_block(tables, tmp_path):
    """Nghị định 30: a committee's name is bold on both lines; "TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG HĐND VÀ UBND
    HUYỆN" has no "TM." line above it and stays inside the right margin (issue 15, items 12 and 15)."""
    letter = dataclasses.replace(
        sample_letter(tables), signer_authority="TL. CHỦ TỊCH", signer_title="CHÁNH VĂN PHÒNG HĐND VÀ UBND HUYỆN"
    )
    path = write(tmp_path, "cong-van.pdf", build_letter_pdf(letter))
    chars = _chars(path)
    for line in ("ỦY BAN NHÂN DÂN", "HUYỆN VĂN QUAN"):
        fonts = _line_fonts(chars, line)
        assert fonts and all("Bold" in font for font in fonts), (line, fonts)
    right_margin = A4_WIDTH - 15 * MM
    assert max(char.x1 for char in chars) <= right_margin + 0.5
    text = " ".join(pdftotext(path).split())
    assert "TL. CHỦ TỊCH" in text and "TM. ỦY BAN NHÂN DÂN" not in text


def test_kinh_gui_breaks_between_the_parts_of_a_name_with_a_hanging_indent(letter_pdf):
    """ "Cục Chứng thực số và Bảo mật thông tin - Ban Cơ yếu Chính phủ" breaks before "Ban", and the next line
    starts under the name, past the dash (issue 15, item 14)."""
    lines = pdftotext(letter_pdf, 1).splitlines()
    first = next(i for i, line in enumerate(lines) if "Kính gửi:" in line)
    assert lines[first].rstrip().endswith("Bảo mật thông tin -")
    following = lines[first + 1]
    assert following.strip() == "Ban Cơ yếu Chính phủ;"
    assert following.index("Ban") == lines[first].index("Cục")
