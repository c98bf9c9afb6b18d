"""The pages of outgoing documents: what each role sees and may do, and every refusal answered on the page
(400/409/422) or by the error page (403/404), never a 500, with nothing changed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.documents import drafting, review
from certsvc.documents.files import MAX_FILE_BYTES, PAPER_ONLY_MESSAGE
from certsvc.documents.models import (
    DocumentEvent,
    DocumentFile,
    DocumentStatus,
    FileKind,
    NumberEntry,
    NumberState,
    OutgoingDocument,
    Series,
    Urgency,
)
from certsvc.documents.views import DRAFTING_UPLOAD_FILES
from certsvc.timeutil import utcnow
from tests.conftest import add_account
from tests.documents.conftest import document_type, document_values, draft_pdf


def counts(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (OutgoingDocument, DocumentFile, DocumentEvent, AuditEntry, NumberEntry)
    )


def as_form(values: dict[str, object]) -> dict[str, object]:
    """Values as a browser posts them: text, a list for the multi-select."""
    return {k: v if isinstance(v, list) else str(v) for k, v in values.items()}


def pdf_part(data: bytes, name: str = "du-thao.pdf") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def empty_part() -> tuple[io.BytesIO, str]:
    """What a browser sends for a file field left empty."""
    return io.BytesIO(b""), ""


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def signed_in(make_browser):
    """``signed_in(username)``: a new browser, signed in as that account of ``docs_world``."""

    def sign_in(username: str):
        browser = make_browser()
        browser.login(username)
        return browser

    return sign_in


def in_review(session, docs_world, make_document) -> OutgoingDocument:
    doc = make_document()
    drafting.submit(session, docs_world["drafter"], doc)
    session.commit()
    return doc


def awaiting_signature(session, docs_world, make_document) -> OutgoingDocument:
    doc = in_review(session, docs_world, make_document)
    review.forward(session, docs_world["reviewer"], doc)
    session.commit()
    return doc


# --- the list -------------------------------------------------------------------------------------------


def test_list_opens_on_the_work_of_each_role(session, docs_world, make_document, signed_in):
    doc = in_review(session, docs_world, make_document)
    make_document(summary="Dự thảo thứ hai")
    browser = signed_in("drafter")
    page = text_of(browser.get("/documents/"))
    assert "Dự thảo, bị trả lại (1)" in page and ">Chờ ký duyệt (" not in page
    browser = signed_in("reviewer")
    page = text_of(browser.get("/documents/"))
    assert "Chờ thẩm định (1)" in page and doc.summary in page and 'aria-current="page">Chờ thẩm định' in page
    browser = signed_in("clerk")
    page = text_of(browser.get("/documents/"))
    assert "Chờ lấy số (0)" in page and "Dự thảo, bị trả lại" not in page
    assert text_of(browser.get("/documents/?tab=all")).count("/documents/") >= 2


def test_list_puts_urgent_documents_first_and_filters(session, docs_world, make_document, signed_in):
    make_document(summary="Về việc thường lệ")
    make_document(summary="Về việc hỏa tốc", urgency=Urgency.FLASH.value)
    browser = signed_in("drafter")
    page = text_of(browser.get("/documents/?tab=drafts"))
    assert page.index("Về việc hỏa tốc") < page.index("Về việc thường lệ")
    assert "HỎA TỐC" in page
    page = text_of(browser.get("/documents/?tab=drafts&q=th%C6%B0%E1%BB%9Dng"))
    assert "Về việc thường lệ" in page and "Về việc hỏa tốc" not in page
    # letters with diacritics match whatever their case, on SQLite as on PostgreSQL
    page = text_of(browser.get("/documents/?tab=drafts&q=TH%C6%AF%E1%BB%9CNG"))  # "THƯỜNG"
    assert "Về việc thường lệ" in page and "Về việc hỏa tốc" not in page
    page = text_of(browser.get(f"/documents/?tab=all&status=sent&organisation_id={docs_world.org('vhtt').id}"))
    assert "Không có văn bản nào" in page


@pytest.mark.parametrize("query", ["status=nope", "organisation_id=abc", "document_type_id=-1", "page=0", "page=x"])
def test_bad_filters_are_refused_on_the_page(docs_world, signed_in, query):
    response = signed_in("drafter").get(f"/documents/?{query}")
    assert response.status_code == 400
    assert 'class="flash flash-error"' in text_of(response)


def test_a_tab_the_account_has_no_work_in_is_not_found(docs_world, signed_in):
    assert signed_in("drafter").get("/documents/?tab=number").status_code == 404
    assert signed_in("drafter").get("/documents/?tab=nope").status_code == 404


def test_an_account_without_documents_gets_403(session, docs_world, signed_in):
    add_account(session, "focal", docs_world.org("district"), (Role.FOCAL_OFFICER, docs_world.org("district")))
    session.commit()
    browser = signed_in("focal")
    assert browser.get("/documents/").status_code == 403
    assert browser.get("/documents/new").status_code == 403
    assert browser.get("/documents/register").status_code == 403


# --- drafting through the form --------------------------------------------------------------------------


def test_drafter_creates_a_document_with_its_files(session, docs_world, signed_in):
    browser = signed_in("drafter")
    page = text_of(browser.get("/documents/new"))
    assert "Cơ quan ban hành" in page and "Nơi nhận trong hệ thống" in page and PAPER_ONLY_MESSAGE in page
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id, urgency="urgent"))
    response = browser.post(
        "/documents/new",
        {**values, "file": pdf_part(draft_pdf()), "appendices": [pdf_part(draft_pdf(), "phu-luc.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text_of(response)
    doc = session.scalars(select(OutgoingDocument)).one()
    assert doc.status is DocumentStatus.DRAFT and doc.urgency is Urgency.URGENT
    assert [f.kind for f in doc.files] == [FileKind.DRAFT, FileKind.PREPARED, FileKind.APPENDIX_DRAFT]
    page = text_of(browser.get(response.headers["Location"]))
    assert "KHẨN" in page and "Trình thẩm định" in page and "Hủy văn bản" in page
    assert doc.files[0].sha256 in page and "Phụ lục (tệp gốc) 1" in page


def test_refused_values_keep_what_was_typed_and_write_nothing(session, docs_world, signed_in):
    browser = signed_in("drafter")
    before = counts(session)
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id))
    values["authority_lines"] = ""
    values["summary"] = "Về việc giữ nguyên nội dung đã gõ"
    response = browser.post(
        "/documents/new", {**values, "file": pdf_part(b"not a pdf")}, content_type="multipart/form-data"
    )
    page = text_of(response)
    assert response.status_code == 400
    assert "Về việc giữ nguyên nội dung đã gõ" in page
    assert "Tệp không phải PDF." in page and "Bắt buộc nhập" in page and "hãy chọn lại các tệp PDF" in page
    assert counts(session) == before


def test_an_empty_file_part_is_no_file(session, docs_world, signed_in):
    browser = signed_in("drafter")
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id))
    response = browser.post(
        "/documents/new",
        {**values, "file": empty_part(), "appendices": [empty_part()]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert session.scalars(select(OutgoingDocument)).one().files == []


def test_a_secret_document_refuses_files(session, docs_world, signed_in):
    browser = signed_in("drafter")
    before = counts(session)
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id, secrecy="secret"))
    response = browser.post(
        "/documents/new", {**values, "file": pdf_part(draft_pdf())}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and PAPER_ONLY_MESSAGE in text_of(response)
    assert counts(session) == before


def test_edit_page_of_a_draft_and_its_refusals(session, docs_world, make_document, signed_in):
    doc = make_document()
    browser = signed_in("drafter")
    assert doc.summary in text_of(browser.get(f"/documents/{doc.id}/edit"))
    values = as_form(document_values(session, docs_world, summary="Về việc đã sửa trích yếu"))
    response = browser.post(f"/documents/{doc.id}/edit", values, content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(OutgoingDocument, doc.id).summary == "Về việc đã sửa trích yếu"
    assert signed_in("reviewer").get(f"/documents/{doc.id}/edit").status_code == 403
    assert signed_in("commune_clerk").get(f"/documents/{doc.id}/edit").status_code == 404


# --- the document page and its steps --------------------------------------------------------------------


def buttons(page: str) -> set[str]:
    return set(re.findall(r"/act/([a-z_]+)\"", page))


def test_each_role_sees_only_the_steps_it_may_take(session, docs_world, make_document, signed_in):
    doc = in_review(session, docs_world, make_document)
    url = f"/documents/{doc.id}"
    assert buttons(text_of(signed_in("drafter").get(url))) == {"cancel"}
    assert buttons(text_of(signed_in("reviewer").get(url))) == {"forward", "return"}
    assert buttons(text_of(signed_in("clerk").get(url))) == set()
    assert buttons(text_of(signed_in("signer").get(url))) == set()
    assert signed_in("commune_clerk").get(url).status_code == 404
    assert signed_in("outsider").get(url).status_code == 404


def test_signer_page_shows_the_download_and_the_exact_command(session, docs_world, make_document, signed_in):
    doc = awaiting_signature(session, docs_world, make_document)
    page = text_of(signed_in("signer").get(f"/documents/{doc.id}"))
    prepared = f"van-ban-{doc.id}-chuan-bi-ky.pdf"
    assert f"token-agent sign --role approve {prepared} van-ban-{doc.id}-da-ky-duyet.pdf --token" in page
    assert "--signature-image" in page and buttons(page) == {"return"}
    # the other head of the body may sign documents, but not this one
    page = text_of(signed_in("deputy").get(f"/documents/{doc.id}"))
    assert "--role approve" not in page and buttons(page) == set()


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("reviewer", "submit", 403),  # not the drafter's permission
        ("drafter", "forward", 409),  # a draft is not in review: told on the page
        ("clerk", "cancel", 403),
        ("commune_clerk", "submit", 404),  # cannot see it
        ("drafter", "approve", 404),  # no such button step
        ("drafter", "nope", 404),
        ("drafter", "take_number", 409),  # the status does not allow it: told on the page
    ],
)
def test_refused_steps_change_nothing(session, docs_world, make_document, signed_in, who, action, status):
    doc = make_document()
    browser = signed_in(who)
    before = counts(session)
    response = browser.post(f"/documents/{doc.id}/act/{action}", {"comment": "x"})
    assert response.status_code == status
    assert counts(session) == before
    session.expire_all()
    assert session.get(OutgoingDocument, doc.id).status is DocumentStatus.DRAFT


def test_return_without_a_comment_is_refused_on_the_page(session, docs_world, make_document, signed_in):
    doc = in_review(session, docs_world, make_document)
    browser = signed_in("reviewer")
    before = counts(session)
    response = browser.post(f"/documents/{doc.id}/act/return", {"comment": "  "})
    assert response.status_code == 400 and 'class="flash flash-error"' in text_of(response)
    assert counts(session) == before
    response = browser.post(f"/documents/{doc.id}/act/return", {"comment": "Sửa lại đoạn 2."})
    assert response.status_code == 302
    page = text_of(signed_in("drafter").get(f"/documents/{doc.id}"))
    assert "Sửa lại đoạn 2." in page and buttons(page) == {"submit", "cancel"}


def test_a_refused_signed_upload_tells_which_check_failed(session, docs_world, make_document, signed_in):
    doc = awaiting_signature(session, docs_world, make_document)
    browser = signed_in("signer")
    prepared = browser.get(f"/documents/{doc.id}/files/{doc.files[1].id}")
    assert prepared.mimetype == "application/pdf"
    before = counts(session)
    response = browser.post(
        f"/documents/{doc.id}/approve",
        {"file": pdf_part(prepared.get_data(), "da-ky.pdf")},
        content_type="multipart/form-data",
    )
    page = text_of(response)
    assert response.status_code == 422, page
    assert "Tệp ký số bị từ chối, văn bản không thay đổi" in page and "not_handed_out_file" in page
    after = counts(session)
    assert after[:3] == before[:3] and after[3] == before[3] + 1  # only the refusal's audit entry
    response = browser.post(f"/documents/{doc.id}/approve", {"file": empty_part()}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Chọn tệp PDF" in text_of(response)
    # only the proposed signer uploads
    deputy = signed_in("deputy")
    before = counts(session)
    response = deputy.post(
        f"/documents/{doc.id}/approve", {"file": pdf_part(draft_pdf())}, content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert counts(session) == before


def test_an_upload_at_the_wrong_step_is_told_on_the_page(session, docs_world, make_document, signed_in):
    doc = make_document()
    response = signed_in("clerk").post(
        f"/documents/{doc.id}/issue", {"file": pdf_part(draft_pdf())}, content_type="multipart/form-data"
    )
    assert response.status_code == 409 and "Dự thảo" in text_of(response)
    response = signed_in("clerk").post(
        f"/documents/{doc.id}/appendix/1", {"file": pdf_part(draft_pdf())}, content_type="multipart/form-data"
    )
    assert response.status_code == 404


# --- downloads ------------------------------------------------------------------------------------------


def test_downloads_have_their_name_and_type_and_only_for_who_may_view(session, docs_world, make_document, signed_in):
    doc = make_document()
    other = make_document(summary="Văn bản khác")
    draft = doc.files[0]
    response = signed_in("reviewer").get(f"/documents/{doc.id}/files/{draft.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="van-ban-{doc.id}-du-thao.pdf"'
    assert response.get_data() == draft_pdf()
    assert signed_in("commune_clerk").get(f"/documents/{doc.id}/files/{draft.id}").status_code == 404
    assert signed_in("drafter").get(f"/documents/{other.id}/files/{draft.id}").status_code == 404
    assert signed_in("drafter").get(f"/documents/{doc.id}/files/99999999").status_code == 404


# --- the register ---------------------------------------------------------------------------------------


def paper_values(session, docs_world, **overrides) -> dict[str, object]:
    values = document_values(
        session,
        docs_world,
        secrecy="secret",
        document_type_id=document_type(session, "Quyết định").id,
        summary="Quyết định (mật)",
        issuing_body_id=docs_world.org("district").id,
    )
    values.update(overrides)
    return as_form(values)


def test_clerk_registers_a_secret_paper_document(session, docs_world, signed_in):
    browser = signed_in("clerk")
    page = text_of(browser.get("/documents/register"))
    assert "Vào sổ văn bản mật (bản giấy)" in page and "Sổ chưa có số nào" in page
    response = browser.post("/documents/register/paper", paper_values(session, docs_world))
    assert response.status_code == 302, text_of(response)
    page = text_of(browser.get(response.headers["Location"]))
    assert "01/QĐ-UBND" in page and "Quyết định (mật)" in page and "Bản giấy" in page
    entry = session.scalars(select(NumberEntry)).one()
    assert entry.series is Series.OUTGOING_SECRET and entry.state is NumberState.USED
    # the ordinary series is apart
    assert "Sổ chưa có số nào" in text_of(browser.get("/documents/register?series=outgoing"))
    # a year or series the register cannot have is said, and this year's ordinary book shown instead
    for query, message in (
        ("year=1999", "Năm của sổ phải từ 2000"),
        ("year=20x6", "Năm của sổ phải từ 2000"),
        ("series=incoming", "sổ văn bản đến ở trang văn bản đến"),
    ):
        page = text_of(browser.get(f"/documents/register?{query}"))
        assert message in page and "Sổ chưa có số nào" in page


def test_paper_registration_refusals(session, docs_world, signed_in):
    clerk, drafter = signed_in("clerk"), signed_in("drafter")
    before = counts(session)
    response = clerk.post(
        "/documents/register/paper", paper_values(session, docs_world, secrecy="normal", summary="Giữ trích yếu")
    )
    page = text_of(response)
    assert response.status_code == 400 and "Chỉ vào sổ bản giấy văn bản mật" in page and "Giữ trích yếu" in page
    assert drafter.post("/documents/register/paper", paper_values(session, docs_world)).status_code == 403
    assert counts(session) == before
    # the drafter sees the register but has no paper form
    page = text_of(drafter.get("/documents/register"))
    assert "Sổ đăng ký văn bản đi" in page and "Vào sổ văn bản mật (bản giấy)" not in page


@pytest.mark.parametrize("query", ["year=abcd", "year=99999999999999999999", "series=incoming", "series=x"])
def test_register_refuses_bad_choices(docs_world, signed_in, query):
    response = signed_in("clerk").get(f"/documents/register?{query}")
    assert response.status_code == 400


def test_steps_their_service_would_refuse_show_what_they_wait_for(session, docs_world, make_document, signed_in):
    without_file = drafting.create(
        session, docs_world["drafter"], docs_world.org("vhtt").id, document_values(session, docs_world)
    )
    session.commit()
    page = text_of(signed_in("drafter").get(f"/documents/{without_file.id}"))
    assert "submit" not in buttons(page) and "Tải tệp dự thảo (PDF) lên trước khi trình" in page
    signed = make_document()
    signed.status = DocumentStatus.SIGNED
    signed.approved_at = utcnow() - timedelta(days=1)
    session.commit()
    page = text_of(signed_in("clerk").get(f"/documents/{signed.id}"))
    assert buttons(page) == {"return"} and "không được ký duyệt trong ngày hôm nay" in page


def signed_today(session, make_document) -> OutgoingDocument:
    """A document as the signer's upload leaves it (the signature itself is tested in test_issuing_cycle)."""
    doc = make_document()
    doc.status, doc.approved_at = DocumentStatus.SIGNED, utcnow()
    session.commit()
    return doc


def test_clerk_takes_and_abandons_a_number_the_register_keeps(session, docs_world, make_document, signed_in):
    doc = signed_today(session, make_document)
    clerk = signed_in("clerk")
    page = text_of(clerk.post(f"/documents/{doc.id}/act/take_number", follow_redirects=True))
    assert "Đã lấy số 01/UBND-VHTT, ngày" in page and "--role issue" not in page  # no approved file yet
    assert buttons(page) == {"abandon_number"}
    response = clerk.post(f"/documents/{doc.id}/act/abandon_number", {"comment": "Lấy nhầm số."})
    assert response.status_code == 302
    page = text_of(clerk.get("/documents/register"))
    assert "01/UBND-VHTT" in page and "Số bị hủy" in page and "Lý do: Lấy nhầm số." in page
    assert f'href="/documents/{doc.id}"' in page
    session.expire_all()
    assert session.get(OutgoingDocument, doc.id).status is DocumentStatus.SIGNED


def test_clerk_recalls_a_sent_document_with_a_reason(session, docs_world, make_document, signed_in):
    doc = make_document()
    doc.status = DocumentStatus.SENT
    session.commit()
    clerk = signed_in("clerk")
    assert clerk.post(f"/documents/{doc.id}/act/recall", {"comment": ""}).status_code == 400
    response = clerk.post(f"/documents/{doc.id}/act/recall", {"comment": "Sai nơi nhận."}, follow_redirects=True)
    page = text_of(response)
    assert "Đã thu hồi" in page and "Sai nơi nhận." in page


def test_a_file_too_large_is_refused_on_the_page(session, docs_world, make_document, signed_in):
    doc = awaiting_signature(session, docs_world, make_document)
    browser = signed_in("signer")
    before = counts(session)
    huge = b"%PDF-1.7\n" + b"0" * (MAX_FILE_BYTES + 300 * 1024)
    response = browser.post(
        f"/documents/{doc.id}/approve", {"file": pdf_part(huge)}, content_type="multipart/form-data"
    )
    assert response.status_code == 413 and "Tệp lớn quá 20 MB" in text_of(response)
    assert counts(session) == before


def test_a_draft_too_large_comes_back_with_what_was_typed(session, docs_world, signed_in):
    browser = signed_in("drafter")
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id))
    values["summary"] = "Về việc kiểm tra thiết bị ký số trước khi triển khai"
    huge = b"%PDF-1.7\n" + b"0" * (MAX_FILE_BYTES * DRAFTING_UPLOAD_FILES + 300 * 1024)
    before = counts(session)
    response = browser.post("/documents/new", {**values, "file": pdf_part(huge)}, content_type="multipart/form-data")
    page = text_of(response)
    assert response.status_code == 413 and "Tệp lớn quá" in page
    assert "Về việc kiểm tra thiết bị ký số trước khi triển khai" in page
    assert counts(session) == before
