"""The batch's proposal letter as an outgoing document (issue 12): created from the locked batch, numbered by
the issuing body's register (two batches never share a number), its signed file kept with the batch, the
annex naming it, and batches sent before with a typed number left as they were. Through the services, the
pages and the API; the tokens' signatures are test_batch_letter_signed.py's."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.documents import drafting, files
from certsvc.documents.models import DocumentStatus, FileKind
from certsvc.errors import Conflict, PermissionDenied, ValidationFailed
from certsvc.people.models import Person
from certsvc.requests import batch_letter, batches
from certsvc.requests.letters import batch_purpose, build_document, letter_reference
from certsvc.requests.models import BatchStatus, RequestStatus, RequestType
from certsvc.timeutil import to_vietnam, utcnow
from tests.support.api import Api
from tests.support.requests import (
    LETTER_SIGNER,
    bring_to,
    counts,
    create_letter,
    draft,
    focal,
    issue_letter,
    letter_people,
    open_batch,
)
from token_agent.signing import NUMBER_FIELD, PERSONAL_FIELD


def _locked(session, world, title="Đợt 1 năm 2026"):
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batch = open_batch(session, world, title)
    batches.add_requests(session, focal(world), batch, [request.id])
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


def _field_names(pdf: bytes) -> set[str]:
    root = PdfFileReader(BytesIO(pdf)).root
    if "/AcroForm" not in root:
        return set()
    return {str(field.get_object()["/T"]) for field in root["/AcroForm"]["/Fields"]}


def _pdf_text(tmp_path, pdf: bytes) -> str:
    path = tmp_path / "tep.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_letter_is_a_draft_document_of_the_focal_office_for_its_committee(session, world):
    batch = _locked(session, world)
    signer, _clerk = letter_people(session, world)
    letter = create_letter(session, world, batch)
    assert batch.letter_document_id == letter.id and letter.status is DocumentStatus.DRAFT
    assert (letter.document_type.name, letter.document_type.abbreviation) == ("Công văn", None)
    assert (letter.drafting_unit_id, letter.issuing_body_id) == (world.orgs["focal"].id, world.orgs["district"].id)
    assert letter.summary == "V/v đề nghị cấp chứng thư số chuyên dùng công vụ" and letter.signer_id == signer.id
    assert letter.authority_lines == "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    assert letter.outside_recipients == "Cục Chứng thực số và Bảo mật thông tin - Ban Cơ yếu Chính phủ"
    assert letter.distribution_lines == "- Như trên;\n- Lưu: VT, VHTT."
    # The draft is the letter as laid out; the prepared version has the fields over the boxes the layout knows,
    # made once (the documents service's preparing is not run again on it).
    draft_file, prepared = files.latest(letter, FileKind.DRAFT), files.latest(letter, FileKind.PREPARED)
    assert [f.kind for f in letter.files] == [FileKind.DRAFT, FileKind.PREPARED]
    assert _field_names(files.content(draft_file)) == set()
    assert {NUMBER_FIELD, PERSONAL_FIELD} <= _field_names(files.content(prepared))
    created = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.letter_created")).one()
    assert f'"letter_document_id":{letter.id}' in created.details
    assert [e.action for e in letter.events] == ["create"]
    # It then follows the documents cycle like any draft.
    drafting.submit(session, focal(world), letter)
    assert letter.status is DocumentStatus.IN_REVIEW


def test_the_chosen_signer_s_name_is_the_letter_s(session, world, tmp_path):
    batch = _locked(session, world)
    letter_people(session, world)
    other = Person(full_name="Hoàng Văn Chủ", organisation=world.orgs["district"], position="Chủ tịch UBND huyện")
    session.add(other)
    session.commit()
    letter = batch_letter.create_letter(session, focal(world), batch, {"signer_id": str(other.id)})
    assert letter.signer_id == other.id and batch.signer_name == "Hoàng Văn Chủ"
    assert "Hoàng Văn Chủ" in _pdf_text(tmp_path, files.content(files.latest(letter, FileKind.DRAFT)))
    signers = [p.full_name for p in batch_letter.letter_signers(session, batch)]
    assert {"Hoàng Văn Chủ", LETTER_SIGNER} <= set(signers) and signers == sorted(signers)
    assert all(p.organisation_id == world.orgs["district"].id for p in batch_letter.letter_signers(session, batch))


def test_creating_the_letter_is_refused_where_it_must_be(session, world):
    signer, _clerk = letter_people(session, world)
    batch = open_batch(session, world)
    session.commit()
    with pytest.raises(Conflict) as still_open:
        batch_letter.create_letter(session, focal(world), batch, {"signer_id": str(signer.id)})
    assert still_open.value.code == "batch_not_locked"
    batch = _locked(session, world, "Đợt 2")
    before = counts(session)
    # A focal officer who is not also a specialist of the office does not draft its documents.
    with pytest.raises(PermissionDenied):
        batch_letter.create_letter(session, world.account(Role.AUDITOR), batch, {"signer_id": str(signer.id)})
    for wrong in ("", "khong-phai-so", str(world.account(Role.UNIT_OFFICER).person_id), "999999"):
        with pytest.raises(ValidationFailed) as refused:
            batch_letter.create_letter(session, focal(world), batch, {"signer_id": wrong})
        assert "UBND huyện Văn Quan" in refused.value.field_errors["signer_id"]
    session.rollback()
    assert counts(session) == before and batch.letter_document_id is None
    first = create_letter(session, world, batch)
    with pytest.raises(Conflict) as again:
        batch_letter.create_letter(session, focal(world), batch, {"signer_id": str(signer.id)})
    assert again.value.code == "letter_exists"
    session.rollback()
    # A cancelled letter is replaced; the cancelled one stays a document with its history.
    drafting.cancel(session, focal(world), first, "Sai người ký")
    session.commit()
    second = create_letter(session, world, batch)
    assert batch.letter_document_id == second.id != first.id and first.status is DocumentStatus.CANCELLED


def test_two_batches_never_get_the_same_number(session, world):
    one, two = _locked(session, world, "Đợt 1"), _locked(session, world, "Đợt 2")
    for batch in (one, two):
        issue_letter(session, world, batch)
        batches.mark_sent(session, focal(world), batch)
        session.commit()
    assert (one.document_number, two.document_number) == ("01/UBND-VHTT", "02/UBND-VHTT")
    assert one.document_date == two.document_date == to_vietnam(utcnow()).date()


def test_the_annex_names_the_letter_from_the_register(session, world, tmp_path):
    batch = _locked(session, world)
    blank = re.compile(r"\(Kèm theo Công văn số\s+/UBND-VHTT ngày\s+tháng\s+năm\s+của Ủy ban nhân dân")
    assert blank.search(_pdf_text(tmp_path, build_document(batch, "annex.pdf")[1]))
    issue_letter(session, world, batch)
    day = to_vietnam(utcnow()).date()
    heading = f"(Kèm theo Công văn số 01/UBND-VHTT ngày {day:%d} tháng {day:%m} năm {day:%Y} của Ủy ban nhân dân"
    assert heading in _pdf_text(tmp_path, build_document(batch, "annex.pdf")[1])
    sheet = load_workbook(BytesIO(build_document(batch, "annex.xlsx")[1])).worksheets[0]
    assert any(heading in str(cell.value or "") for row in sheet.iter_rows() for cell in row)
    # An abandoned number is not the letter's: the annex goes back to its blanks.
    batch.letter_document.number_entry.state = batch.letter_document.number_entry.state.ABANDONED
    assert letter_reference(batch) is None


def test_a_batch_sent_before_with_a_typed_number_keeps_it(session, world, tmp_path, make_browser):
    batch = _locked(session, world)
    batch.status, batch.document_number, batch.document_date = BatchStatus.SENT, "05/UBND-VHTT", date(2026, 3, 2)
    session.commit()
    assert batch.letter_document is None and letter_reference(batch) == ("05/UBND-VHTT", date(2026, 3, 2))
    assert "(Kèm theo Công văn số 05/UBND-VHTT ngày 02 tháng 03 năm 2026 của Ủy ban nhân dân" in _pdf_text(
        tmp_path, build_document(batch, "annex.pdf")[1]
    )
    page = make_browser()
    page.login("focalofficer")
    shown = page.get(f"/requests/batches/{batch.id}").get_data(as_text=True)
    assert "Số 05/UBND-VHTT ngày 02/03/2026" in shown and "Công văn đã ký" not in shown
    assert page.get(f"/requests/batches/{batch.id}/documents/signed-letter.pdf").status_code == 404


def test_batch_page_creates_the_letter_then_marks_the_batch_sent(session, world, make_browser):
    batch = _locked(session, world)
    url = f"/requests/batches/{batch.id}"
    page = make_browser()
    page.login("focalofficer")
    # Without the drafting role at the office the page says what is missing, and the step is refused.
    assert "cần vai trò soạn thảo văn bản" in page.get(url).get_data(as_text=True)
    assert page.post(f"{url}/letter", {"signer_id": "1"}).status_code == 403
    signer, _clerk = letter_people(session, world)
    session.commit()
    shown = page.get(url).get_data(as_text=True)
    assert "Tạo công văn đề nghị" in shown and f'<option value="{signer.id}" selected>' in shown
    before = counts(session)
    missing = page.post(f"{url}/letter", {"signer_id": ""})
    assert missing.status_code == 400 and "Chọn người ký là người đang công tác tại" in missing.get_data(as_text=True)
    assert counts(session) == before
    assert page.post(f"{url}/letter", {"signer_id": str(signer.id)}).status_code == 302
    session.expire_all()
    letter = batch.letter_document
    shown = page.get(url).get_data(as_text=True)
    assert f"/documents/{letter.id}" in shown and "Dự thảo" in shown and "Tạo công văn đề nghị" not in shown
    # and the letter's page leads back to its batch
    letter_page = page.get(f"/documents/{letter.id}").get_data(as_text=True)
    assert "Công văn đề nghị của" in letter_page and f'href="{url}"' in letter_page
    refused = page.post(f"{url}/sent")
    assert refused.status_code == 409 and "chưa được ký phát hành" in refused.get_data(as_text=True)
    issue_letter(session, world, batch)
    shown = page.get(url).get_data(as_text=True)
    assert "Công văn đã ký (PDF)" in shown and "Đánh dấu đã gửi" in shown and "01/UBND-VHTT" in shown
    signed = page.get(f"{url}/documents/signed-letter.pdf")
    assert signed.status_code == 200 and signed.mimetype == "application/pdf"
    assert signed.data == files.content(files.latest(letter, FileKind.ISSUED))
    assert page.post(f"{url}/sent").status_code == 302
    session.expire_all()
    assert batch.status is BatchStatus.SENT and batch.document_number == "01/UBND-VHTT"
    assert all(r.status is RequestStatus.SENT for r in batch.requests)


def test_api_creates_the_letter_and_marks_sent_with_the_register_s_number(app, session, world):
    batch = _locked(session, world)
    api = Api(app, session, focal(world))
    assert api.raw("POST", f"/batches/{batch.id}/letter", {"signer_id": 1}).status_code == 403
    signer, _clerk = letter_people(session, world)
    session.commit()
    before = counts(session)
    bad = api.raw("POST", f"/batches/{batch.id}/letter", {"signer_id": "1", "khac": 1})
    assert bad.status_code == 400 and set(bad.get_json()["error"]["fields"]) == {"signer_id", "khac"}
    assert counts(session) == before
    created = api.raw("POST", f"/batches/{batch.id}/letter", {"signer_id": signer.id})
    assert created.status_code == 201, created.get_data(as_text=True)
    session.expire_all()
    assert created.headers["Location"].endswith(f"/api/v1/documents/{batch.letter_document_id}")
    not_issued = api.raw("POST", f"/batches/{batch.id}/sent")
    assert not_issued.status_code == 409 and not_issued.get_json()["error"]["code"] == "letter_not_issued"
    issue_letter(session, world, batch)
    typed = {"document_number": "12/UBND-VHTT", "document_date": to_vietnam(utcnow()).date().isoformat()}
    assert api.raw("POST", f"/batches/{batch.id}/sent", typed).status_code == 400
    sent = api.post(f"/batches/{batch.id}/sent")
    assert (sent["status"]["value"], sent["document_number"]) == ("sent", "01/UBND-VHTT")


@pytest.mark.parametrize(
    ("kinds", "purpose"),
    [
        ({RequestType.NEW_INDIVIDUAL}, "cấp chứng thư số chuyên dùng công vụ"),
        ({RequestType.NEW_DEVICE, RequestType.REVOCATION}, "cấp, thu hồi chứng thư số chuyên dùng công vụ"),
        ({RequestType.RENEWAL, RequestType.CHANGE}, "gia hạn, thay đổi thông tin chứng thư số chuyên dùng công vụ"),
        ({RequestType.RECOVERY}, "khôi phục thiết bị lưu khóa bí mật"),
        (
            {RequestType.RECOVERY, RequestType.REVOCATION},
            "thu hồi chứng thư số chuyên dùng công vụ và khôi phục thiết bị lưu khóa bí mật",
        ),
    ],
)
def test_the_letter_names_what_the_batch_holds(kinds, purpose):
    """A batch without revocations does not ask to revoke; a recovery is named (issue 15, item 13)."""
    assert batch_purpose(kinds) == purpose
