"""Issue 15 items 25, 26 and 28: the request forms against Nghị định 68/2024 (Mẫu 01–06).

The unit's own written request on every request and files attached to it; the fields each form adds; e-mails on
the official domain when one is set; the request a person's leaving or moving requires, offered prefilled; a lost
token's revocation marked urgent and sent to the CA outside any batch.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from html import unescape
from io import BytesIO

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.auditview.labels import action_label
from certsvc.config import ConfigError
from certsvc.errors import ValidationFailed
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, TokenKind
from certsvc.requests.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, add_attachment
from certsvc.requests.checks import submission_problems
from certsvc.requests.fields import SubmissionLimits
from certsvc.requests.models import CertificateRequest, RequestAttachment, RequestStatus
from certsvc.requests.service import create_draft, draft_lost_token_revocation
from tests.conftest import Browser
from tests.requests.test_form_errors_placement import alert_box, field_block
from tests.requests.test_requests_pages import signed_in, text
from tests.support.api import Api
from tests.support.registry import add_certificate
from tests.support.requests import bring_to, counts, draft, head, individual, officer, organisational

LETTER_DAY = date.today() - timedelta(days=3)
LETTER = {
    "unit_letter_number": "15/UBND-VP",
    "unit_letter_date": LETTER_DAY.isoformat(),
    "unit_letter_signer": "Nông Văn Tuấn",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00scan of a CCCD" * 40


@pytest.fixture
def officer_page(make_browser, world):
    return signed_in(make_browser, "unitofficer")


def _save(browser, world, request_type: str, fields: dict):
    """Post the form of ``request_type`` as the commune's request."""
    return browser.post(f"/requests/new/{request_type}", {"organisation_id": str(world.orgs["commune"].id), **fields})


def _latest(session) -> CertificateRequest:
    session.expire_all()
    return session.scalars(select(CertificateRequest).order_by(CertificateRequest.id.desc())).first()


def _audit_actions(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


# --- item 25: the unit's written request -------------------------------------------------------------


def test_the_unit_letter_is_kept_under_its_keys_and_shown_on_the_request(officer_page, session, world):
    form = text(officer_page.get("/requests/new/new_individual"))
    assert "Công văn đề nghị của đơn vị" in form
    assert "Số, ký hiệu công văn đề nghị của đơn vị" in field_block(form, "f-unit_letter_number")
    saved = _save(officer_page, world, "new_individual", individual(**LETTER))
    assert saved.status_code == 302
    request = _latest(session)
    assert {name: request.data[name] for name in LETTER} == LETTER
    page = text(officer_page.get(f"/requests/{request.id}"))
    assert "15/UBND-VP" in page and LETTER_DAY.strftime("%d/%m/%Y") in page and "Nông Văn Tuấn" in page


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("unit_letter_date", (date.today() + timedelta(days=1)).isoformat(), "Ngày công văn không thể sau hôm nay."),
        ("unit_letter_date", (date.today() - timedelta(days=400)).isoformat(), "Công văn đề nghị đã quá một năm"),
        ("unit_letter_date", "31/02/2026", "Ngày không hợp lệ"),
        ("unit_letter_number", "1" * 51, "Dài quá 50 ký tự."),
        ("unit_letter_signer", "Nông\u202eVăn", "ký tự ẩn"),
    ],
)
def test_a_bad_unit_letter_is_refused_under_its_field(officer_page, session, world, name, value, message):
    before = counts(session)
    refused = _save(officer_page, world, "new_individual", individual(**{**LETTER, name: value}))
    page = text(refused)
    assert refused.status_code == 400 and message in field_block(page, f"f-{name}")
    assert message not in alert_box(page)
    assert counts(session) == before


# --- item 25: attachments ------------------------------------------------------------------------------


def _attach(browser, request_id: int, content: bytes, filename: str, description: str = "CCCD hai mặt"):
    return browser.post(
        f"/requests/{request_id}/attachments",
        {"file": (BytesIO(content), filename), "description": description},
        content_type="multipart/form-data",
    )


def test_a_scanned_cccd_is_attached_listed_and_downloaded_by_those_who_see_the_request(
    officer_page, make_browser, session, world
):
    focal_page = signed_in(make_browser, "focalofficer")
    request = draft(session, world)
    # A browser may send the path it was picked from; only the file's own name is kept.
    assert _attach(officer_page, request.id, PNG, "/home/canbo/scan/cccd-mai.png").status_code == 302
    page = text(officer_page.get(f"/requests/{request.id}"))
    assert "cccd-mai.png" in page and "CCCD hai mặt" in page
    attachment = session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == request.id)).one()
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest() and attachment.media_type == "image/png"
    assert attachment.filename == "cccd-mai.png"
    assert _audit_actions(session)[-1] == "request.attachment_added"
    assert action_label("request.attachment_added") == "Đề nghị chứng thư số: đính kèm tệp"

    url = f"/requests/{request.id}/attachments/{attachment.id}"
    assert f'href="{url}"' in page
    download = focal_page.get(url)
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    assert (
        "attachment" in download.headers["Content-Disposition"]
        and "cccd-mai.png" in download.headers["Content-Disposition"]
    )
    assert signed_in(make_browser, "reviewer").get(url).status_code == 403
    other = draft(session, world)
    assert focal_page.get(f"/requests/{other.id}/attachments/{attachment.id}").status_code == 404


def test_an_attachment_named_in_vietnamese_downloads_under_its_name(officer_page, session, world):
    """Headers travel as Latin-1: the name goes as RFC 6266's filename* beside an ASCII stand-in."""
    request = draft(session, world)
    assert _attach(officer_page, request.id, PNG, "Bản chụp CCCD của Đỗ Mai.png").status_code == 302
    attachment = session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == request.id)).one()
    download = officer_page.get(f"/requests/{request.id}/attachments/{attachment.id}")
    disposition = download.headers["Content-Disposition"]
    disposition.encode("latin-1")  # what the server writes on the wire
    assert disposition == (
        'attachment; filename="Ban chup CCCD cua Do Mai.png"; '
        "filename*=UTF-8''B%E1%BA%A3n%20ch%E1%BB%A5p%20CCCD%20c%E1%BB%A7a%20%C4%90%E1%BB%97%20Mai.png"
    )


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"MZ\x90\x00 not a scan", "cccd.exe", "Chỉ nhận tệp PDF, JPEG hoặc PNG."),
        (b"", "cccd.png", "Chọn tệp đính kèm"),
        (b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "cccd.pdf", "Tệp lớn quá 10 MB."),
    ],
)
def test_a_refused_file_says_why_under_the_file_field_and_keeps_nothing(
    officer_page, session, world, content, filename, message
):
    request = draft(session, world)
    before = counts(session)
    refused = _attach(officer_page, request.id, content, filename, "Bản chụp")
    page = text(refused)
    assert refused.status_code == 400 and message in field_block(page, "a-file")
    assert 'value="Bản chụp"' in field_block(page, "a-description")
    assert counts(session) == before and not session.scalars(select(RequestAttachment)).all()


def test_a_request_keeps_at_most_ten_files(session, world):
    request = draft(session, world)
    for number in range(MAX_ATTACHMENTS):
        scan = FileStorage(BytesIO(PNG + bytes([number])), f"trang-{number}.png")
        add_attachment(session, officer(world), request, scan, None)
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        add_attachment(session, officer(world), request, FileStorage(BytesIO(PNG), "thua.png"), None)
    assert refused.value.field_errors == {"file": "Mỗi đề nghị đính kèm tối đa 10 tệp: gỡ bớt tệp không cần."}


def test_files_are_attached_while_the_unit_may_change_the_request_and_removed_with_a_record(
    officer_page, session, world
):
    returned = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)
    assert _attach(officer_page, returned.id, b"\xff\xd8\xff\xe0 jpeg scan", "cccd.jpg").status_code == 302
    attachment = session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == returned.id)).one()
    removed = officer_page.post(f"/requests/{returned.id}/attachments/{attachment.id}/remove")
    assert removed.status_code == 302 and _audit_actions(session)[-1] == "request.attachment_removed"
    assert "cccd.jpg" not in text(officer_page.get(f"/requests/{returned.id}"))
    assert officer_page.get(f"/requests/{returned.id}/attachments/{attachment.id}").status_code == 404

    submitted = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    page = text(officer_page.get(f"/requests/{submitted.id}"))
    assert "Tệp đính kèm" in page and "Chưa có tệp đính kèm." in page and 'name="file"' not in page
    before = counts(session)
    late = _attach(officer_page, submitted.id, PNG, "cccd.png")
    assert late.status_code == 409 and "Chỉ thêm, gỡ tệp đính kèm khi đề nghị là dự thảo hoặc bị trả lại" in text(late)
    assert counts(session) == before


# --- item 26: the fields of each form ------------------------------------------------------------------


def test_mau_02_asks_the_agency_code_the_head_and_the_receivers_position_and_contact(officer_page, session, world):
    form = text(officer_page.get("/requests/new/new_organisation"))
    for label in (
        "Mã định danh điện tử của cơ quan",
        "Người đứng đầu cơ quan",
        "Chức vụ người đứng đầu",
        "Chức vụ người nhận",
        "Số điện thoại di động người nhận",
        "Thư điện tử công vụ người nhận",
    ):
        assert label in form
    fields = organisational(head_name="Nông Văn Tuấn", head_position="Chủ tịch UBND xã", receiver_position="Văn thư")
    refused = _save(
        officer_page, world, "new_organisation", {**fields, "agency_code": "H40.12", "receiver_phone": "12"}
    )
    page = text(refused)
    assert refused.status_code == 400
    assert "13 ký tự" in field_block(page, "f-agency_code")
    assert "Số điện thoại không hợp lệ" in field_block(page, "f-receiver_phone")
    saved = _save(
        officer_page,
        world,
        "new_organisation",
        {**fields, "agency_code": "000.12.34.h40", "receiver_phone": "0912 345 678", "receiver_email": "ngoc@lsn.vn"},
    )
    assert saved.status_code == 302
    data = _latest(session).data
    assert data["agency_code"] == "000.12.34.H40" and data["receiver_phone"] == "0912345678"
    assert data["head_name"] == "Nông Văn Tuấn" and data["receiver_position"] == "Văn thư"


def test_mau_03_asks_the_managers_cccd_position_and_phone(officer_page, world):
    form = text(officer_page.get("/requests/new/new_device"))
    assert "Số CCCD người quản lý" in form and "Chức vụ người quản lý" in form
    refused = _save(officer_page, world, "new_device", {"manager_cccd": "0201", "manager_phone": "abc"})
    page = text(refused)
    assert "Số CCCD phải gồm đúng 12 chữ số." in field_block(page, "f-manager_cccd")
    assert "Số điện thoại không hợp lệ" in field_block(page, "f-manager_phone")


def _holder_certificate(session, world, **person_fields) -> Certificate:
    holder = Person(
        full_name="Nguyễn Văn An",
        organisation=world.orgs["commune"],
        position="Công chức Tư pháp",
        cccd="001234567890",
        **person_fields,
    )
    session.add(holder)
    session.flush()
    return add_certificate(session, world.orgs["commune"], holder=holder)


def test_mau_04_shows_the_current_values_beside_the_new_ones_and_takes_a_new_cccd(officer_page, session, world):
    certificate = _holder_certificate(session, world)
    form = text(officer_page.get(f"/requests/new/change?certificate_id={certificate.id}"))
    assert "Hiện tại: <strong>Nguyễn Văn An</strong>" in field_block(form, "f-new_full_name")
    assert "Hiện tại: <strong>001234567890</strong>" in field_block(form, "f-new_cccd")
    assert "Hiện tại: <strong>UBND xã Tân Đoàn</strong>" in field_block(form, "f-new_unit_name")
    assert "Hiện tại: <strong>—</strong>" in field_block(form, "f-new_phone")  # the registry knows none
    saved = _save(
        officer_page, world, "change", {"certificate_serial": certificate.serial_hex, "new_cccd": "001234567891"}
    )
    assert saved.status_code == 302
    request = _latest(session)
    assert request.data["new_cccd"] == "001234567891"
    assert "change_changes_nothing" not in {p.code for p in submission_problems(session, request)}
    assert "(hiện tại: 001234567890)" in text(officer_page.get(f"/requests/{request.id}"))


def test_mau_06_names_the_certificate_on_the_token_and_the_holders_contact(officer_page, session, world):
    certificate = _holder_certificate(session, world)
    other = add_certificate(session, world.orgs["commune"], cn="Lò Thị Hạnh")
    form = text(officer_page.get("/requests/new/recovery"))
    for label in (
        "Số hiệu (serial) chứng thư số trên thiết bị",
        "Người sử dụng thiết bị",
        "Số điện thoại di động người sử dụng",
        "Thư điện tử công vụ người sử dụng",
    ):
        assert label in form

    def recovery(serial: str) -> CertificateRequest:
        return create_draft(
            session,
            officer(world),
            world.orgs["commune"].id,
            "recovery",
            {
                "token_serial": certificate.token.serial,
                "problem": "pin_locked",
                "certificate_serial": serial,
                "holder_phone": "0912345678",
            },
        )

    wrong = recovery(other.serial_hex)
    assert "certificate_not_on_token" in {p.code for p in submission_problems(session, wrong)}
    session.rollback()
    right = recovery(certificate.serial_hex.lower())
    assert "certificate_not_on_token" not in {p.code for p in submission_problems(session, right)}


def test_emails_must_be_on_the_official_domain_when_it_is_set(make_app, session, world):
    browser = Browser(make_app(CERTSVC_OFFICIAL_EMAIL_DOMAIN="@LangSon.gov.vn").test_client())
    assert browser.login("unitofficer").status_code == 302
    form = text(browser.get("/requests/new/new_individual"))
    assert "Địa chỉ thuộc miền langson.gov.vn." in field_block(form, "f-email")
    commune = str(world.orgs["commune"].id)
    for address in ("mai@gmail.com", "mai@evillangson.gov.vn"):
        refused = browser.post("/requests/new/new_individual", individual(email=address, organisation_id=commune))
        assert refused.status_code == 400
        assert "thuộc miền langson.gov.vn" in field_block(text(refused), "f-email")
    saved = browser.post(
        "/requests/new/new_individual", individual(email="mai@vanquan.langson.gov.vn", organisation_id=commune)
    )
    assert saved.status_code == 302


def test_the_official_domain_setting_is_checked_like_every_setting():
    assert SubmissionLimits.from_config({}).official_email_domain == ""
    assert SubmissionLimits().email_problem("mai@gmail.com") is None
    with pytest.raises(ConfigError, match="CERTSVC_OFFICIAL_EMAIL_DOMAIN"):
        SubmissionLimits.from_config({"CERTSVC_OFFICIAL_EMAIL_DOMAIN": "lang son"})


# --- item 28: leaving, moving, a lost token -------------------------------------------------------------


def test_a_person_who_left_is_offered_the_revocation_prefilled(admin, make_browser, session, world):
    certificate = _holder_certificate(session, world)
    person = certificate.holder
    edited = admin.post(
        f"/admin/people/{person.id}/edit",
        {
            "full_name": person.full_name,
            "position": person.position,
            "organisation_id": str(person.organisation_id),
            "cccd": person.cccd,
        },
    )
    assert edited.status_code == 302
    person_page = text(admin.get(f"/admin/people/{person.id}"))
    assert "Chứng thư số cần đề nghị" in person_page and "chứng thư số phải thu hồi" in person_page
    assert "Cán bộ phụ trách đề nghị của đơn vị lập đề nghị thu hồi chứng thư số" in person_page

    drafter = signed_in(make_browser, "unitofficer")
    assert "Cán bộ nghỉ việc, chuyển công tác: chứng thư số cần đề nghị" in text(drafter.get("/"))
    listed = text(drafter.get("/requests/follow-ups"))
    link = f"/requests/new/revocation?certificate_id={certificate.id}&amp;reason=left_state_sector"
    assert "Nguyễn Văn An" in listed and link in listed
    form = text(drafter.get(link.replace("&amp;", "&")))
    assert '<option value="left_state_sector" selected>' in field_block(form, "f-reason")
    assert f'value="{certificate.serial_hex.upper()}"' in field_block(form, "f-certificate_serial")

    saved = _save(
        drafter, world, "revocation", {"certificate_serial": certificate.serial_hex, "reason": "left_state_sector"}
    )
    assert saved.status_code == 302
    request = _latest(session)
    assert f"Đề nghị số {request.id}" in text(drafter.get("/requests/follow-ups"))
    assert "Cán bộ nghỉ việc, chuyển công tác" not in text(drafter.get("/"))


def test_a_person_who_moved_is_offered_the_information_change(make_browser, session, world):
    certificate = _holder_certificate(session, world)
    certificate.holder.organisation = world.orgs["other_commune"]
    session.commit()
    drafter = signed_in(make_browser, "unitofficer")
    listed = text(drafter.get("/requests/follow-ups"))
    assert "Cán bộ đã chuyển sang UBND xã Yên Phúc" in listed
    (link,) = re.findall(r'href="(/requests/new/change\?[^"]+)"', listed)
    form = text(drafter.get(unescape(link)))
    block = field_block(form, "f-new_unit_name")
    assert 'value="UBND xã Yên Phúc"' in block and "Hiện tại: <strong>UBND xã Tân Đoàn</strong>" in block


def test_the_revocation_drafted_when_a_token_is_reported_lost_is_urgent(session, world):
    certificate = add_certificate(session, world.orgs["commune"], kind=TokenKind.ORGANISATION)
    lost = draft_lost_token_revocation(
        session, head(world), world.orgs["commune"].id, {"certificate_id": certificate.id, "reason": "lost_token"}
    )
    assert lost.data["urgent"] is True


def test_a_lost_tokens_revocation_is_urgent_and_goes_to_the_ca_outside_a_batch(
    officer_page, make_browser, session, world
):
    focal_page = signed_in(make_browser, "focalofficer")
    certificate = _holder_certificate(session, world)
    saved = _save(
        officer_page,
        world,
        "revocation",
        {"certificate_serial": certificate.serial_hex, "reason": "lost_token", "urgent": "1"},
    )
    assert saved.status_code == 302
    lost = _latest(session)
    assert lost.data["urgent"] is True
    bring_to(session, world, lost, RequestStatus.ACCEPTED)
    home = text(focal_page.get("/"))
    assert "Thu hồi khẩn đã tiếp nhận: gửi ngay cơ quan cấp" in home
    page = text(focal_page.get(f"/requests/{lost.id}"))
    assert "Khẩn" in page and "Gửi khẩn cơ quan cấp (ngoài đợt tổng hợp)" in page
    queue = officer_page.get("/requests/").get_data(as_text=True)
    row = re.search(rf'<a href="/requests/{lost.id}">{lost.id}</a></td>\s*<td[^>]*>([^\n]*)</td>', queue)
    assert row and '<span class="badge bad">Khẩn</span>' in row[1], "the unit's list marks the urgent revocation"
    unexplained = focal_page.post(f"/requests/{lost.id}/act/send_urgent", {"comment": ""})
    assert unexplained.status_code == 400
    sent = focal_page.post(f"/requests/{lost.id}/act/send_urgent", {"comment": "Gửi qua thư điện tử ngày 06/12"})
    assert sent.status_code == 302
    session.expire_all()
    assert lost.status is RequestStatus.SENT and lost.batch_id is None
    assert "Thu hồi khẩn đã tiếp nhận" not in text(focal_page.get("/"))
    done = focal_page.post(f"/requests/{lost.id}/outcome", {"outcome": "done"})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Certificate, certificate.id).revoked_at is not None


def test_only_an_urgent_revocation_leaves_outside_a_batch(officer_page, make_browser, session, world):
    focal_page = signed_in(make_browser, "focalofficer")
    certificate = _holder_certificate(session, world)
    refused = _save(
        officer_page,
        world,
        "revocation",
        {"certificate_serial": certificate.serial_hex, "reason": "retirement", "urgent": "1"},
    )
    assert "Chỉ đề nghị thu hồi khẩn khi mất thiết bị" in field_block(text(refused), "f-urgent")
    ordinary = create_draft(
        session,
        officer(world),
        world.orgs["commune"].id,
        "revocation",
        {"certificate_id": certificate.id, "reason": "retirement"},
    )
    session.commit()
    bring_to(session, world, ordinary, RequestStatus.ACCEPTED)
    assert "Gửi khẩn cơ quan cấp" not in text(focal_page.get(f"/requests/{ordinary.id}"))
    assert "Thu hồi khẩn đã tiếp nhận" not in text(focal_page.get("/"))
    before = counts(session)
    assert focal_page.post(f"/requests/{ordinary.id}/act/send_urgent", {"comment": "thử"}).status_code == 409
    assert counts(session) == before


# --- the JSON API -----------------------------------------------------------------------------------------


def test_the_api_takes_and_gives_the_new_fields_and_lists_attachments(app, session, world, officer_page):
    api = Api(app, session, world.account(Role.UNIT_OFFICER))
    types = {t["type"]: {f["name"] for f in t["fields"]} for t in api.get("/request-types")["items"]}
    assert all(set(LETTER) <= names for names in types.values())
    assert {"agency_code", "head_name", "receiver_phone"} <= types["new_organisation"]
    assert {"manager_cccd", "manager_position", "manager_phone"} <= types["new_device"]
    assert "new_cccd" in types["change"] and "urgent" in types["revocation"]
    created = api.post(
        "/requests",
        {"organisation_id": world.orgs["commune"].id, "type": "new_individual", "fields": {**individual(), **LETTER}},
        status=201,
    )
    assert {name: created["fields"][name] for name in LETTER} == LETTER and created["attachments"] == []
    assert _attach(officer_page, created["id"], PNG, "cccd.png").status_code == 302
    (listed,) = api.get(f"/requests/{created['id']}")["attachments"]
    assert listed["filename"] == "cccd.png" and listed["sha256"] == hashlib.sha256(PNG).hexdigest()
    changed = api.patch(f"/requests/{created['id']}", {"fields": {"unit_letter_number": "16/UBND-VP"}})
    assert changed["fields"]["unit_letter_number"] == "16/UBND-VP"
