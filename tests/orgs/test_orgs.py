"""The organisation pages: the tree, creating and editing, focal offices, who may do what."""

from __future__ import annotations

import pytest

from certsvc.orgs.models import Organisation, OrgKind
from certsvc.orgs.tree import OrgTree
from tests.conftest import add_org
from tests.support.orgs import administrator_of, counts, edit_form, last_seq, new_entries, saved_record


def org_form(parent: Organisation, **changes) -> dict:
    data = {
        "name": "Phòng Tài nguyên và Môi trường",
        "symbol": "TNMT",
        "agency_code": "000.08.12.H40",
        "kind": "office",
        "parent_id": str(parent.id),
        "focal_office_id": "",
        "address": "",
        "email": "tnmt.vq@langson.gov.vn",
        "tax_code": "",
        "is_active": "y",
    }
    data.update(changes)
    return data


def test_admin_creates_org_and_sees_it_in_the_tree(admin, world, session):
    before = last_seq(session)
    response = admin.post("/admin/orgs/new", org_form(world.orgs["district"]))
    created = saved_record(session, response)
    assert created.agency_code == "000.08.12.H40" and created.kind is OrgKind.OFFICE
    assert created.parent_id == world.orgs["district"].id
    entries = new_entries(session, before)
    assert [(e.action, e.object_id) for e in entries] == [("org.created", str(created.id))]

    detail = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã thêm tổ chức «Phòng Tài nguyên và Môi trường»." in detail
    assert "UBND huyện Văn Quan" in detail and "Phòng Văn hóa và Thông tin" in detail  # parent, focal office

    page = admin.get("/admin/orgs/").get_data(as_text=True)
    # The administrator's tree starts at the district; its offices are one level in.
    assert f'class="depth-1"><a href="/admin/orgs/{created.id}">Phòng Tài nguyên và Môi trường</a>' in page
    assert "Phòng, ban chuyên môn" in page and "000.08.12.H40" in page


def test_tree_shows_vietnamese_names_kinds_states_and_inherited_focal_office(admin, world):
    page = admin.get("/admin/orgs/").get_data(as_text=True)
    assert "Phòng Văn hóa và Thông tin" in page
    assert "UBND xã Tân Đoàn" in page and "UBND xã, phường, thị trấn" in page
    assert "Đang hoạt động" in page
    # The district designates its focal office itself; the four organisations below inherit it.
    assert page.count('Phòng Văn hóa và Thông tin <span class="muted inherited">(kế thừa)</span>') == 4
    assert page.count("(kế thừa)") == 4
    assert "Thêm tổ chức" in page
    assert "UBND tỉnh Lạng Sơn" not in page  # above the administrator's scope


@pytest.mark.parametrize("code", ["000.00.12", "ABCD.00.12.H30", "000.00.12.H3", "000-00-12-H30"])
def test_bad_agency_code_is_refused_and_nothing_written(admin, world, session, code):
    before = counts(session)
    response = admin.post("/admin/orgs/new", org_form(world.orgs["district"], agency_code=code))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mã định danh phải gồm 13 ký tự, bốn nhóm cách nhau bởi dấu chấm, ví dụ 000.00.12.H30." in page
    assert counts(session) == before


def test_duplicate_agency_code_is_refused(admin, world, session):
    before = counts(session)
    response = admin.post("/admin/orgs/new", org_form(world.orgs["district"], agency_code="000.00.12.h40"))
    assert response.status_code == 400
    assert "Mã định danh này đã dùng cho «UBND huyện Văn Quan»." in response.get_data(as_text=True)
    assert counts(session) == before


def test_every_missing_field_is_reported_at_once(admin, world, session):
    before = counts(session)
    response = admin.post("/admin/orgs/new", {"name": " ", "symbol": "", "kind": "", "parent_id": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("Bắt buộc nhập.") == 2
    assert "Chọn loại tổ chức." in page and "Chọn cơ quan cấp trên." in page
    assert counts(session) == before


@pytest.mark.parametrize("new_parent", ["district", "commune"])
def test_org_cannot_become_its_own_descendant(admin, world, session, new_parent):
    district = world.orgs["district"]
    before = counts(session)
    form = edit_form(district, parent_id=str(world.orgs[new_parent].id))
    response = admin.post(f"/admin/orgs/{district.id}/edit", form)
    assert response.status_code == 400
    assert "Không thể đặt tổ chức làm cấp dưới của chính nó." in response.get_data(as_text=True)
    assert counts(session) == before
    session.refresh(district)
    assert district.parent_id == world.orgs["province"].id


def test_designating_another_focal_office_changes_the_subtree(admin, world, session):
    district, office = world.orgs["district"], world.orgs["office"]
    before = last_seq(session)
    response = admin.post(f"/admin/orgs/{district.id}/edit", edit_form(district, focal_office_id=str(office.id)))
    assert response.status_code == 302
    tree = OrgTree.load(session)
    for key in ("district", "commune", "other_commune", "focal", "office"):
        assert tree.effective_focal_office(world.orgs[key].id) == office.id
    entries = new_entries(session, before)
    assert [e.action for e in entries] == ["org.updated"]
    assert '"focal_office_id":[' in entries[0].details

    page = admin.get("/admin/orgs/").get_data(as_text=True)
    assert 'Văn phòng HĐND và UBND huyện <span class="muted inherited">(kế thừa)</span>' in page
    served = admin.get(f"/admin/orgs/{office.id}").get_data(as_text=True)
    assert "Là cơ quan đầu mối tổng hợp cho 5 tổ chức" in served and "UBND xã Yên Phúc" in served


def test_two_tier_commune_under_the_province_with_its_own_focal_office(make_browser, world, session):
    province = world.orgs["province"]
    browser = administrator_of(make_browser, session, province, "quantritinh")
    department_id = saved_record(
        session,
        browser.post(
            "/admin/orgs/new",
            org_form(
                province,
                name="Sở Văn hóa, Thể thao và Du lịch",
                symbol="SVHTTDL",
                agency_code="000.10.00.H40",
                kind="agency",
            ),
        ),
    ).id
    commune = saved_record(
        session,
        browser.post(
            "/admin/orgs/new",
            org_form(
                province,
                name="UBND xã Hội Hoan",
                symbol="UBND",
                agency_code="000.30.00.H40",
                kind="commune_committee",
                focal_office_id=str(department_id),
            ),
        ),
    )
    commune_id = commune.id
    office_id = saved_record(
        session,
        browser.post(
            "/admin/orgs/new",
            org_form(commune, name="Văn phòng HĐND và UBND xã Hội Hoan", symbol="VP", agency_code="000.31.00.H40"),
        ),
    ).id

    tree = OrgTree.load(session)
    assert tree.effective_focal_office(commune_id) == department_id
    assert tree.effective_focal_office(office_id) == department_id
    # The district keeps its own focal office: both structures live in one tree.
    assert tree.effective_focal_office(world.orgs["commune"].id) == world.orgs["focal"].id
    detail = browser.get(f"/admin/orgs/{office_id}").get_data(as_text=True)
    assert 'Sở Văn hóa, Thể thao và Du lịch <span class="muted inherited">(kế thừa)</span>' in detail
    served = browser.get(f"/admin/orgs/{department_id}").get_data(as_text=True)
    assert "UBND xã Hội Hoan" in served and "Văn phòng HĐND và UBND xã Hội Hoan" in served


def test_marking_inactive_keeps_the_record(admin, world, session):
    office = world.orgs["office"]
    before = last_seq(session)
    response = admin.post(f"/admin/orgs/{office.id}/edit", edit_form(office, is_active=None))
    assert response.status_code == 302
    session.refresh(office)
    assert office.is_active is False
    assert [e.action for e in new_entries(session, before)] == ["org.updated"]
    assert "Ngừng hoạt động" in admin.get("/admin/orgs/").get_data(as_text=True)
    # An inactive office is not offered as focal office and is refused when posted anyway.
    form_page = admin.get("/admin/orgs/new").get_data(as_text=True)
    assert f'<option value="{office.id}">' in form_page  # still a possible parent
    assert form_page.count(f'<option value="{office.id}">') == 1
    snapshot = counts(session)
    refused = admin.post("/admin/orgs/new", org_form(world.orgs["district"], focal_office_id=str(office.id)))
    assert refused.status_code == 400
    assert "Cơ quan đầu mối đã ngừng hoạt động." in refused.get_data(as_text=True)
    assert counts(session) == snapshot


def test_edit_without_changes_writes_no_audit_entry(admin, world, session):
    focal = world.orgs["focal"]
    before = last_seq(session)
    assert admin.post(f"/admin/orgs/{focal.id}/edit", edit_form(focal)).status_code == 302
    assert new_entries(session, before) == []


def test_edit_writes_one_audit_entry_with_the_changes(admin, world, session):
    commune = world.orgs["commune"]
    before = last_seq(session)
    response = admin.post(
        f"/admin/orgs/{commune.id}/edit",
        edit_form(commune, agency_code="000.21.12.H40", address="Thôn Bản Giểng, xã Tân Đoàn"),
    )
    assert response.status_code == 302
    entries = new_entries(session, before)
    assert [(e.action, e.object_id) for e in entries] == [("org.updated", str(commune.id))]
    assert "000.21.12.H40" in entries[0].details and "Bản Giểng" in entries[0].details


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("kind", "ministry", "Chọn loại tổ chức."),
        ("parent_id", "abc", "Tổ chức không hợp lệ."),
        ("parent_id", "-3", "Tổ chức không hợp lệ."),
        ("parent_id", "99999999999999999999999", "Tổ chức không hợp lệ."),
        ("parent_id", "987654", "Không tìm thấy tổ chức này."),
        ("focal_office_id", "1 OR 1=1", "Tổ chức không hợp lệ."),
        ("focal_office_id", "2147483647", "Không tìm thấy tổ chức này."),
    ],
)
def test_tampered_select_value_gives_400_not_500(admin, world, session, field, value, message):
    before = counts(session)
    response = admin.post("/admin/orgs/new", org_form(world.orgs["district"], **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(session) == before


def test_control_characters_are_refused_not_a_500(admin, world, session):
    before = counts(session)
    response = admin.post("/admin/orgs/new", org_form(world.orgs["district"], name="Phòng\x00 Nội vụ\x07"))
    assert response.status_code == 400
    assert "ký tự điều khiển" in response.get_data(as_text=True)
    assert counts(session) == before


def test_missing_organisation_is_404(admin, world):
    assert admin.get("/admin/orgs/987654").status_code == 404
    assert admin.get("/admin/orgs/987654/edit").status_code == 404
    assert admin.post("/admin/orgs/987654/edit", {"name": "x"}).status_code == 404
    assert admin.get("/admin/orgs/99999999999999999999999").status_code == 404


def test_auditor_views_but_cannot_create_or_edit(browser, world, session):
    browser.login("auditor")
    page = browser.get("/admin/orgs/")
    assert page.status_code == 200 and "Thêm tổ chức" not in page.get_data(as_text=True)
    district = world.orgs["district"]
    assert browser.get(f"/admin/orgs/{district.id}").status_code == 200
    before = counts(session)
    assert browser.get("/admin/orgs/new").status_code == 403
    assert browser.post("/admin/orgs/new", org_form(district)).status_code == 403
    assert browser.get(f"/admin/orgs/{district.id}/edit").status_code == 403
    # Even an invalid post is refused for permission, not for its content.
    refused = browser.post(f"/admin/orgs/{district.id}/edit", edit_form(district, agency_code="000"))
    assert refused.status_code == 403
    assert "Không có quyền truy cập" in refused.get_data(as_text=True)
    assert counts(session) == before


@pytest.mark.parametrize("username", ["unitofficer", "clerk", "reviewer", "unithead"])
def test_unit_roles_cannot_open_the_organisation_pages(browser, world, username):
    browser.login(username)
    assert browser.get("/admin/orgs/").status_code == 403
    assert browser.get(f"/admin/orgs/{world.orgs['commune'].id}").status_code == 403
    assert browser.get("/admin/orgs/new").status_code == 403


def test_focal_officer_sees_the_organisations_it_serves(browser, world):
    browser.login("focalofficer")
    page = browser.get("/admin/orgs/").get_data(as_text=True)
    assert "UBND xã Tân Đoàn" in page and "UBND huyện Văn Quan" in page
    assert "UBND tỉnh Lạng Sơn" not in page and "Thêm tổ chức" not in page


def test_commune_administrator_cannot_see_or_edit_district_level_orgs(make_browser, world, session):
    commune, district, office = world.orgs["commune"], world.orgs["district"], world.orgs["office"]
    browser = administrator_of(make_browser, session, commune, "quantrixa")
    page = browser.get("/admin/orgs/").get_data(as_text=True)
    assert "UBND xã Tân Đoàn" in page
    assert "UBND huyện Văn Quan</a>" not in page and "Văn phòng HĐND và UBND huyện" not in page
    assert "UBND xã Yên Phúc" not in page
    before = counts(session)
    for org in (district, office):
        assert browser.get(f"/admin/orgs/{org.id}").status_code == 403
        assert browser.get(f"/admin/orgs/{org.id}/edit").status_code == 403
        assert browser.post(f"/admin/orgs/{org.id}/edit", edit_form(org, name="Đã bị sửa")).status_code == 403
    # Nor attach something under them, nor move the commune there.
    assert browser.post("/admin/orgs/new", org_form(district)).status_code == 403
    moved = browser.post(f"/admin/orgs/{commune.id}/edit", edit_form(commune, parent_id=str(office.id)))
    assert moved.status_code == 403
    assert counts(session) == before
    # Its own commune it may edit; the district stays as its parent.
    own = browser.post(f"/admin/orgs/{commune.id}/edit", edit_form(commune, email="tandoan@langson.gov.vn"))
    assert own.status_code == 302
    session.refresh(commune)
    assert commune.email == "tandoan@langson.gov.vn" and commune.parent_id == district.id


def test_new_org_form_offers_only_manageable_parents(make_browser, world, session):
    commune = world.orgs["commune"]
    child = add_org(session, None, "", "Trạm Y tế xã Tân Đoàn", "TYT", OrgKind.PUBLIC_SERVICE_UNIT, commune)
    browser = administrator_of(make_browser, session, commune, "quantrixa")
    page = browser.get(f"/admin/orgs/new?parent_id={commune.id}").get_data(as_text=True)
    parent_select = page.split('name="parent_id"', 1)[1].split("</select>", 1)[0]
    assert f'<option selected value="{commune.id}">' in parent_select
    assert "Trạm Y tế xã Tân Đoàn" in parent_select and "UBND huyện Văn Quan" not in parent_select
    # Editing the commune: its own subtree is not offered as parent, its current parent is kept.
    edit = browser.get(f"/admin/orgs/{commune.id}/edit").get_data(as_text=True)
    parent_select = edit.split('name="parent_id"', 1)[1].split("</select>", 1)[0]
    assert f'value="{child.id}"' not in parent_select
    assert f'<option selected value="{world.orgs["district"].id}">' in parent_select


def test_anonymous_is_sent_to_login(browser, world):
    for url in ("/admin/orgs/", "/admin/orgs/new", f"/admin/orgs/{world.orgs['district'].id}/edit"):
        response = browser.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
