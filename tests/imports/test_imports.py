"""CSV import of organisations and people: the whole file or nothing, every problem by line."""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.errors import PermissionDenied
from certsvc.imports.reading import MAX_ROWS, read_rows
from certsvc.imports.service import import_csv
from certsvc.imports.specs import SPECS, ImportKind, ImportRefused
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from tests.conftest import add_account, add_org

URL = "/admin/import/"
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
BOM = b"\xef\xbb\xbf"
ENCODING_HINT = "CSV UTF-8"

PEOPLE_HEADER = "Họ và tên,Chức vụ,Đơn vị,Số CCCD,Thư điện tử,Điện thoại\n"


def _upload(browser, kind: str, content: bytes, name: str = "danh_sach.csv"):
    return browser.post(URL, {"kind": kind, "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _audit(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _org(session, name: str) -> Organisation:
    return session.scalars(select(Organisation).where(Organisation.name == name)).one()


def _flashes(browser) -> list[str]:
    with browser.client.session_transaction() as state:
        return [message for _, message in state.get("_flashes", [])]


def _windows_1258(text: str) -> bytes:
    """What Excel's plain «CSV» writes on Vietnamese Windows: precomposed base letters, tones as combining marks."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out += (base + "".join(c for c in parts if c in tones)).encode("cp1258")
    return bytes(out)


@pytest.fixture
def counts(session):
    """The numbers a refused import must leave as they were."""
    return lambda: (_count(session, Organisation), _count(session, Person), _count(session, AuditEntry))


@pytest.fixture
def refused(browser, counts):
    """Upload a file that must be refused: a 400 page and nothing written. Returns the page."""

    def upload(kind: str, content: bytes, name: str = "danh_sach.csv") -> str:
        before = counts()
        response = _upload(browser, kind, content, name)
        assert response.status_code == 400, response.status_code
        assert counts() == before
        return response.get_data(as_text=True)

    return upload


# --- organisations ------------------------------------------------------------------------------

ORG_FILE = """Tên cơ quan;Ký hiệu;Mã định danh;Loại;Cơ quan cấp trên;Cơ quan đầu mối;Địa chỉ
UBND xã Tri Lễ;UBND;000.21.12.H40;UBND xã, phường, thị trấn;000.00.12.H40;Phòng Văn hóa và Thông tin;Xã Tri Lễ

Trạm Y tế xã Tri Lễ;tyt;;Đơn vị sự nghiệp;UBND xã Tri Lễ;;
Phòng Tài chính - Kế hoạch;TCKH;000.22.12.H40;office;UBND huyện Văn Quan;;"Thị trấn Văn Quan; Lạng Sơn"
"""


def test_org_file_with_vietnamese_headers_and_semicolons(browser, world, session):
    browser.login("administrator")
    before = len(_audit(session))
    content = ORG_FILE.encode()
    response = _upload(browser, "organisations", content, "to_chuc_moi.csv")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/admin/orgs/"
    assert _flashes(browser) == ["Đã nhập 3 tổ chức từ tệp «to_chuc_moi.csv»."]

    commune, station, finance = (
        _org(session, name) for name in ("UBND xã Tri Lễ", "Trạm Y tế xã Tri Lễ", "Phòng Tài chính - Kế hoạch")
    )
    district, focal = world.orgs["district"], world.orgs["focal"]
    assert commune.parent_id == district.id and commune.kind is OrgKind.COMMUNE_COMMITTEE
    assert commune.focal_office_id == focal.id and commune.agency_code == "000.21.12.H40"
    assert station.parent_id == commune.id  # a parent defined earlier in the same file
    assert station.symbol == "TYT" and station.kind is OrgKind.PUBLIC_SERVICE_UNIT
    assert finance.parent_id == district.id and finance.address == "Thị trấn Văn Quan; Lạng Sơn"

    entries = _audit(session)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.action == "import.organisations" and entry.actor_label == "administrator"
    details = json.loads(entry.details)
    assert details == {
        "count": 3,
        "file_name": "to_chuc_moi.csv",
        "sha256": hashlib.sha256(content).hexdigest(),
        "created_ids": [commune.id, station.id, finance.id],
    }


def test_headers_match_without_case_diacritics_or_extra_spaces(browser, world, session):
    browser.login("administrator")
    content = (
        "  TEN   CO QUAN ,ky hieu,LOAI,co quan cap tren,E-mail\n"
        "Phòng Nội vụ,NV,Phong, ban chuyen mon,000.00.12.H40,noivu@langson.gov.vn\n"
    ).encode()
    # Four headers but the kind cell holds a comma: quote it, as a spreadsheet would.
    content = content.replace(b"Phong, ban chuyen mon", b'"Phong, ban chuyen mon"')
    response = _upload(browser, "organisations", content)
    assert response.status_code == 302, response.get_data(as_text=True)
    org = _org(session, "Phòng Nội vụ")
    assert org.kind is OrgKind.OFFICE and org.email == "noivu@langson.gov.vn"


def test_commune_administrator_cannot_import_under_the_district(browser, world, session, refused):
    commune = world.orgs["commune"]
    add_account(session, "quantrixa", commune, (Role.ADMINISTRATOR, commune))
    session.commit()
    browser.login("quantrixa")
    content = (
        "Tên cơ quan;Ký hiệu;Loại;Cơ quan cấp trên\n"
        "Phòng Nội vụ;NV;Phòng, ban chuyên môn;000.00.12.H40\n"
        "Bộ phận một cửa;MC;Khác;UBND xã Tân Đoàn\n"
        "Phòng Tư pháp;TP;Phòng, ban chuyên môn;UBND huyện Văn Quan\n"
    ).encode()
    page = refused("organisations", content)
    for line in ("Dòng 2", "Dòng 4"):
        assert line in page
    assert "Dòng 3" not in page  # the row under the commune itself is fine: only the others are refused
    assert page.count("không có quyền quản lý «UBND huyện Văn Quan»") == 2


def test_org_reference_problems(browser, world, session, refused):
    add_org(session, None, "", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, world.orgs["commune"])
    session.commit()
    browser.login("administrator")
    content = (
        "Tên cơ quan,Ký hiệu,Mã định danh,Loại,Cơ quan cấp trên,Cơ quan đầu mối\n"
        "Đội A,DA,,Khác,Đội B,\n"  # line 2: Đội B comes later
        "Đội B,DB,000.31.12.H40,Khác,UBND huyện Văn Quan,Phòng Văn hóa và Thông tin\n"  # ambiguous focal
        "Đội C,DC,000.31.12.H40,Khác,Không có cơ quan này,\n"  # same code as line 3, unknown parent
        "Đội D,DD,,loại lạ,Đội C,\n"  # parent row has errors; bad kind
        "Đội E,DE,,Khác,,\n"  # no parent
    ).encode()
    page = refused("organisations", content)
    expected = [
        "Dòng 2",
        "«Đội B» ở dòng 3: dòng đó phải đứng trước dòng này.",
        "Dòng 3",
        "Có 2 tổ chức cùng tên «Phòng Văn hóa và Thông tin»: hãy ghi mã định danh.",
        "Dòng 4",
        "Trùng mã định danh với dòng 3.",
        "Không tìm thấy tổ chức «Không có cơ quan này».",
        "Dòng 5",
        "Dòng 4 có lỗi: sửa dòng đó trước.",
        "Loại «loại lạ» không hợp lệ.",
        "Dòng 6",
        "Chọn cơ quan cấp trên.",
    ]
    for text in expected:
        assert text in page, text


# --- people ---------------------------------------------------------------------------------------


def test_people_file_with_bom_imports_into_the_right_units(browser, world, session):
    browser.login("administrator")
    content = (
        BOM
        + (
            PEOPLE_HEADER
            + "Nguyễn Văn An,Chủ tịch,UBND xã Tân Đoàn,001085000111,an.nv@langson.gov.vn,0912 345 678\n"
            + "Hà Thị Bích,Văn thư,000.00.12.H40,001190000222,,\n"
            + "\r\n,,,,,\n"  # empty lines, as spreadsheets leave them
            + '"Lý Văn Cường","Trưởng phòng, kiêm nhiệm","Phòng Văn hóa và Thông tin",,,+84912000111\n'
        ).encode()
    )
    response = _upload(browser, "people", content)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/admin/people/"
    assert _flashes(browser) == ["Đã nhập 3 cán bộ từ tệp «danh_sach.csv»."]
    names = ("Nguyễn Văn An", "Hà Thị Bích", "Lý Văn Cường")
    people = {p.full_name: p for p in session.scalars(select(Person).where(Person.full_name.in_(names)))}
    assert people["Nguyễn Văn An"].organisation_id == world.orgs["commune"].id
    assert people["Nguyễn Văn An"].phone == "0912345678"
    assert people["Hà Thị Bích"].organisation_id == world.orgs["district"].id
    assert people["Lý Văn Cường"].organisation_id == world.orgs["focal"].id
    assert people["Lý Văn Cường"].position == "Trưởng phòng, kiêm nhiệm"
    entry = _audit(session)[-1]
    assert entry.action == "import.people"
    assert json.loads(entry.details)["created_ids"] == [people[name].id for name in names]


def test_one_bad_row_refuses_the_whole_file(browser, world, session, refused):
    browser.login("administrator")
    content = (
        PEOPLE_HEADER
        + "Nguyễn Văn An,Chủ tịch,UBND xã Tân Đoàn,001085000111,,\n"
        + "Hà Thị Bích,Văn thư,UBND xã Tân Đoàn,12345,,\n"  # line 3: bad CCCD
        + "Lý Văn Cường,Chuyên viên,UBND xã Yên Phúc,001085000333,,\n"
        + "Đinh Thị Dung,Chuyên viên,UBND xã Không Có,001085000444,,\n"  # line 5: unknown unit
    ).encode()
    page = refused("people", content)
    assert "Không có dữ liệu nào được ghi" in page
    assert "Dòng 3" in page and "Số CCCD phải gồm đúng 12 chữ số." in page
    assert "Dòng 5" in page and "Không tìm thấy tổ chức «UBND xã Không Có»." in page
    assert "Dòng 2" not in page and "Dòng 4" not in page


def test_duplicate_cccd_within_the_file_is_refused(browser, world, session, refused):
    browser.login("administrator")
    content = (
        PEOPLE_HEADER
        + "Nguyễn Văn An,,UBND xã Tân Đoàn,001085000111,,\n"
        + "Nguyễn Văn An,,UBND xã Yên Phúc,0010 8500 0111,,\n"
    ).encode()
    page = refused("people", content)
    assert "Dòng 3" in page and "Trùng số CCCD với dòng 2." in page


@pytest.mark.parametrize(
    "encode",
    [_windows_1258, lambda text: text.encode("cp1252", errors="replace")],
    ids=["windows-1258", "windows-1252"],
)
def test_file_not_in_utf8_is_refused_with_the_encoding_advice(browser, world, session, refused, encode):
    browser.login("administrator")
    content = encode(PEOPLE_HEADER + "Nguyễn Văn An,,UBND xã Tân Đoàn,,,\n")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    page = refused("people", content)
    assert "UTF-8" in page and ENCODING_HINT in page


def test_unknown_and_missing_headers_are_named(browser, world, session, refused):
    browser.login("administrator")
    page = refused("people", "Họ và tên;Ngày sinh;Chức vụ\nNguyễn Văn An;1/1/1980;\n".encode())
    assert "Ngày sinh" in page and "Không nhận ra cột này." in page
    assert "Đơn vị" in page and "Thiếu cột bắt buộc." in page


# --- files that are not what they should be ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Chọn tệp CSV"),  # an empty upload: the browser sends no file name
        (b"\x00\x01\x02\xffjunk\x89PNG\r\n", "không phải là tệp văn bản"),
        (bytes(range(128, 256)) * 40, ENCODING_HINT),
        (BOM, "Tệp rỗng"),
        (b"\n\r\n  \n", "Tệp rỗng"),
        (PEOPLE_HEADER.encode(), "chỉ có dòng tiêu đề"),
        (BOM + PEOPLE_HEADER.encode() + b",,,,,\r\n", "chỉ có dòng tiêu đề"),
        (b"\xff\xfeH\x00o\x00", "UTF-16"),
        (PEOPLE_HEADER.encode() + b"A" * 300_000 + b"\n", "không đọc được"),
        (PEOPLE_HEADER.encode() + b'"An,,UBND x\n', "dấu ngoặc kép không khớp"),
        (b"x" * 120_000 + b"\n", "Không nhận ra cột này."),
        (PEOPLE_HEADER.encode() + b"An,,UBND,,,,surplus\n", "cột không có tiêu đề"),
    ],
    ids=[
        "no-file",
        "binary",
        "high-bytes",
        "bom-only",
        "blank-lines",
        "header-only",
        "header-only-bom",
        "utf-16",
        "long-line",
        "open-quote",
        "long-header",
        "surplus-cell",
    ],
)
def test_bad_files_get_a_message_never_an_error_page(browser, world, session, refused, content, message):
    browser.login("administrator")
    name = "" if message == "Chọn tệp CSV" else "tep.csv"
    page = refused("people", content, name)
    assert message in page


def test_zero_byte_named_file_and_wrong_kind(browser, world, session, counts, refused):
    browser.login("administrator")
    assert "Tệp rỗng" in refused("people", b"", "rong.csv")
    assert "Chọn loại dữ liệu" in refused("accounts", PEOPLE_HEADER.encode())
    before = counts()
    missing = browser.post(URL, {"kind": "people"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Chọn tệp CSV để tải lên." in missing.get_data(as_text=True)
    assert counts() == before


def test_too_many_rows_is_refused(browser, world, session, refused):
    browser.login("administrator")
    rows = "".join(f"Cán bộ {n},,UBND xã Tân Đoàn,,,\n" for n in range(MAX_ROWS + 1))
    assert f"hơn {MAX_ROWS} dòng" in refused("people", (PEOPLE_HEADER + rows).encode())


# --- who may import -----------------------------------------------------------------------------------


def test_auditor_is_forbidden(browser, world, session, counts):
    browser.login("auditor")
    before = counts()
    assert browser.get(URL).status_code == 403
    response = _upload(browser, "people", (PEOPLE_HEADER + "An,,UBND xã Tân Đoàn,,,\n").encode())
    assert response.status_code == 403
    assert browser.get("/admin/import/samples/can_bo.csv").status_code == 403
    assert counts() == before


def test_service_refuses_an_account_without_the_permission(world, session):
    with pytest.raises(PermissionDenied):
        import_csv(session, world.account("focal_officer"), ImportKind.PEOPLE, "x.csv", PEOPLE_HEADER.encode())


# --- the page and the samples ---------------------------------------------------------------------------


def test_upload_page_explains_the_columns(browser, world):
    browser.login("administrator")
    response = browser.get(URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "Nhập tổ chức, cán bộ từ tệp CSV",
        "CSV UTF-8",
        "Tên cơ quan",
        "Cơ quan cấp trên",
        "Họ và tên",
        "Số CCCD",
        'enctype="multipart/form-data"',
        "/admin/import/samples/to_chuc.csv",
        "/admin/import/samples/can_bo.csv",
    ):
        assert text in page, text


def test_samples_download_and_import_cleanly_into_the_tree(browser, world, session):
    browser.login("administrator")
    assert browser.get("/admin/import/samples/khong_co.csv").status_code == 404
    imported = {}
    for kind, name in (("organisations", "to_chuc"), ("people", "can_bo")):
        download = browser.get(f"/admin/import/samples/{name}.csv")
        assert download.status_code == 200
        assert download.mimetype == "text/csv"
        assert "attachment" in download.headers["Content-Disposition"]
        content = download.get_data()
        assert content == (SAMPLES / f"{name}.csv").read_bytes() and content.startswith(BOM)
        response = _upload(browser, kind, content, f"{name}.csv")
        assert response.status_code == 302, response.get_data(as_text=True)
        imported[kind] = json.loads(_audit(session)[-1].details)["count"]
        data_lines = [line for line in content.decode("utf-8-sig").splitlines()[1:] if line.strip()]
        assert imported[kind] == len(data_lines)
    station = _org(session, "Trạm Y tế xã Tri Lễ")
    assert station.parent.name == "UBND xã Tri Lễ" and station.parent.parent_id == world.orgs["district"].id
    nurse = session.scalars(select(Person).where(Person.full_name == "Nông Văn Tuấn")).one()
    assert nurse.organisation_id == station.id


def test_samples_follow_the_column_specification():
    for spec in SPECS.values():
        rows = read_rows(spec, (SAMPLES / f"{spec.sample}.csv").read_bytes())
        assert rows and all(row.cells for row in rows)


def test_refusal_lists_every_problem_in_line_order(world, session):
    content = (PEOPLE_HEADER + ",,UBND xã Tân Đoàn,1,,\n" + "An,,,,thu@,12\n").encode()
    with pytest.raises(ImportRefused) as refused:
        import_csv(session, world.account("administrator"), ImportKind.PEOPLE, "x.csv", content)
    problems = [(p.line, p.column) for p in refused.value.problems]
    assert problems == [
        (2, "Họ và tên"),
        (2, "Số CCCD"),
        (3, "Đơn vị"),
        (3, "Thư điện tử"),
        (3, "Điện thoại"),
    ]
