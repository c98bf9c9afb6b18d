"""The registry pages: who sees what, uploads, token transitions, the board, downloads."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.registry import expiry, service
from certsvc.registry.models import Certificate, ExpiryReminder, TokenKind
from certsvc.timeutil import utcnow
from tests.support.registry import TESTER, add_certificate, der, make_cert, p7, pem, registry_counts

#: The settings of an app configured with nothing, as the pages of the default ``app`` use them.
DEFAULTS = service.RegistrySettings()


@pytest.fixture
def records(session, world):
    """A certificate in each commune and one in the office, and the commune's organisation token."""
    commune = add_certificate(session, world.orgs["commune"], cn="Nông Văn Khánh", ends=timedelta(days=20))
    other = add_certificate(session, world.orgs["other_commune"], cn="Hoàng Thị Mai")
    office = add_certificate(session, world.orgs["office"], kind=TokenKind.ORGANISATION, cn="Văn phòng UBND huyện")
    return {"commune": commune, "other": other, "office": office}


def signed_in(make_browser, role: Role):
    browser = make_browser()
    browser.login(role.value.replace("_", ""))
    return browser


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.FOCAL_OFFICER, {"Nông Văn Khánh", "Hoàng Thị Mai", "Văn phòng UBND huyện"}),
        (Role.AUDITOR, {"Nông Văn Khánh", "Hoàng Thị Mai", "Văn phòng UBND huyện"}),
        (Role.UNIT_HEAD, {"Nông Văn Khánh"}),
        (Role.UNIT_OFFICER, {"Nông Văn Khánh"}),
        (Role.CLERK, {"Văn phòng UBND huyện"}),
    ],
)
def test_each_role_sees_its_scope(make_browser, records, role, visible):
    browser = signed_in(make_browser, role)
    names = {"Nông Văn Khánh", "Hoàng Thị Mai", "Văn phòng UBND huyện"}
    for url in ("/registry/certificates", "/registry/board"):
        page = browser.get(url).get_data(as_text=True)
        assert {name for name in names if name in page} == (
            visible if url.endswith("certificates") else visible & {"Nông Văn Khánh"}
        ), url
    tokens = browser.get("/registry/tokens").get_data(as_text=True)
    assert {c.token.serial for c in records.values() if c.token.serial in tokens} == {
        c.token.serial for c in records.values() if c.subject_cn in visible
    }


def test_outside_scope_is_403_and_missing_is_404(make_browser, records):
    head = signed_in(make_browser, Role.UNIT_HEAD)
    other = records["other"]
    assert head.get(f"/registry/certificates/{other.id}").status_code == 403
    assert head.get(f"/registry/tokens/{other.token_id}").status_code == 403
    assert head.get(f"/registry/certificates/{other.id}/download").status_code == 403
    assert head.get("/registry/certificates/999999").status_code == 404
    assert head.get("/registry/tokens/999999").status_code == 404
    assert signed_in(make_browser, Role.REVIEWER).get("/registry/certificates").status_code == 403


def test_filters_and_search(make_browser, records):
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    page = focal.get("/registry/certificates?status=expiring").get_data(as_text=True)
    assert "Nông Văn Khánh" in page and "Hoàng Thị Mai" not in page
    page = focal.get("/registry/certificates?q=hoang thi").get_data(as_text=True)
    assert "Hoàng Thị Mai" in page and "Nông Văn Khánh" not in page
    serial = records["office"].serial_hex
    page = focal.get(f"/registry/certificates?q={serial[-6:].lower()}").get_data(as_text=True)
    assert "Văn phòng UBND huyện" in page and "Hoàng Thị Mai" not in page
    # as the forms accept it: colons between the bytes, spaces, any case
    tail = serial[-6:].upper()
    for typed in (":".join(tail[i : i + 2] for i in range(0, 6, 2)), " ".join(tail[i : i + 2] for i in range(0, 6, 2))):
        page = focal.get("/registry/certificates", query_string={"q": typed}).get_data(as_text=True)
        assert "Văn phòng UBND huyện" in page and "Hoàng Thị Mai" not in page, typed
    assert "Hoàng Thị Mai" in focal.get("/registry/certificates", query_string={"q": " : "}).get_data(as_text=True)
    assert focal.get("/registry/certificates?status=nonsense").status_code == 400
    assert focal.get("/registry/certificates?organisation_id=abc").status_code == 400
    assert focal.get("/registry/tokens?state=active&kind=organisation").status_code == 200
    assert focal.get("/registry/tokens?state=flying").status_code == 400
    assert focal.get("/registry/certificates?page=-5").status_code == 200


def test_detail_shows_parsed_fields_chain_and_downloads(make_browser, session, records):
    old = records["commune"]
    new = add_certificate(
        session, old.organisation, holder=old.holder, serial=None, predecessor=old, cn="Nông Văn Khánh"
    )
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    page = focal.get(f"/registry/certificates/{old.id}").get_data(as_text=True)
    for text in (
        old.sha256,
        old.sha1,
        "CCCD:001234567890",
        "ST=Lạng Sơn",
        old.serial_hex,
        new.serial_hex,
        "digitalSignature, nonRepudiation",
    ):
        assert text in page, text
    response = focal.get(f"/registry/certificates/{old.id}/download?format=der")
    assert response.data == old.der and response.mimetype == "application/pkix-cert"
    response = focal.get(f"/registry/certificates/{old.id}/download")
    assert response.data.startswith(b"-----BEGIN CERTIFICATE-----")


def upload_form(org, kind="personal", holder=None, file_bytes=b"", name="chungthu.cer", **changes):
    data = {
        "organisation_id": str(org.id),
        "kind": kind,
        "holder_id": str(holder.id) if holder else "",
        "token_serial": "",
        "predecessor_id": "",
        "file": (io.BytesIO(file_bytes), name),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("payload", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAA\n"])
def test_upload_of_a_bad_file_is_400_and_writes_nothing(make_browser, session, world, payload):
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    before = registry_counts(session)
    response = focal.post(
        "/registry/certificates/upload",
        upload_form(world.orgs["commune"], kind="device", file_bytes=payload),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "chứng thư" in page and ("không phải chứng thư số" in page or "Tệp rỗng" in page)
    assert registry_counts(session) == before


def test_upload_reports_every_problem_at_once(make_browser, session, world):
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    before = registry_counts(session)
    response = focal.post(
        "/registry/certificates/upload",
        upload_form(world.orgs["province"], kind="", file_bytes=b"junk", predecessor_id="77"),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "Chọn đơn vị bạn quản lý.",
        "Chọn loại chứng thư.",
        "Chọn chứng thư trong danh sách.",
        "không phải chứng thư số",
    ):
        assert message in page
    assert registry_counts(session) == before


@pytest.mark.parametrize("encoding", ["pem", "der", "p7b"])
def test_upload_registers_the_certificate(make_browser, session, world, encoding):
    commune = world.orgs["commune"]
    holder = world.account(Role.UNIT_HEAD).person
    cert = make_cert("Cán bộ unithead", "CCCD:012345678901")
    payload = {"pem": pem(cert), "der": der(cert), "p7b": p7(cert)}[encoding]
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    response = focal.post(
        "/registry/certificates/upload",
        upload_form(commune, holder=holder, file_bytes=payload, token_serial="5401ABCD0001"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    registered = session.scalar(select(Certificate).where(Certificate.der == der(cert)))
    assert (registered.holder_id, registered.token.serial, registered.organisation_id) == (
        holder.id,
        "5401ABCD0001",
        commune.id,
    )
    again = focal.post(
        "/registry/certificates/upload",
        upload_form(commune, holder=holder, file_bytes=payload),
        content_type="multipart/form-data",
    )
    assert again.status_code == 400 and "đã có trong sổ" in again.get_data(as_text=True)


def test_token_transition_form(make_browser, session, records):
    token = records["commune"].token
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    page = focal.get(f"/registry/tokens/{token.id}").get_data(as_text=True)
    assert 'value="pin_locked"' in page and 'value="destroyed"' not in page  # only allowed next states
    before = registry_counts(session)
    refused = focal.post(f"/registry/tokens/{token.id}/transition", {"to_state": "destroyed", "reason": "Hủy"})
    assert refused.status_code == 400 and "Không thể chuyển" in refused.get_data(as_text=True)
    no_reason = focal.post(f"/registry/tokens/{token.id}/transition", {"to_state": "pin_locked", "reason": " "})
    assert no_reason.status_code == 400 and "Ghi rõ lý do" in no_reason.get_data(as_text=True)
    assert registry_counts(session) == before
    done = focal.post(f"/registry/tokens/{token.id}/transition", {"to_state": "pin_locked", "reason": "Sai PIN 5 lần"})
    assert done.status_code == 302
    recovered = focal.post(f"/registry/tokens/{token.id}/transition", {"to_state": "active", "reason": "Mở khóa"})
    assert recovered.status_code == 302
    session.expire_all()
    page = focal.get(f"/registry/tokens/{token.id}").get_data(as_text=True)
    assert "Sai PIN 5 lần" in page and "Mở khóa" in page
    assert session.get(type(token), token.id).recoveries == 1
    head = signed_in(make_browser, Role.UNIT_HEAD)
    assert head.post(f"/registry/tokens/{token.id}/transition", {"to_state": "lost", "reason": "x"}).status_code == 403
    assert "Chuyển trạng thái" not in head.get(f"/registry/tokens/{token.id}").get_data(as_text=True)


def test_revoke_form_then_board_shows_the_return(make_browser, session, records):
    cert = records["commune"]
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    before = registry_counts(session)
    bad = focal.post(f"/registry/certificates/{cert.id}/revoke", {"revoked_on": "", "reason": "Nghỉ hưu"})
    assert bad.status_code == 400 and registry_counts(session) == before
    today = utcnow().date().isoformat()
    future = (utcnow() + timedelta(days=3)).date().isoformat()
    assert (
        focal.post(f"/registry/certificates/{cert.id}/revoke", {"revoked_on": future, "reason": "Nghỉ hưu"}).status_code
        == 400
    )
    done = focal.post(f"/registry/certificates/{cert.id}/revoke", {"revoked_on": today, "reason": "Nghỉ hưu"})
    assert done.status_code == 302
    board = focal.get("/registry/board").get_data(as_text=True)
    assert cert.token.serial in board and "ngày làm việc" in board


def test_board_shows_when_each_reminder_was_recorded(make_browser, session, records):
    expiry.record_expiry_reminders(session, utcnow(), thresholds=DEFAULTS.reminder_thresholds, actor=TESTER)
    session.commit()
    reminder = session.scalar(select(ExpiryReminder))
    page = signed_in(make_browser, Role.UNIT_HEAD).get("/registry/board").get_data(as_text=True)
    assert "mốc 30 ngày" in page and "Nông Văn Khánh" in page
    assert reminder.certificate_id == records["commune"].id


def test_one_click_renewal_draft_from_the_board(make_browser, session, records):
    pytest.importorskip("certsvc.requests.service")
    from certsvc.requests.models import CertificateRequest, RequestType

    officer = signed_in(make_browser, Role.UNIT_OFFICER)
    board = officer.get("/registry/board").get_data(as_text=True)
    url = f"/registry/certificates/{records['commune'].id}/renewal-draft"
    assert url in board
    response = officer.post(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    draft = session.scalar(select(CertificateRequest).order_by(CertificateRequest.id.desc()))
    assert (draft.request_type, draft.certificate_id) == (RequestType.RENEWAL, records["commune"].id)
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    assert url not in focal.get("/registry/board").get_data(as_text=True)  # the focal office does not draft
    assert focal.post(url).status_code == 403


def test_board_shows_the_ca_processing_deadline_of_sent_new_certificate_requests(make_browser, session, world):
    pytest.importorskip("certsvc.requests.models")
    from certsvc.requests.deadlines import ca_deadlines
    from certsvc.requests.models import Batch, BatchStatus, CertificateRequest, RequestStatus, RequestType

    sent_at = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # a Friday, 10:00 in Vietnam
    batch = Batch(
        focal_office_id=world.orgs["focal"].id,
        title="Đợt 1",
        signer_title="CHỦ TỊCH",
        signer_name="Nguyễn Văn B",
        status=BatchStatus.SENT,
        sent_at=sent_at,
    )
    commune = world.orgs["commune"]
    request = CertificateRequest(
        request_type=RequestType.NEW_INDIVIDUAL,
        status=RequestStatus.SENT,
        organisation_id=commune.id,
        data={"full_name": "Lò Văn Chiến"},
        subject_key="cccd:001234567899",
        batch=batch,
    )
    session.add_all([batch, request])
    session.commit()
    (deadline,) = ca_deadlines(session, {commune.id}, sent_at, calendar=DEFAULTS.calendar)
    # Mon 23, Wed 25, Thu 26: Tuesday 24/11 is Ngày Văn hóa Việt Nam
    assert (deadline.sent_on, deadline.due_on, deadline.working_days_left) == (
        date(2026, 11, 20),
        date(2026, 11, 26),
        3,
    )
    assert ca_deadlines(session, {commune.id}, sent_at + timedelta(days=7), calendar=DEFAULTS.calendar)[0].overdue
    assert ca_deadlines(session, {world.orgs["other_commune"].id}, sent_at, calendar=DEFAULTS.calendar) == []
    page = signed_in(make_browser, Role.UNIT_HEAD).get("/registry/board").get_data(as_text=True)
    assert "Lò Văn Chiến" in page and "26/11/2026" in page


def test_marking_a_revoked_token_returned_closes_the_deadline(make_browser, session, records):
    cert = records["commune"]
    service.revoke_certificate(
        session, TESTER, cert, revoked_at=utcnow(), reason="Nghỉ hưu", calendar=DEFAULTS.calendar
    )
    session.commit()
    focal = signed_in(make_browser, Role.FOCAL_OFFICER)
    page = focal.get(f"/registry/tokens/{cert.token_id}").get_data(as_text=True)
    assert "Ghi nhận đã nộp lại" in page
    response = focal.post(
        f"/registry/tokens/{cert.token_id}/transition",
        {"to_state": "returned", "reason": "Đã bàn giao cho CA theo biên bản Mẫu 08"},
    )
    assert response.status_code == 302
    assert service.open_returns(session, [cert.token_id]) == []
    assert "Không có thiết bị nào đang chờ nộp lại" in focal.get("/registry/board").get_data(as_text=True)


def test_a_certificate_s_page_starts_its_revocation_or_renewal_request(make_browser, records):
    officer = signed_in(make_browser, Role.UNIT_OFFICER)  # drafts the commune's requests
    cert = records["commune"]
    page = officer.get(f"/registry/certificates/{cert.id}").get_data(as_text=True)
    assert "Đề nghị thu hồi" in page and "Đề nghị gia hạn" in page
    form = officer.get(f"/requests/new/revocation?certificate_id={cert.id}").get_data(as_text=True)
    assert f'value="{cert.serial_hex.upper()}"' in form
    # a certificate the officer may not name: the form tells nothing of it
    other = records["other"]
    form = officer.get(f"/requests/new/revocation?certificate_id={other.id}").get_data(as_text=True)
    assert other.serial_hex.upper() not in form and other.serial_hex.lower() not in form
    assert officer.get("/requests/new/renewal?certificate_id=x").status_code == 200
    # who cannot draft requests sees no such button
    focal_page = signed_in(make_browser, Role.FOCAL_OFFICER).get(f"/registry/certificates/{cert.id}")
    assert "Đề nghị thu hồi" not in focal_page.get_data(as_text=True)
