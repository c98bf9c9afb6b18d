"""The incoming pages: the list with its tabs, the clerk's upload of an outside PDF with "Kiểm tra ký số", register,
return, the head's direction, the recall, the file; who may do what; hostile and oversized uploads change nothing.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.documents import files
from certsvc.documents.models import (
    DocumentStatus,
    IncomingDocument,
    IncomingStatus,
    StoredFile,
    Urgency,
)
from certsvc.registry.models import TrustAnchor
from certsvc.timeutil import to_vietnam, utcnow
from tests.conftest import add_account
from tests.documents.test_incoming import _signed, encrypted
from token_agent.demo import make_draft

SENDER = "Sở Văn hóa, Thể thao và Du lịch tỉnh Lạng Sơn"
SUMMARY = "V/v tổ chức Lễ hội Xuân năm 2027"


@pytest.fixture(scope="module")
def signed_and_anchor():
    return _signed(make_draft())


@pytest.fixture
def world(session, docs_world, signed_and_anchor):
    """The documents world, with the test root trusted as an administrator would add it."""
    _, anchor = signed_and_anchor
    session.add(TrustAnchor(**{c: getattr(anchor, c) for c in ("subject_dn", "sha256", "der", "not_after")}))
    session.commit()
    return docs_world


@pytest.fixture
def signed_pdf(signed_and_anchor) -> bytes:
    return signed_and_anchor[0]


def signed_in(make_browser, username: str):
    browser = make_browser()
    browser.login(username)
    return browser


def form(content: bytes | None, filename: str = "cv-den.pdf", **changes) -> dict:
    """The upload form; ``content`` None is no file chosen (the browser sends an empty part)."""
    values = {
        "sender_name": SENDER,
        "original_number": "125/SVHTTDL-QLVH",
        "original_date": "2026-12-01",
        "summary": SUMMARY,
        "urgency": "normal",
        "file": (io.BytesIO(content or b""), filename if content is not None else ""),
    }
    values.update(changes)
    return values


def upload(browser, content: bytes | None, filename: str = "cv-den.pdf", **changes):
    return browser.post(
        "/documents/incoming/receive", form(content, filename, **changes), content_type="multipart/form-data"
    )


def counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count(IncomingDocument.id))) or 0,
        session.scalar(select(func.count(StoredFile.sha256))) or 0,
        # Signing in is audited too: only the entries of incoming documents count here.
        session.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.action.startswith("incoming."))) or 0,
    )


def received_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/documents/incoming/(\d+)$", response.headers["Location"]).group(1))


def test_the_clerk_receives_a_signed_pdf_checks_and_registers_it(make_browser, session, world, signed_pdf):
    clerk = signed_in(make_browser, "clerk")
    page = clerk.get("/documents/incoming").get_data(as_text=True)
    assert "Tiếp nhận văn bản từ bên ngoài" in page and "Không có văn bản nào" in page

    incoming_id = received_id(upload(clerk, signed_pdf))
    page = clerk.get(f"/documents/incoming/{incoming_id}").get_data(as_text=True)
    assert "Đã nhận văn bản và kiểm tra ký số: hợp lệ" in page
    assert "Kiểm tra ký số" in page and "Nguyễn Văn Nơi Gửi (CCCD:001234567890)" in page
    assert "TOTAL_PASSED" in page and "Còn nguyên vẹn" in page and "Tới chứng thư gốc tin cậy" in page
    assert "Vào sổ văn bản đến" in page and "Trả lại nơi gửi" in page
    assert SUMMARY in clerk.get("/documents/incoming?tab=waiting").get_data(as_text=True)

    response = clerk.post(f"/documents/incoming/{incoming_id}/register")
    assert response.status_code == 302
    page = clerk.get(f"/documents/incoming/{incoming_id}").get_data(as_text=True)
    doc = session.get(IncomingDocument, incoming_id)
    day = to_vietnam(doc.counted_at).date()
    assert f"Số 1, Ngày {day:%d/%m/%Y}" in page and "Đã vào sổ" in page
    assert "Vào sổ văn bản đến</button>" not in page
    registered = clerk.get("/documents/incoming?tab=registered").get_data(as_text=True)
    assert SUMMARY in registered and f"1/{day.year}" in registered
    assert SUMMARY not in clerk.get("/documents/incoming").get_data(as_text=True)

    download = clerk.get(f"/documents/incoming/{incoming_id}/file")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == signed_pdf
    assert "attachment" in download.headers["Content-Disposition"]


def test_an_unsigned_pdf_cannot_be_registered_and_is_returned_with_a_reason(make_browser, session, world):
    clerk = signed_in(make_browser, "clerk")
    incoming_id = received_id(upload(clerk, make_draft()))
    page = clerk.get(f"/documents/incoming/{incoming_id}").get_data(as_text=True)
    assert "không có chữ ký số" in page and "Vào sổ văn bản đến</button>" not in page
    before = counts(session)

    refused = clerk.post(f"/documents/incoming/{incoming_id}/register")
    assert refused.status_code == 409
    assert "Trả lại nơi gửi, ghi rõ lý do." in refused.get_data(as_text=True)
    no_reason = clerk.post(f"/documents/incoming/{incoming_id}/return", {"comment": "  "})
    assert no_reason.status_code == 400 and 'class="error"' in no_reason.get_data(as_text=True)
    assert counts(session) == before
    assert session.get(IncomingDocument, incoming_id).status is IncomingStatus.RECEIVED

    reason = "Văn bản không có chữ ký số, đề nghị gửi lại bản đã ký."
    assert clerk.post(f"/documents/incoming/{incoming_id}/return", {"comment": reason}).status_code == 302
    returned = clerk.get("/documents/incoming?tab=returned").get_data(as_text=True)
    assert reason in returned and SUMMARY in returned


def test_missing_fields_are_shown_under_them_and_what_was_typed_stays(make_browser, session, world, signed_pdf):
    clerk = signed_in(make_browser, "clerk")
    before = counts(session)
    response = upload(clerk, signed_pdf, sender_name="", summary="", original_date="31/02/2026", urgency="x")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count('<small class="error">') == 4
    assert "125/SVHTTDL-QLVH" in page  # kept
    assert counts(session) == before


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (None, "", "Chọn tệp PDF"),  # no file chosen: the browser sends an empty part
        (b"", "rong.pdf", "Chọn tệp PDF"),
        (b"MZ\x90\x00 not a pdf", "virus.pdf", "không phải PDF"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "hong.pdf", ""),
        ("encrypted", "mat-khau.pdf", "mật khẩu"),
    ],
)
def test_hostile_files_are_refused_under_the_field_and_nothing_is_kept(
    make_browser, session, world, content, filename, message
):
    clerk = signed_in(make_browser, "clerk")
    before = counts(session)
    data = encrypted(b"mat-khau") if content == "encrypted" else content
    response = upload(clerk, data, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert 'id="f-file"' in page and re.search(r'has-error">\s*<label for="f-file"', page)
    assert message in page
    assert counts(session) == before


def test_twenty_megabytes_pass_the_request_limit_and_more_is_refused_readably(make_browser, session, world):
    clerk = signed_in(make_browser, "clerk")
    before = counts(session)
    limit = files.MAX_FILE_BYTES
    at_limit = b"%PDF-1.7\n" + b"0" * (limit - 9)
    response = upload(clerk, at_limit)
    assert response.status_code == 400  # reached the check: a PDF it cannot read, not a 413
    assert "Tệp lớn quá" not in response.get_data(as_text=True)
    assert SENDER in response.get_data(as_text=True)  # what was typed stays

    over = upload(clerk, at_limit + b"0")
    assert over.status_code == 400 and "Tệp lớn quá 20 MB." in over.get_data(as_text=True)

    huge = upload(clerk, at_limit + b"0" * (2 * 1024 * 1024))
    page = huge.get_data(as_text=True)
    assert huge.status_code == 413
    assert "Tệp lớn quá 20 MB" in page and "Tiếp nhận văn bản từ bên ngoài" in page
    assert counts(session) == before


def test_a_huge_upload_by_someone_who_may_not_receive_is_the_error_page(make_browser, session, world):
    drafter = signed_in(make_browser, "drafter")
    huge = upload(drafter, b"%PDF-1.7\n" + b"0" * (files.MAX_FILE_BYTES + 2 * 1024 * 1024))
    assert huge.status_code == 403


def test_who_sees_and_answers_incoming_documents(make_browser, session, world, signed_pdf):
    clerk = signed_in(make_browser, "clerk")
    incoming_id = received_id(upload(clerk, signed_pdf))
    url = f"/documents/incoming/{incoming_id}"
    before = counts(session)

    commune = signed_in(make_browser, "commune_clerk")  # a clerk of another body: the document does not exist
    assert commune.get(url).status_code == 404
    assert commune.get(f"{url}/file").status_code == 404
    assert commune.post(f"{url}/register").status_code == 404
    assert SUMMARY not in commune.get("/documents/incoming").get_data(as_text=True)

    head = signed_in(make_browser, "signer")  # sees it, may not register it
    page = head.get(url).get_data(as_text=True)
    assert SUMMARY in page and "Vào sổ văn bản đến</button>" not in page and "Tiếp nhận văn bản" not in page
    assert "Tiếp nhận văn bản từ bên ngoài" not in head.get("/documents/incoming").get_data(as_text=True)
    assert head.post(f"{url}/register").status_code == 403
    assert head.post(f"{url}/return", {"comment": "x"}).status_code == 403
    assert upload(head, signed_pdf).status_code == 403
    assert counts(session) == before

    assert make_browser().get(url).status_code == 302  # to the login page
    assert clerk.get("/documents/incoming/99999").status_code == 404
    assert clerk.get("/documents/incoming?tab=nothing").status_code == 404
    assert clerk.get("/documents/incoming?page=x").status_code == 400


def test_the_head_directs_a_registered_document(make_browser, session, world, signed_pdf):
    clerk = signed_in(make_browser, "clerk")
    incoming_id = received_id(upload(clerk, signed_pdf))
    url = f"/documents/incoming/{incoming_id}"
    head = signed_in(make_browser, "signer")
    assert "Giao xử lý" not in head.get(url).get_data(as_text=True)  # not registered yet
    assert head.post(f"{url}/direct", {"handler_id": "1"}).status_code == 409
    clerk.post(f"{url}/register")

    handler = world["drafter"].person
    page = head.get(url).get_data(as_text=True)
    assert "Cho ý kiến chỉ đạo, giao xử lý" in page and handler.full_name in page
    yesterday = (to_vietnam(utcnow()).date() - timedelta(days=1)).isoformat()
    refused = head.post(f"{url}/direct", {"handler_id": str(handler.id), "handle_by": yesterday})
    assert refused.status_code == 400 and "Hạn xử lý không được trước hôm nay." in refused.get_data(as_text=True)
    assert clerk.post(f"{url}/direct", {"handler_id": str(handler.id)}).status_code == 403

    deadline = (to_vietnam(utcnow()).date() + timedelta(days=5)).isoformat()
    done = head.post(f"{url}/direct", {"handler_id": handler.id, "handle_by": deadline, "direction": "Tham mưu."})
    assert done.status_code == 302
    session.expire_all()
    doc = session.get(IncomingDocument, incoming_id)
    assert (doc.handler_id, doc.handle_by.isoformat(), doc.direction) == (handler.id, deadline, "Tham mưu.")
    # The handler, of an office under the body, now sees it.
    drafter = signed_in(make_browser, "drafter")
    assert "Tham mưu." in drafter.get(url).get_data(as_text=True)
    assert SUMMARY in drafter.get("/documents/incoming?tab=registered").get_data(as_text=True)


def test_urgent_documents_come_first_and_a_recall_is_marked_and_confirmed(
    make_browser, session, world, signed_pdf, make_document
):
    clerk = signed_in(make_browser, "clerk")
    received_id(upload(clerk, signed_pdf, summary="Văn bản thường"))
    received_id(upload(clerk, make_draft(), summary="Văn bản hỏa tốc", urgency=Urgency.FLASH.value))
    page = clerk.get("/documents/incoming").get_data(as_text=True)
    assert page.index("Văn bản hỏa tốc") < page.index("Văn bản thường")

    # A document of the service that its sender recalled after sending it to the district.
    outgoing = make_document()
    outgoing.status, outgoing.recall_reason = DocumentStatus.RECALLED, "Ban hành nhầm, thay bằng văn bản khác."
    recalled = IncomingDocument(
        receiving_body_id=world.org("district").id,
        outgoing_id=outgoing.id,
        sender_name="Phòng Văn hóa và Thông tin",
        summary="Văn bản bị thu hồi",
        arrived_at=utcnow(),
        verification={"signatures": [], "verdict": "INDETERMINATE"},
    )
    session.add(recalled)
    session.commit()
    url = f"/documents/incoming/{recalled.id}"
    assert "Nơi gửi đã thu hồi" in clerk.get("/documents/incoming").get_data(as_text=True)
    page = clerk.get(url).get_data(as_text=True)
    assert "Ban hành nhầm" in page and "Xác nhận đã biết văn bản bị thu hồi" in page
    assert f'href="/documents/{outgoing.id}"' in page  # the district's clerk also sees the sender's document
    assert signed_in(make_browser, "signer").post(f"{url}/confirm-recall").status_code == 403
    assert clerk.post(f"{url}/confirm-recall").status_code == 302
    page = clerk.get(url).get_data(as_text=True)
    assert "Đã xác nhận lúc" in page and "Xác nhận đã biết văn bản bị thu hồi</button>" not in page
    again = clerk.post(f"{url}/confirm-recall")
    assert again.status_code == 409 and "Đã xác nhận việc thu hồi" in again.get_data(as_text=True)


def test_a_handler_without_the_documents_permission_sees_what_was_directed_to_him(
    make_browser, session, world, signed_pdf
):
    vhtt = world.org("vhtt")
    focal = add_account(session, "daumoi", vhtt, (Role.FOCAL_OFFICER, vhtt), full_name="Lương Thị Hằng")
    session.commit()
    officer = signed_in(make_browser, "daumoi")
    assert officer.get("/documents/incoming").status_code == 403
    clerk = signed_in(make_browser, "clerk")
    url = f"/documents/incoming/{received_id(upload(clerk, signed_pdf))}"
    clerk.post(f"{url}/register")
    assert officer.get(url).status_code == 404
    head = signed_in(make_browser, "signer")
    assert head.post(f"{url}/direct", {"handler_id": focal.person_id}).status_code == 302
    assert SUMMARY in officer.get("/documents/incoming?tab=registered").get_data(as_text=True)
    page = officer.get(url).get_data(as_text=True)
    assert "Lương Thị Hằng" in page and "Vào sổ văn bản đến</button>" not in page and "Giao lại</button>" not in page
