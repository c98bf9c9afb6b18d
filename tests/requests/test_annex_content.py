"""The annex of a batch holding every request type, as the CA's clerk reads it: the PDF's columns wide enough
for what they hold (word boxes read with pdftotext -bbox), a change's current and new values, a renewal's
current expiry, the unit's own letter; the XLSX's sheet names and print setup, the CSV's sections and text
cells."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook

from certsvc.people.models import Person
from certsvc.requests.letters import _heading, annex_tables, build_document
from certsvc.requests.papers.text import MM
from certsvc.timeutil import to_vietnam
from tests.requests.test_requests_batches import _accepted, _locked
from tests.support.registry import add_certificate
from tests.support.requests import NO_LETTER, individual

HOLDER = "Lộc Văn Thắng"
NEW_POSITION = "Chủ tịch Ủy ban nhân dân xã"
UNIT_LETTER = {
    "unit_letter_number": "45/UBND",
    "unit_letter_date": "2026-11-28",
    "unit_letter_signer": "Nông Văn Khánh",
}


@pytest.fixture
def batch(session, world):
    """A locked batch with one request of each type (the first two individuals), every one but the last
    individual with its unit's letter recorded."""
    commune = world.orgs["commune"]
    holder = Person(
        full_name=HOLDER,
        organisation=commune,
        position="Phó Chủ tịch UBND xã",
        cccd="020088007731",
        phone="0983117402",
        email="thanglv.td@langson.gov.vn",
    )
    session.add(holder)
    session.flush()
    renewed, changed, revoked = (
        add_certificate(session, commune, holder=holder, cn=HOLDER, ends=timedelta(days=days))
        for days in (20, 400, 500)
    )
    requests = [
        _accepted(
            session, world, fields=individual(full_name="Hoàng Thị Mai", cccd="001096004512", phone="0915204388")
        ),
        # sent before the unit's letter was required
        _accepted(session, world, fields=individual(full_name="Nguyễn Thị Thu Hương", **NO_LETTER)),
        _accepted(
            session,
            world,
            "new_organisation",
            {
                "org_name": "Ủy ban nhân dân xã Tân Đoàn",
                "address": "Thôn Còn Chè, xã Tân Đoàn, huyện Văn Quan, tỉnh Lạng Sơn",
                "tax_code": "4900123456",
                "budget_code": "1234567",
                "province": "Lạng Sơn",
                "email": "ubnd.td@langson.gov.vn",
                "receiver_name": "Vi Văn Tùng",
                "receiver_position": "Văn thư",
                "receiver_cccd": "020095001122",
                "receiver_phone": "0912000111",
                "validity_years": "5",
            },
        ),
        _accepted(
            session,
            world,
            "new_device",
            {
                "device_name": "Cổng thông tin điện tử xã",
                "identifier": "tandoan.vanquan.langson.gov.vn",
                "purpose": "Ký số văn bản đăng trên cổng",
                "manager_name": "Vi Văn Tùng",
                "manager_phone": "0912000111",
                "email": "tungvv.td@langson.gov.vn",
                "validity_years": "3",
            },
        ),
        _accepted(session, world, "renewal", {"certificate_id": renewed.id, "extension_years": "3"}),
        _accepted(
            session,
            world,
            "change",
            {"certificate_id": changed.id, "new_position": NEW_POSITION, "note": "Được bầu giữ chức vụ mới"},
        ),
        _accepted(session, world, "revocation", {"certificate_id": revoked.id, "reason": "retirement"}),
        _accepted(
            session, world, "recovery", {"token_id": renewed.token_id, "problem": "pin_locked", "description": ""}
        ),
    ]
    for request in requests[:1] + requests[2:]:
        request.data = {**request.data, **UNIT_LETTER}
    session.commit()
    return _locked(session, world, *requests)


def test_every_table_has_the_units_letter_and_the_changes_and_expiry_the_ca_needs(batch, session):
    tables = {t.sheet_name: t for t in annex_tables(batch)}
    assert list(tables) == [
        "1. Cấp mới cá nhân (Mẫu 01)",
        "2. Cấp mới tổ chức (Mẫu 02)",
        "3. Cấp mới thiết bị (Mẫu 03)",
        "4. Gia hạn (Mẫu 04)",
        "5. Thay đổi thông tin (Mẫu 04)",
        "6. Thu hồi (Mẫu 05)",
        "7. Khôi phục thiết bị (Mẫu 06)",
    ]
    people = tables["1. Cấp mới cá nhân (Mẫu 01)"]
    letters = [row[people.columns.index("Văn bản đề nghị của đơn vị (số, ngày)")] for row in people.rows]
    assert letters == ["45/UBND ngày 28/11/2026", ""]  # blank when the unit's letter was not recorded

    renewal = tables["4. Gia hạn (Mẫu 04)"]
    (row,) = renewal.rows
    expiry = to_vietnam(batch.requests[4].certificate.not_after)
    assert row[renewal.columns.index("Ngày hết hạn hiện tại")] == f"{expiry:%d/%m/%Y}"

    change = tables["5. Thay đổi thông tin (Mẫu 04)"]
    (row,) = change.rows
    assert not any(column.endswith(" mới") for column in change.columns)  # in the one column, beside the old
    assert row[change.columns.index("Nội dung thay đổi (hiện tại → đề nghị)")] == (
        f"Chức vụ: Phó Chủ tịch UBND xã → {NEW_POSITION}"
    )
    assert row[change.columns.index("Chủ thể chứng thư số")] == HOLDER


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float, int]]:
    """Every word of the PDF with its box (x1, y1, x2, y2, from the page's top) and page (from 1)."""
    path = tmp_path / "annex.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True).stdout
    words, page = [], 0
    for line in html.splitlines():
        page += "<page " in line
        if found := _WORD.search(line):
            x1, y1, x2, y2, word = found.groups()
            words.append((unescape(word), float(x1), float(y1), float(x2), float(y2), page))
    return words


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>')


def _lines_of(words, phrase: str) -> int:
    """On how many lines the words of ``phrase`` are printed (the first place each is found, in order)."""
    wanted, tops, at = phrase.split(), set(), 0
    texts = [word[0] for word in words]
    for part in wanted:
        at = texts.index(part, at)
        tops.add(round(words[at][2]))
    return len(tops)


def test_the_annex_pdf_gives_each_column_the_room_its_content_needs(batch, tmp_path):
    tables = annex_tables(batch)
    words = _words(build_document(batch, "annex.pdf")[1], tmp_path)
    printed = {word[0] for word in words}
    # No word is cut between its letters (a table of some twenty columns made "nghị" read "ngh / ị"): every
    # word printed is one of the heading, a title, a header or a cell, or a row or page number.
    texts = [_heading(batch), *(t.title for t in tables), *(c for t in tables for c in t.columns)]
    texts += [cell for table in tables for row in table.rows for cell in row]
    assert printed - set(" ".join(texts).split()) - {"STT", *map(str, range(1, 10))} == set()
    # Short cells on one line: a CCCD, a phone, dates, a serial whole; a name on at most two lines.
    for whole in ("001096004512", "0915204388", "10/05/2021", "28/11/2026", batch.requests[4].certificate.serial_hex):
        assert whole in printed, whole
    assert _lines_of(words, "Nguyễn Thị Thu Hương") <= 2 and _lines_of(words, "Hoàng Thị Mai") <= 2
    assert _lines_of(words, "UBND xã Tân Đoàn") <= 2
    # Inside the page's margins (A4 landscape, 15 mm either side).
    assert min(word[1] for word in words) >= 15 * MM - 1 and max(word[3] for word in words) <= 841.89 - 15 * MM + 1
    # The change request's current value and the new one, in that order, in one cell: between its first word
    # and the serial in the next column, above the next table.
    label = next(word for word in words if word[0] == "vụ:")
    first = next(w for w in words if w[0] == "Chức" and w[5] == label[5] and round(w[2]) == round(label[2]))
    serial = next(word for word in words if word[0] == batch.requests[5].certificate.serial_hex)
    below = next((word[2] for word in words if word[0] == "6." and word[5] == first[5]), 1000.0)
    cell = [
        w
        for w in words
        if w[5] == first[5] and first[1] - 1 <= w[1] and w[3] <= serial[1] and first[2] - 1 <= w[2] < below
    ]
    cell.sort(key=lambda word: (round(word[2]), word[1]))
    assert " ".join(word[0] for word in cell) == f"Chức vụ: Phó Chủ tịch UBND xã → {NEW_POSITION}"


def test_the_xlsx_names_each_type_and_prints_landscape_with_the_header_on_every_page(batch):
    workbook = load_workbook(io.BytesIO(build_document(batch, "annex.xlsx")[1]))
    assert workbook.sheetnames == [table.sheet_name for table in annex_tables(batch)]
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$3:$3"
        assert sheet["A3"].value == "STT" and sheet.column_dimensions["A"].width >= len("STT") + 2
    organisations = workbook["2. Cấp mới tổ chức (Mẫu 02)"]
    header = [cell.value for cell in organisations[3]]
    receiver = organisations.cell(4, header.index("Người nhận thiết bị lưu khóa bí mật") + 1).value
    assert receiver.split("\n") == ["Vi Văn Tùng", "Văn thư", "CCCD: 020095001122", "ĐT: 0912000111"]
    people = workbook["1. Cấp mới cá nhân (Mẫu 01)"]
    assert people.cell(4, [c.value for c in people[3]].index("Số CCCD") + 1).value == "001096004512"


def test_the_csv_has_a_section_per_type_with_only_its_columns_and_numbers_kept_as_text(batch):
    data = build_document(batch, "annex.csv")[1]
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    tables = annex_tables(batch)
    headers = [index for index, line in enumerate(lines) if line[:1] == ["Loại đề nghị"]]
    assert len(headers) == len(tables) and all(lines[index - 1] == [] for index in headers[1:])
    for table, start in zip(tables, headers, strict=True):
        assert lines[start] == ["Loại đề nghị", "STT", *table.columns]
        rows = lines[start + 1 : start + 1 + len(table.rows)]
        assert [row[0] for row in rows] == [table.sheet_name] * len(table.rows)
        assert all(len(row) == len(lines[start]) for row in rows)
    first = lines[headers[0] + 1]
    # Excel drops a plain "0915204388"'s zero, quoted or not; ="0915204388" stays text.
    assert '="001096004512"' in first and '="0915204388"' in first and "Hoàng Thị Mai" in first
    assert data.count(b'"=""0') >= 2  # as written in the file: the formula's quotes doubled
