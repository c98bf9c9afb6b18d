"""The trust anchors page: administrators see the anchors and CRLs; only an administrator of the whole tree adds
CA certificates, removes them and loads CRLs; bad and oversized files are refused on the page, changing nothing."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.registry import anchors
from certsvc.registry.models import RevocationList, TrustAnchor
from tests.conftest import add_account
from token_agent import demo

URL = "/registry/anchors"


@pytest.fixture(scope="module")
def pki():
    root = demo.root_authority("Root CA thử nghiệm")
    return root, demo.sub_authority(root, "Issuing CA thử nghiệm")


def pem(*objects) -> bytes:
    return b"".join(obj.public_bytes(serialization.Encoding.PEM) for obj in objects)


@pytest.fixture
def root_admin(session, world, make_browser):
    province = world.orgs["province"]
    add_account(session, "quantritinh", province, (Role.ADMINISTRATOR, province))
    session.commit()
    browser = make_browser()
    browser.login("quantritinh")
    return browser


def post_file(browser, url: str, data: bytes | None, filename: str = "ca.pem"):
    part = (io.BytesIO(data or b""), filename if data is not None else "")
    return browser.post(url, {"file": part}, content_type="multipart/form-data")


def state(session) -> tuple[list, int, int]:
    session.expire_all()
    return (
        [(a.sha256, a.removed_at) for a in session.scalars(select(TrustAnchor).order_by(TrustAnchor.id))],
        session.scalar(select(func.count(RevocationList.id))) or 0,
        session.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.action.like("%.added"))) or 0,
    )


def test_the_administrator_of_the_tree_adds_removes_and_loads_a_crl(session, root_admin, pki):
    root, issuing = pki
    page = root_admin.get(URL).get_data(as_text=True)
    assert "Chưa có chứng thư gốc nào" in page and "Thêm chứng thư gốc" in page

    added = post_file(root_admin, URL, pem(root.cert, issuing.cert))
    assert added.status_code == 302
    page = root_admin.get(URL).get_data(as_text=True)
    assert "Đã thêm 2 chứng thư gốc tin cậy" in page
    first, second = session.scalars(select(TrustAnchor).order_by(TrustAnchor.id)).all()
    assert "Root CA thử nghiệm" in page and first.sha256 in page and page.count("Đang dùng") == 2

    loaded = post_file(root_admin, f"{URL}/crl", issuing.crl([]).public_bytes(serialization.Encoding.DER), "ca.crl")
    assert loaded.status_code == 302
    page = root_admin.get(URL).get_data(as_text=True)
    assert "Đã nạp danh sách thu hồi" in page and session.scalar(select(RevocationList.sha256)) in page

    assert root_admin.post(f"{URL}/{second.id}/remove").status_code == 302
    page = root_admin.get(URL).get_data(as_text=True)
    assert "Đã gỡ chứng thư gốc" in page and page.count("Đang dùng") == 1
    again = root_admin.post(f"{URL}/{second.id}/remove")
    assert again.status_code == 400 and "đã được gỡ" in again.get_data(as_text=True)
    assert root_admin.post(f"{URL}/999999/remove").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "Tệp rỗng."),  # no file chosen
        (b"not a certificate", "không phải chứng thư"),
        (b"x" * (anchors.MAX_ANCHOR_BYTES + 1), "Tệp quá lớn (giới hạn 256 KB)."),
    ],
)
def test_bad_certificate_files_are_refused_under_the_field(session, root_admin, data, message):
    before = state(session)
    response = post_file(root_admin, URL, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and 'for="u-anchor"' in page
    assert state(session) == before


def test_refusals_of_duplicates_and_foreign_crls(session, root_admin, pki):
    root, _ = pki
    post_file(root_admin, URL, pem(root.cert))
    before = state(session)
    duplicate = post_file(root_admin, URL, pem(root.cert))
    assert duplicate.status_code == 400 and "đã là chứng thư gốc tin cậy" in duplicate.get_data(as_text=True)
    stranger = demo.root_authority("Root CA lạ")
    crl = post_file(root_admin, f"{URL}/crl", pem(stranger.crl([])), "la.crl")
    assert crl.status_code == 400 and "không do một chứng thư gốc tin cậy" in crl.get_data(as_text=True)
    assert state(session) == before


def test_oversized_uploads_answer_on_the_page(session, root_admin):
    before = state(session)
    at_limit = post_file(root_admin, f"{URL}/crl", b"0" * anchors.MAX_CRL_BYTES, "lon.crl")
    assert at_limit.status_code == 400  # 20 MB and the form pass the request limit: read, and not a CRL
    assert "không phải danh sách" in at_limit.get_data(as_text=True)
    oversized = ((f"{URL}/crl", anchors.MAX_CRL_BYTES, "20 MB"), (URL, anchors.MAX_ANCHOR_BYTES, "256 KB"))
    for url, limit, shown in oversized:
        response = post_file(root_admin, url, b"0" * (limit + 2 * 1024 * 1024))
        page = response.get_data(as_text=True)
        assert response.status_code == 413 and f"Tệp lớn quá {shown}" in page and "Chứng thư gốc tin cậy" in page
    assert state(session) == before


def test_who_sees_and_changes_anchors(session, world, make_browser, pki):
    root, _ = pki
    anchors.add_anchors(session, anchors.Actor(label="cli:test"), pem(root.cert))
    session.commit()
    anchor_id = session.scalar(select(TrustAnchor.id))
    before = state(session)
    district_admin = make_browser()
    district_admin.login("administrator")  # administers the district, not the whole tree
    page = district_admin.get(URL).get_data(as_text=True)
    assert "Root CA thử nghiệm" in page and "Thêm chứng thư gốc" not in page
    assert "Chỉ quản trị viên toàn hệ thống" in page
    assert post_file(district_admin, URL, pem(root.cert)).status_code == 403
    assert post_file(district_admin, f"{URL}/crl", b"x").status_code == 403
    assert post_file(district_admin, f"{URL}/crl", b"0" * (anchors.MAX_CRL_BYTES + 2**21)).status_code == 403
    assert district_admin.post(f"{URL}/{anchor_id}/remove").status_code == 403
    for role in (Role.AUDITOR, Role.CLERK, Role.FOCAL_OFFICER):
        browser = make_browser()
        browser.login(role.value.replace("_", ""))
        assert browser.get(URL).status_code == 403
    assert make_browser().get(URL).status_code == 302
    assert state(session) == before
