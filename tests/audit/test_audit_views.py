"""The audit log page and its CSV export: who sees them, filters, bad input, the file's form."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.audit import service as audit_service
from certsvc.audit.service import Actor, record

ADMIN = Actor(label="administrator", account_id=1)
BOM = "\ufeff"


@pytest.fixture(autouse=True)
def auditor_of_the_whole_tree(session, world):
    """Most entries here are about objects that do not exist, so of no organisation: only a viewer of the
    whole tree sees them. The auditor is made one (the scope itself: tests/audit/test_audit_scope.py)."""
    auditor = session.get(Account, world.account(Role.AUDITOR).id)
    auditor.roles.append(RoleAssignment(role=Role.AUDITOR, organisation_id=world.orgs["province"].id))
    session.commit()


@pytest.fixture
def record_at(session, monkeypatch):
    """Record a committed entry as if it happened at ``moment`` (UTC)."""

    def write(
        moment: datetime,
        action: str = "org.updated",
        actor: Actor = ADMIN,
        object_id: object = 1,
        details: dict | None = None,
        object_type: str = "organisation",
    ):
        monkeypatch.setattr(audit_service, "utcnow", lambda: moment)
        entry = record(session, actor, action, object_type, object_id, details)
        session.commit()
        monkeypatch.undo()
        return entry

    return write


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows(page: str) -> list[int]:
    """The sequence numbers in the page's table, in the order shown."""
    return [int(seq) for seq in re.findall(r'<td class="num">(\d+)</td>', page)]


def csv_rows(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[1:])))


# -- who may look -------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["auditor", "administrator"])
def test_auditor_and_administrator_see_the_log(browser, world, username):
    browser.login(username)
    response = browser.get("/audit/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nhật ký hệ thống" in page
    assert "certsvc audit verify" in page
    assert "Đăng nhập" in page and "auth.login" in page  # their own sign-in is the newest entry


@pytest.mark.parametrize("username", ["unitofficer", "unithead", "clerk", "reviewer", "focalofficer"])
@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_other_roles_are_refused(browser, world, username, url):
    browser.login(username)
    response = browser.get(url)
    assert response.status_code == 403
    assert "Không có quyền" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_anonymous_is_sent_to_login(browser, world, url):
    response = browser.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_page_answers_get_only(browser, world, method):
    browser.login("auditor")
    response = browser.post("/audit/") if method == "post" else getattr(browser.client, method)("/audit/")
    assert response.status_code == 405
    assert "Phương thức không được hỗ trợ" in response.get_data(as_text=True)


# -- what the page shows ------------------------------------------------------------------------


def test_entry_shows_time_actor_label_object_and_details(browser, world, record_at):
    entry = record_at(at("2026-11-20T18:30:05"), "org.created", details={"name": "Phòng Văn hóa và Thông tin"})
    browser.login("auditor")
    page = browser.get("/audit/?action=org.created").get_data(as_text=True)
    assert rows(page) == [entry.seq]
    assert "21/11/2026&nbsp;01:30:05" in page
    assert "Thêm tổ chức" in page and "org.created" in page
    assert "Tổ chức #1" in page
    assert "Phòng Văn hóa và Thông tin" in page
    assert "<dt>name</dt><dd>Phòng Văn hóa và Thông tin</dd>" in page


def test_details_read_as_named_lines_and_changes_as_before_and_after(browser, world, record_at):
    record_at(
        at("2026-11-20T01:00:00"),
        "request.cancel",
        object_type="certificate_request",
        details={"comment": "Trùng đề nghị", "changes": {"position": ["Văn thư", "Chuyên viên"]}},
    )
    browser.login("auditor")
    page = browser.get("/audit/?object_type=certificate_request").get_data(as_text=True)
    assert "Đề nghị chứng thư số: hủy đề nghị" in page
    assert "request.cancel" in page and "{" not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "<dt>Ý kiến</dt><dd>Trùng đề nghị</dd>" in page
    assert "<dt>Thay đổi: position</dt><dd>Văn thư → Chuyên viên</dd>" in page
    # the object types are a choice in Vietnamese
    assert '<option value="certificate_request" selected>Đề nghị chứng thư số</option>' in page


def test_unknown_action_shows_its_code(browser, world, record_at):
    record_at(at("2026-11-20T01:00:00"), "token.health_checked", object_type="token")
    browser.login("auditor")
    page = browser.get("/audit/?action=token.health_checked").get_data(as_text=True)
    assert len(rows(page)) == 1
    assert "token.health_checked" in page


def test_details_are_escaped(browser, world, record_at):
    record_at(at("2026-11-20T01:00:00"), details={"name": "<script>alert(1)</script>"})
    browser.login("auditor")
    page = browser.get("/audit/?action=org.updated").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_newest_first_fifty_per_page(browser, world, record_at):
    written = [record_at(at("2026-11-19T03:00:00"), "person.updated", object_id=n).seq for n in range(120)]
    browser.login("auditor")
    first = browser.get("/audit/?action=person.updated").get_data(as_text=True)
    assert rows(first) == written[::-1][:50]
    assert "Kết quả: 120 mục" in first and "Trang 1/3" in first
    assert "page=2" in first
    last = browser.get("/audit/?action=person.updated&page=3").get_data(as_text=True)
    assert rows(last) == written[::-1][100:]
    beyond = browser.get("/audit/?action=person.updated&page=9")
    assert beyond.status_code == 200
    assert rows(beyond.get_data(as_text=True)) == []
    assert "chỉ có 3 trang" in beyond.get_data(as_text=True)


# -- filters ------------------------------------------------------------------------------------


def test_action_filter_exact_and_group(browser, world, record_at):
    org = record_at(at("2026-11-20T02:00:00"), "org.created")
    person = record_at(at("2026-11-20T02:01:00"), "person.created", object_type="person")
    browser.login("auditor")
    assert rows(browser.get("/audit/?action=org.created").get_data(as_text=True)) == [org.seq]
    assert rows(browser.get("/audit/?action=person.").get_data(as_text=True)) == [person.seq]
    assert rows(browser.get("/audit/?action=org").get_data(as_text=True)) == []


def test_action_list_offers_known_actions(browser, world):
    browser.login("auditor")
    page = browser.get("/audit/").get_data(as_text=True)
    assert '<option value="account.password_reset">Đặt lại mật khẩu</option>' in page
    assert '<option value="import.people">Nhập danh sách cán bộ</option>' in page


def test_date_range_is_in_vietnam_time(browser, world, record_at):
    before = record_at(at("2026-11-20T16:59:59"))  # 20/11 23:59:59 in Vietnam
    evening = record_at(at("2026-11-20T18:30:00"))  # 21/11 01:30 in Vietnam
    late = record_at(at("2026-11-21T16:59:59"))  # 21/11 23:59:59 in Vietnam
    after = record_at(at("2026-11-21T17:00:00"))  # 22/11 00:00 in Vietnam
    browser.login("auditor")
    one_day = "/audit/?action=org.updated&date_from=21/11/2026&date_to=21/11/2026"
    assert rows(browser.get(one_day).get_data(as_text=True)) == [late.seq, evening.seq]
    iso = "/audit/?action=org.updated&date_from=2026-11-21&date_to=2026-11-21"
    assert rows(browser.get(iso).get_data(as_text=True)) == [late.seq, evening.seq]
    until = "/audit/?action=org.updated&date_to=20/11/2026"
    assert rows(browser.get(until).get_data(as_text=True)) == [before.seq]
    since = "/audit/?action=org.updated&date_from=22/11/2026"
    assert rows(browser.get(since).get_data(as_text=True)) == [after.seq]


def test_actor_filter_exact_or_prefix(browser, world, record_at):
    mine = record_at(at("2026-11-20T02:00:00"), actor=Actor(label="nguyenvana", account_id=5))
    other = record_at(at("2026-11-20T02:00:01"), actor=Actor(label="nguyenvanb", account_id=6))
    record_at(at("2026-11-20T02:00:02"), actor=Actor(label="cli:root"))
    browser.login("auditor")
    assert rows(browser.get("/audit/?actor=nguyenvana").get_data(as_text=True)) == [mine.seq]
    assert rows(browser.get("/audit/?actor=nguyenvan").get_data(as_text=True)) == [other.seq, mine.seq]
    assert rows(browser.get("/audit/?actor=NguyenVan&action=org.updated").get_data(as_text=True)) == [
        other.seq,
        mine.seq,
    ]
    # by the holder's name, with or without diacritics
    named = world.accounts["focal_officer"]
    by_name = record_at(at("2026-11-20T02:00:03"), actor=Actor(label=named.username, account_id=named.id))
    name = named.person.full_name
    assert rows(browser.get(f"/audit/?actor={name}&action=org.updated").get_data(as_text=True)) == [by_name.seq]
    # LIKE wildcards are taken literally.
    assert rows(browser.get("/audit/?actor=%25").get_data(as_text=True)) == []
    assert rows(browser.get("/audit/?actor=nguyen_an").get_data(as_text=True)) == []


def test_object_filters(browser, world, record_at):
    record_at(at("2026-11-20T02:00:00"), "person.updated", object_type="person", object_id=3)
    wanted = record_at(at("2026-11-20T02:00:01"), "person.updated", object_type="person", object_id=4)
    record_at(at("2026-11-20T02:00:02"), "org.updated", object_type="organisation", object_id=4)
    browser.login("auditor")
    page = browser.get("/audit/?object_type=person&object_id=4").get_data(as_text=True)
    assert rows(page) == [wanted.seq]
    assert 'value="person"' in page and 'value="4"' in page  # the form keeps what was typed


# -- bad input ----------------------------------------------------------------------------------

BAD_FILTERS = [
    ("date_from=hôm-qua", "không phải là ngày"),
    ("date_from=31/02/2026", "không có trên lịch"),
    ("date_to=2026-13-01", "không có trên lịch"),
    ("date_from=01/01/0001", "ngoài khoảng cho phép"),
    ("date_to=31/12/9999", "ngoài khoảng cho phép"),
    ("date_from=22/11/2026&date_to=21/11/2026", "phải cùng ngày hoặc sau"),
    ("actor=" + "a" * 121, "Dài quá 120 ký tự"),
    ("object_id=%00", "ký tự điều khiển"),
    ("action=auth.%00login", "ký tự điều khiển"),
]
BAD_PAGES = ["page=abc", "page=-1", "page=0", "page=1.5", "page=" + "9" * 5000]


def assert_refused(response, message):
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Bộ lọc chưa hợp lệ" in page
    assert message in page


@pytest.mark.parametrize(("query", "message"), BAD_FILTERS)
@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_bad_filters_get_a_vietnamese_message(browser, world, query, message, url):
    browser.login("auditor")
    assert_refused(browser.get(f"{url}?{query}"), message)


@pytest.mark.parametrize("query", BAD_PAGES)
def test_bad_page_numbers_get_a_vietnamese_message(browser, world, query):
    browser.login("auditor")
    assert_refused(browser.get(f"/audit/?{query}"), "Số trang phải là số nguyên dương")


def test_huge_page_number_is_not_an_error(browser, world):
    browser.login("auditor")
    response = browser.get("/audit/?page=" + "9" * 30)
    assert response.status_code == 200


# -- CSV export ---------------------------------------------------------------------------------


def test_csv_export_is_excel_ready_and_filtered(browser, world, record_at):
    record_at(at("2026-11-20T10:00:00"), "person.created", object_type="person", object_id=9)
    first = record_at(at("2026-11-20T18:30:00"), "org.created", details={"name": "Phòng Văn hóa và Thông tin"})
    second = record_at(at("2026-11-21T03:15:00"), "org.created", object_id=2, details={"name": "UBND xã Tân Đoàn"})
    browser.login("auditor")
    response = browser.get("/audit/export.csv?action=org.created&date_from=21/11/2026")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"].endswith("charset=utf-8")
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="nhat-ky-he-thong-\d{4}-\d{2}-\d{2}-\d{4}\.csv"', disposition)
    header, *data = csv_rows(response)
    assert header[:4] == ["Số thứ tự", "Thời điểm (UTC, ISO 8601)", "Thời điểm (giờ Việt Nam)", "Người thực hiện"]
    assert "Mã băm" in header and "Mã băm mục trước" in header and "Chi tiết" in header
    assert [int(row[0]) for row in data] == [first.seq, second.seq]  # oldest first, in chain order
    row = dict(zip(header, data[0], strict=True))
    assert row["Thời điểm (UTC, ISO 8601)"] == "2026-11-20T18:30:00.000000Z"
    assert row["Thời điểm (giờ Việt Nam)"] == "21/11/2026 01:30:00"
    assert row["Người thực hiện"] == "administrator"
    assert row["Mã hành động"] == "org.created" and row["Hành động"] == "Thêm tổ chức"
    assert row["Loại đối tượng"] == "organisation" and row["Mã đối tượng"] == "1"
    assert row["Chi tiết"] == '{"name":"Phòng Văn hóa và Thông tin"}'
    assert (row["Mã băm mục trước"], row["Mã băm"]) == (first.prev_hash, first.hash)
    assert dict(zip(header, data[1], strict=True))["Chi tiết"] == '{"name":"UBND xã Tân Đoàn"}'


def test_csv_export_streams_every_matching_row(browser, world, record_at):
    for number in range(130):
        record_at(at("2026-11-19T03:00:00"), "person.updated", object_type="person", object_id=number)
    browser.login("auditor")
    response = browser.get("/audit/export.csv?action=person.updated")
    assert response.is_streamed
    _header, *data = csv_rows(response)
    assert len(data) == 130


def test_csv_export_neutralises_formulas(browser, world, record_at):
    record_at(at("2026-11-19T03:00:00"), object_id='=HYPERLINK("http://x")')
    browser.login("auditor")
    header, *data = csv_rows(browser.get("/audit/export.csv?action=org.updated"))
    assert dict(zip(header, data[0], strict=True))["Mã đối tượng"] == '\'=HYPERLINK("http://x")'


def test_page_links_to_the_filtered_export(browser, world):
    browser.login("auditor")
    page = browser.get("/audit/?action=auth.login&date_from=2026-11-21").get_data(as_text=True)
    assert "/audit/export.csv?date_from=21/11/2026&amp;action=auth.login" in page
