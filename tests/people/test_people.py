"""The people pages: list, search and filter, creating and editing, who may do what."""

from __future__ import annotations

import re
from functools import partial

import pytest

from certsvc.people.models import Person
from certsvc.people.service import name_matches
from tests.support.orgs import administrator_of, last_seq, new_entries, saved_record
from tests.support.orgs import counts as row_and_audit_counts

counts = partial(row_and_audit_counts, model=Person)


def actions_since(session, seq: int) -> list[tuple[str, str]]:
    return [(entry.action, entry.object_id) for entry in new_entries(session, seq)]


def person_form(unit, **changes) -> dict:
    data = {
        "full_name": "Nông Thị Hường",
        "position": "Công chức Văn phòng - Thống kê",
        "organisation_id": str(unit.id),
        "cccd": "020190001234",
        "email": "huong.nt@langson.gov.vn",
        "phone": "0912 345 678",
        "is_active": "y",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def listed_names(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/people/\d+">([^<]+)</a>', page)


def add_people(session, unit, *names: str) -> list[Person]:
    people = [Person(full_name=name, organisation=unit) for name in names]
    session.add_all(people)
    session.commit()
    return people


def test_admin_creates_a_person_and_finds_them_in_the_list(admin, world, session):
    before = last_seq(session)
    response = admin.post("/admin/people/new", person_form(world.orgs["commune"]))
    person = saved_record(session, response, Person)
    assert (person.full_name, person.cccd, person.phone) == ("Nông Thị Hường", "020190001234", "0912345678")
    assert actions_since(session, before) == [("person.created", str(person.id))]
    detail = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã thêm cán bộ «Nông Thị Hường»." in detail and "UBND xã Tân Đoàn" in detail
    page = admin.get("/admin/people/").get_data(as_text=True)
    assert "Nông Thị Hường" in listed_names(page)


@pytest.mark.parametrize("cccd", ["02019000123", "02019000123A", "abcdefghijkl", "0201900012345"])
def test_bad_cccd_is_refused_and_nothing_written(admin, world, session, cccd):
    before = counts(session)
    response = admin.post("/admin/people/new", person_form(world.orgs["commune"], cccd=cccd))
    assert response.status_code == 400
    assert "Số CCCD phải gồm đúng 12 chữ số." in response.get_data(as_text=True)
    assert counts(session) == before


def test_duplicate_cccd_is_refused(admin, world, session):
    add_people(session, world.orgs["office"], "Đinh Thị Lan")[0].cccd = "020190001234"
    session.commit()
    before = counts(session)
    response = admin.post("/admin/people/new", person_form(world.orgs["commune"]))
    assert response.status_code == 400
    assert "Số CCCD này đã có trong danh sách (Đinh Thị Lan)." in response.get_data(as_text=True)
    assert counts(session) == before


def test_every_bad_field_is_reported_at_once(admin, world, session):
    before = counts(session)
    response = admin.post(
        "/admin/people/new",
        person_form(world.orgs["commune"], full_name="", email="huong@", phone="12345", organisation_id=""),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    messages = ("Bắt buộc nhập.", "Địa chỉ thư điện tử không hợp lệ.", "Số điện thoại không hợp lệ", "Chọn đơn vị.")
    for message in messages:
        assert message in page
    assert counts(session) == before


def test_edit_writes_one_audit_entry_and_can_mark_a_person_as_gone(admin, world, session):
    person = add_people(session, world.orgs["commune"], "Hoàng Văn Sơn")[0]
    before = last_seq(session)
    response = admin.post(
        f"/admin/people/{person.id}/edit",
        person_form(world.orgs["commune"], full_name="Hoàng Văn Sơn", position="Phó Chủ tịch UBND xã", is_active=None),
    )
    assert response.status_code == 302
    session.refresh(person)
    assert person.position == "Phó Chủ tịch UBND xã" and person.is_active is False
    assert actions_since(session, before) == [("person.updated", str(person.id))]
    detail = admin.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "Đã lưu thông tin cán bộ «Hoàng Văn Sơn»." in detail and "Không còn công tác" in detail


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "Chọn đơn vị."),
        ("99999999999999999999999", "Chọn đơn vị."),
        ("987654", "Không tìm thấy đơn vị này."),
    ],
)
def test_tampered_unit_gives_400_not_500(admin, world, session, value, message):
    before = counts(session)
    response = admin.post("/admin/people/new", person_form(world.orgs["commune"], organisation_id=value))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(session) == before


def test_search_ignores_case_including_vietnamese_capitals(admin, world, session):
    add_people(session, world.orgs["commune"], "ĐINH THỊ LAN", "Đỗ Văn Ẩn", "Nguyễn Văn An", "Lương Thị Hằng")

    def found(query: str) -> list[str]:
        return sorted(listed_names(admin.get("/admin/people/", query_string={"q": query}).get_data(as_text=True)))

    assert found("đinh") == ["ĐINH THỊ LAN"]
    assert found("ĐỖ VĂN ẩn") == ["Đỗ Văn Ẩn"]
    assert found("Văn An") == ["Nguyễn Văn An"]  # with diacritics: "Ẩn" is another name
    assert found("van an") == ["Nguyễn Văn An", "Đỗ Văn Ẩn"]  # without: both
    assert found("hằng") == ["Lương Thị Hằng"]
    assert found("không có ai") == []
    assert "Không có cán bộ nào phù hợp." in admin.get("/admin/people/?q=xyz").get_data(as_text=True)


def test_name_matching_handles_decomposed_input():
    assert name_matches("Nguye\u0302\u0303n", "NGUYỄN VĂN AN")
    assert not name_matches("Nguyên", "Nguyễn Văn An")


def test_filter_by_organisation(admin, world, session):
    add_people(session, world.orgs["commune"], "Vi Văn Tùng")
    add_people(session, world.orgs["other_commune"], "Hà Thị Ngọc")
    page = admin.get(f"/admin/people/?organisation_id={world.orgs['other_commune'].id}").get_data(as_text=True)
    assert listed_names(page) == ["Hà Thị Ngọc"]
    assert f"/admin/people/new?organisation_id={world.orgs['other_commune'].id}" in page


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999", "987654"])
def test_tampered_filter_gives_400_not_500(admin, world, value):
    response = admin.get("/admin/people/", query_string={"organisation_id": value})
    assert response.status_code == 400
    assert "Đơn vị không có trong danh sách bạn được xem." in response.get_data(as_text=True)


def test_list_is_paginated_by_50(admin, world, session):
    add_people(session, world.orgs["commune"], *(f"Cán bộ thử {n:03d}" for n in range(120)))
    first = admin.get("/admin/people/?q=thử").get_data(as_text=True)
    assert len(listed_names(first)) == 50 and "120 cán bộ · trang 1/3" in first
    assert "Trang sau" in first and "Trang trước" not in first
    last = admin.get("/admin/people/?q=thử&page=3").get_data(as_text=True)
    assert listed_names(last) == [f"Cán bộ thử {n:03d}" for n in range(100, 120)]
    # A page beyond the end or not a number does not fail.
    assert listed_names(admin.get("/admin/people/?q=thử&page=999").get_data(as_text=True)) == listed_names(last)
    assert len(listed_names(admin.get("/admin/people/?q=thử&page=x").get_data(as_text=True))) == 50


def test_list_shows_who_has_a_login_account(admin, world, session):
    add_people(session, world.orgs["commune"], "Nông Văn Khánh")
    page = admin.get(f"/admin/people/?organisation_id={world.orgs['commune'].id}").get_data(as_text=True)
    rows = {re.search(r'">([^<]+)</a>', row).group(1): row for row in page.split("<tr")[2:]}
    assert "Chưa có" in rows["Nông Văn Khánh"]
    assert "unitofficer" in rows["Cán bộ unitofficer"] and "Chưa có" not in rows["Cán bộ unitofficer"]


def test_auditor_views_but_cannot_create_or_edit(browser, world, session):
    browser.login("auditor")
    page = browser.get("/admin/people/")
    assert page.status_code == 200 and "Thêm cán bộ" not in page.get_data(as_text=True)
    clerk = world.account("clerk").person
    assert browser.get(f"/admin/people/{clerk.id}").status_code == 200
    before = counts(session)
    assert browser.get("/admin/people/new").status_code == 403
    assert browser.post("/admin/people/new", person_form(world.orgs["commune"], cccd="12")).status_code == 403
    assert browser.get(f"/admin/people/{clerk.id}/edit").status_code == 403
    assert browser.post(f"/admin/people/{clerk.id}/edit", person_form(world.orgs["commune"])).status_code == 403
    assert counts(session) == before


def test_unit_officer_cannot_open_the_people_pages(browser, world):
    browser.login("unitofficer")
    assert browser.get("/admin/people/").status_code == 403
    assert browser.get(f"/admin/people/{world.account('unit_officer').person.id}").status_code == 403
    assert browser.get("/admin/people/new").status_code == 403


def test_unit_head_sees_only_the_people_of_the_unit(browser, world):
    browser.login("unithead")
    names = listed_names(browser.get("/admin/people/").get_data(as_text=True))
    assert sorted(names) == ["Cán bộ unithead", "Cán bộ unitofficer"]
    assert browser.get(f"/admin/people/{world.account('clerk').person.id}").status_code == 403


def test_commune_administrator_stays_in_the_commune(make_browser, world, session):
    commune, office = world.orgs["commune"], world.orgs["office"]
    browser = administrator_of(make_browser, session, commune, "quantrixa")
    clerk = world.account("clerk").person
    own = world.account("unit_officer").person
    assert browser.get(f"/admin/people/{clerk.id}").status_code == 403
    assert browser.get(f"/admin/people/{clerk.id}/edit").status_code == 403
    before = counts(session)
    assert browser.post("/admin/people/new", person_form(office)).status_code == 403
    moved = browser.post(
        f"/admin/people/{own.id}/edit",
        person_form(commune, full_name=own.full_name, organisation_id=str(office.id), cccd=None),
    )
    assert moved.status_code == 403
    assert counts(session) == before
    unit_select = browser.get("/admin/people/new").get_data(as_text=True).split('name="organisation_id"')[1]
    assert "UBND xã Tân Đoàn" in unit_select.split("</select>")[0]
    assert "Văn phòng HĐND và UBND huyện" not in unit_select.split("</select>")[0]


def test_missing_person_is_404(admin, world):
    assert admin.get("/admin/people/987654").status_code == 404
    assert admin.get("/admin/people/987654/edit").status_code == 404
    assert admin.get("/admin/people/99999999999999999999999").status_code == 404


def test_new_person_form_preselects_the_unit(admin, world):
    commune = world.orgs["commune"]
    page = admin.get(f"/admin/people/new?organisation_id={commune.id}").get_data(as_text=True)
    assert f'<option selected value="{commune.id}">' in page
    assert admin.get("/admin/people/new?organisation_id=xyz").status_code == 200


def test_org_page_lists_its_people(admin, world, session):
    add_people(session, world.orgs["commune"], "Nông Văn Khánh")
    page = admin.get(f"/admin/orgs/{world.orgs['commune'].id}").get_data(as_text=True)
    assert "Cán bộ của tổ chức" in page and "Nông Văn Khánh" in listed_names(page)


def test_the_forms_mark_what_the_service_requires(admin):
    """An asterisk (and the browser's ``required``) on exactly the fields whose absence the service refuses."""
    marked = re.compile(r'<label for="([a-z_]+)">[^<]*<span class="required" title="Bắt buộc">\*</span></label>')
    for url, required in (
        ("/admin/people/new", {"full_name", "organisation_id"}),
        ("/admin/orgs/new", {"name", "kind"}),
    ):
        page = admin.get(url).get_data(as_text=True)
        assert set(marked.findall(page)) == required, url
        for name in required:
            assert re.search(rf'<(input|select)[^>]*id="{name}"[^>]*required', page), (url, name)
