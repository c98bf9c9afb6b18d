"""The API of documents (issue 12): a document's life through the API only, the incoming side, the register and
the report; the same rules as the pages (the services decide), JSON errors with codes, idempotent POSTs.

The signed uploads with real SoftHSM tokens are in test_api_document_signing.py; here the signing steps are
put in place in the database where a later step needs them.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from certsvc.api.document_serializers import DOCUMENT_ACTIONS
from certsvc.api.documents import ACTIONS
from certsvc.audit.models import AuditEntry
from certsvc.documents import files
from certsvc.documents.models import (
    DocumentEvent,
    DocumentStatus,
    FileKind,
    IncomingDocument,
    IncomingStatus,
    NumberState,
    OutgoingDocument,
)
from certsvc.timeutil import utcnow
from tests.documents import conftest as documents_world
from tests.documents.conftest import document_values, draft_pdf
from tests.support.api import Api, documented_operations, template_of

#: The documents world of tests/documents, as a fixture of this module too.
docs_world = documents_world.docs_world
#: The operations of this capability in the OpenAPI document.
DOCUMENT_PATHS = ("/documents", "/incoming", "/register", "/report")


@pytest.fixture
def api(app, session, docs_world):
    return {name: Api(app, session, account) for name, account in docs_world.accounts.items()}


def _pdf(client: Api, path: str, content: bytes, *, status: int = 200, **kwargs) -> dict:
    return client.call("POST", path, data=content, content_type="application/pdf", status=status, **kwargs)


def _download(client: Api, path: str):
    """A PDF answer (the schema check of JSON answers does not apply): noted as called."""
    response = client.raw("GET", path)
    client.seen.add(("GET", template_of(path)))
    return response


def _audit_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _created(session, client: Api, w) -> dict:
    """A draft of VHTT with its prepared PDF, made through the API by ``client``."""
    values = {"drafting_unit_id": w.org("vhtt").id, **document_values(session, w)}
    doc = client.post("/documents", values, status=201)
    return _pdf(client, f"/documents/{doc['id']}/draft?filename=du-thao.pdf", draft_pdf())


def _signed_in_place(session, doc_id: int, by) -> None:
    """What the signer's upload does (test_api_document_signing.py does it with a token): approved today."""
    doc = session.get(OutgoingDocument, doc_id)
    files.add_version(session, by, doc, FileKind.APPROVED, files.content(files.latest(doc, FileKind.PREPARED)), "a.pdf")
    doc.status, doc.approved_at = DocumentStatus.SIGNED, utcnow()
    session.commit()


def _issued_in_place(session, doc_id: int, by) -> None:
    """What the clerk's upload does: the ISSUED version (unsigned here: recipients find it not valid)."""
    doc = session.get(OutgoingDocument, doc_id)
    files.add_version(session, by, doc, FileKind.ISSUED, files.content(files.latest(doc, FileKind.APPROVED)), "b.pdf")
    doc.status, doc.issued_at = DocumentStatus.ISSUED, utcnow()
    doc.number_entry.state = NumberState.USED
    session.commit()


def test_the_actions_path_lists_what_the_api_takes():
    assert ACTIONS.keys() == DOCUMENT_ACTIONS


def test_a_document_from_draft_to_recall_through_the_api(session, docs_world, api):
    w = docs_world
    created = _created(session, api["drafter"], w)
    doc_id = created["id"]
    assert created["status"]["value"] == "draft" and created["signer"]["id"] == w["signer"].person_id
    assert [f["kind"]["value"] for f in created["files"]] == ["draft", "prepared"]
    assert {t["action"] for t in created["transitions"]} == {"edit", "submit", "cancel"}
    prepared = created["files"][1]
    download = _download(api["signer"], f"/documents/{doc_id}/files/{prepared['id']}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-") and "du-thao.pdf" in download.headers["Content-Disposition"]

    appendices = api["drafter"].post(
        f"/documents/{doc_id}/appendices",
        data={"appendix": [(_stream(draft_pdf()), "phu-luc-1.pdf"), (_stream(draft_pdf(2)), "phu-luc-2.pdf")]},
    )
    assert [(f["kind"]["value"], f["appendix"]) for f in appendices["files"][2:]] == [
        ("appendix_draft", 1),
        ("appendix_draft", 2),
    ]
    fields = _form_refused(
        api["drafter"],
        f"/documents/{doc_id}/appendices",
        400,
        "validation_failed",
        data={"appendix": [(_stream(draft_pdf()), "a.pdf"), (_stream(b"junk"), "b.pdf")]},
    )
    assert set(fields) == {"appendix_2"}
    edited = api["drafter"].patch(f"/documents/{doc_id}", {"summary": "Về việc Ngày hội văn hóa (sửa)"})
    assert edited["summary"].endswith("(sửa)") and edited["recipients"] == [
        {"id": w.org("commune").id, "name": w.org("commune").name}
    ]
    api["drafter"].post(f"/documents/{doc_id}/actions/submit")
    # Four eyes and roles as on the pages: the drafter may not forward, the reviewer may.
    api["drafter"].refused("POST", f"/documents/{doc_id}/actions/forward", status=403, code="forbidden")
    returned = api["reviewer"].post(f"/documents/{doc_id}/actions/return", {"comment": "Bổ sung nơi nhận"})
    assert returned["status"]["value"] == "returned" and returned["events"][-1]["comment"] == "Bổ sung nơi nhận"
    api["drafter"].post(f"/documents/{doc_id}/actions/submit", {})
    waiting = api["reviewer"].post(f"/documents/{doc_id}/actions/forward", {"comment": None})
    assert waiting["status"]["value"] == "awaiting_signature"
    offered = api["signer"].get(f"/documents/{doc_id}")["transitions"]
    assert [t["action"] for t in offered] == ["return", "approve"]
    assert api["deputy"].get(f"/documents/{doc_id}")["transitions"] == []

    _signed_in_place(session, doc_id, w["signer"])
    numbered = api["clerk"].post(f"/documents/{doc_id}/actions/take_number")
    assert numbered["number"]["symbol"] == "01/UBND-VHTT" and numbered["number"]["state"]["value"] == "taken"
    api["clerk"].refused("POST", f"/documents/{doc_id}/actions/abandon_number", status=400, code="validation_failed")
    api["clerk"].post(f"/documents/{doc_id}/actions/abandon_number", {"comment": "Lấy nhầm số"})
    renumbered = api["clerk"].post(f"/documents/{doc_id}/actions/take_number")
    assert renumbered["number"]["symbol"] == "02/UBND-VHTT"
    book = api["clerk"].get(f"/register?organisation_id={w.org('district').id}")
    assert [(e["number"], e["state"]["value"]) for e in book["items"]] == [(1, "abandoned"), (2, "taken")]
    assert book["items"][0]["abandon_reason"] == "Lấy nhầm số"
    assert [e["document_id"] for e in book["items"]] == [doc_id, doc_id]  # the one that abandoned 01 too

    _issued_in_place(session, doc_id, w["clerk"])
    sent = api["clerk"].post(f"/documents/{doc_id}/actions/send")
    assert sent["status"]["value"] == "sent" and sent["sent_at"]
    arrived = api["commune_clerk"].get("/incoming")
    assert arrived["total"] == 1 and arrived["items"][0]["outgoing_id"] == doc_id
    incoming_id = arrived["items"][0]["id"]
    seen = api["commune_clerk"].get(f"/incoming/{incoming_id}")
    assert seen["registrable"] is False and seen["refusal_reason"] and seen["verification"]["schema"]
    api["commune_clerk"].refused("POST", f"/incoming/{incoming_id}/register", status=409, code="signature_invalid")
    back = api["commune_clerk"].post(f"/incoming/{incoming_id}/return", {"comment": "Văn bản chưa ký số"})
    assert back["status"]["value"] == "returned"
    file = _download(api["commune_clerk"], f"/incoming/{incoming_id}/file")
    assert file.status_code == 200 and file.data.startswith(b"%PDF-")

    recalled = api["clerk"].post(f"/documents/{doc_id}/actions/recall", {"comment": "Ban hành nhầm"})
    assert recalled["status"]["value"] == "recalled" and recalled["recall_reason"] == "Ban hành nhầm"
    assert "recipient_returned" in [event["action"] for event in recalled["events"]]
    confirmed = api["commune_clerk"].post(f"/incoming/{incoming_id}/recall-confirmation")
    assert confirmed["recalled"] is True and confirmed["recall_confirmed_at"]


def test_outside_documents_are_checked_registered_only_when_valid_and_directed(session, docs_world, api):
    w = docs_world
    clerk = api["clerk"]
    form = {
        "organisation_id": str(w.org("district").id),
        "sender_name": "Sở Văn hóa, Thể thao và Du lịch",
        "original_number": "120/SVHTTDL-VP",
        "original_date": "2026-03-02",
        "summary": "Về việc tổng kết phong trào",
        "urgency": "urgent",
    }
    received = clerk.post("/incoming", data={**form, "file": (_stream(draft_pdf()), "den.pdf")}, status=201)
    assert received["status"]["value"] == "received" and received["urgency"]["value"] == "urgent"
    assert received["refusal_reason"] and received["signature_checks"] == []
    # Nothing to register without a valid signature; the head directs a registered document.
    incoming = session.get(IncomingDocument, received["id"])
    incoming.status = IncomingStatus.REGISTERED
    session.commit()
    api["clerk"].refused(
        "POST", f"/incoming/{received['id']}/direction", {"handler_id": 1}, status=403, code="forbidden"
    )
    directed = api["signer"].post(
        f"/incoming/{received['id']}/direction",
        {"handler_id": w["clerk"].person_id, "handle_by": None, "direction": "Tham mưu trả lời"},
    )
    assert directed["handler"]["id"] == w["clerk"].person_id and directed["direction"] == "Tham mưu trả lời"
    listed = api["signer"].get(f"/incoming?organisation_id={w.org('district').id}&status=registered")
    assert [item["id"] for item in listed["items"]] == [received["id"]]

    fields = _form_refused(
        clerk, "/incoming", 400, "validation_failed", data={**form, "file": (_stream(b"junk"), "x.pdf")}
    )
    assert set(fields) == {"file"}
    fields = _form_refused(
        clerk,
        "/incoming",
        400,
        "validation_failed",
        data={**form, "summary": "", "extra": "x"},
        content_type="multipart/form-data",
    )
    assert set(fields) == {"extra"}
    _form_refused(api["commune_clerk"], "/incoming", 403, "forbidden", data={**form, "file": (_stream(b"%PDF-"), "a")})
    clerk.refused("POST", "/incoming", form, status=400, code="bad_request")  # JSON instead of a form


def _stream(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_a_secret_document_takes_no_file(session, docs_world, api):
    w = docs_world
    values = {"drafting_unit_id": w.org("vhtt").id, **document_values(session, w, secrecy="secret")}
    doc = api["drafter"].post("/documents", values, status=201)
    before = _audit_count(session)
    error = api["drafter"].call(
        "POST", f"/documents/{doc['id']}/draft", data=draft_pdf(), content_type="application/pdf", status=400
    )["error"]
    assert error["code"] == "paper_only" and "Văn bản mật" in error["message"]
    assert _audit_count(session) == before


def test_a_secret_paper_document_is_entered_in_the_secret_series(session, docs_world, api):
    w = docs_world
    values = document_values(session, w, secrecy="secret", summary="Tài liệu mật (trích yếu do văn thư ghi)")
    api["drafter"].refused("POST", "/register/paper", values, status=403, code="forbidden")
    fields = api["clerk"].refused(
        "POST", "/register/paper", {**values, "secrecy": "normal"}, status=400, code="validation_failed"
    )
    assert set(fields) == {"secrecy"}
    api["clerk"].refused("POST", "/register/paper", {**values, "colour": "red"}, status=400, code="validation_failed")
    paper = api["clerk"].post("/register/paper", {**values, "issue_date": "2026-01-05"}, status=201)
    assert paper["status"]["value"] == "paper" and paper["files"] == []
    assert paper["number"]["symbol"].startswith("01/") and paper["number"]["series"]["value"] == "outgoing_secret"
    assert paper["number"]["document_id"] == paper["id"]


def test_bad_input_is_a_json_error_with_its_code_and_writes_nothing(session, docs_world, api):
    w = docs_world
    drafter = api["drafter"]
    doc_id = _created(session, drafter, w)["id"]
    before = _audit_count(session)
    drafter.refused("POST", "/documents", [], status=400, code="bad_request")
    fields = drafter.refused(
        "POST",
        "/documents",
        {"drafting_unit_id": "x", "colour": "red", "summary": 5},
        status=400,
        code="validation_failed",
    )
    assert set(fields) >= {"drafting_unit_id", "colour"}
    fields = drafter.refused(
        "POST",
        "/documents",
        {"drafting_unit_id": w.org("vhtt").id, **document_values(session, w, summary="", signer_id=10**30)},
        status=400,
        code="validation_failed",
    )
    assert set(fields) == {"summary", "signer_id"}
    drafter.refused("PATCH", f"/documents/{doc_id}", {"urgency": "soon"}, status=400, code="validation_failed")
    drafter.refused("POST", f"/documents/{doc_id}/actions/fly", status=404, code="not_found")
    drafter.refused("POST", f"/documents/{doc_id}/actions/cancel", {"comment": 3}, status=400, code="validation_failed")
    drafter.refused("POST", f"/documents/{doc_id}/actions/cancel", status=400, code="validation_failed")
    drafter.refused("POST", f"/documents/{doc_id}/actions/take_number", status=409, code="transition_refused")
    fields = _pdf_refused(drafter, f"/documents/{doc_id}/draft", b"not a pdf", 400, "validation_failed")
    assert set(fields) == {"file"}
    drafter.refused("POST", f"/documents/{doc_id}/draft", {"pdf": "x"}, status=400, code="bad_request")
    _pdf_refused(drafter, f"/documents/{doc_id}/approval", b"%PDF-1.7", 403, "forbidden")
    _pdf_refused(api["signer"], f"/documents/{doc_id}/approval", b"%PDF-1.7", 409, "transition_refused")
    drafter.refused("GET", f"/documents/{doc_id}/files/{10**6}", status=404, code="not_found")
    drafter.refused("GET", "/documents?status=", status=400, code="validation_failed")
    drafter.refused("GET", "/documents?status=lost&type=0", status=400, code="validation_failed")
    drafter.refused("GET", "/register", status=400, code="validation_failed")
    district = w.org("district").id
    for query, field in (("year=1999", "year"), ("year=2999", "year"), ("series=incoming", "series")):
        fields = api["clerk"].refused(
            "GET", f"/register?organisation_id={district}&{query}", status=400, code="validation_failed"
        )
        assert set(fields) == {field}
    drafter.refused(
        "GET", f"/report?organisation_id={w.org('vhtt').id}&from=2026-01-01&to=2026-02-01", status=403, code="forbidden"
    )
    # Who may not see a document is not told it exists.
    api["outsider"].refused("GET", f"/documents/{doc_id}", status=404, code="not_found")
    api["commune_clerk"].refused(
        "POST", f"/documents/{doc_id}/actions/cancel", {"comment": "x"}, status=404, code="not_found"
    )
    assert _audit_count(session) == before
    assert session.get(OutgoingDocument, doc_id).status is DocumentStatus.DRAFT


def _pdf_refused(client: Api, path: str, content: bytes, status: int, code: str) -> dict:
    return _form_refused(client, path, status, code, data=content, content_type="application/pdf")


def _form_refused(client: Api, path: str, status: int, code: str, **kwargs) -> dict:
    """A POST of a form or a PDF refused with ``code``; the error's ``fields``."""
    error = client.call("POST", path, status=status, **kwargs)["error"]
    assert error["code"] == code, error
    return error.get("fields", {})


def test_a_signed_upload_that_is_no_pdf_is_refused_audited_and_changes_nothing(session, docs_world, api):
    w = docs_world
    doc_id = _created(session, api["drafter"], w)["id"]
    api["drafter"].post(f"/documents/{doc_id}/actions/submit")
    api["reviewer"].post(f"/documents/{doc_id}/actions/forward")
    before = _audit_count(session)
    error = _pdf(api["signer"], f"/documents/{doc_id}/approval", b"%PDF-1.7 junk", status=422)["error"]
    assert error["code"] == "not_handed_out_file" and error["message"]
    assert _audit_count(session) == before + 1  # the refusal, and nothing else
    assert session.get(OutgoingDocument, doc_id).status is DocumentStatus.AWAITING_SIGNATURE


def test_lists_show_what_the_caller_sees_urgent_first_and_page(session, docs_world, api):
    w = docs_world
    ordinary = _created(session, api["drafter"], w)["id"]
    flash = api["drafter"].post(
        "/documents",
        {"drafting_unit_id": w.org("vhtt").id, **document_values(session, w, urgency="flash")},
        status=201,
    )["id"]
    listed = api["clerk"].get("/documents")
    assert [item["id"] for item in listed["items"]] == [flash, ordinary] and listed["total"] == 2
    page = api["clerk"].get("/documents?per_page=1&page=2")
    assert [item["id"] for item in page["items"]] == [ordinary] and page["pages"] == 2
    assert api["clerk"].get("/documents?status=cancelled")["total"] == 0
    assert api["outsider"].get("/documents")["total"] == 0
    assert api["commune_clerk"].get(f"/documents?organisation_id={w.org('commune').id}")["total"] == 0
    api["commune_clerk"].refused(
        "GET", f"/documents?organisation_id={w.org('vhtt').id}", status=400, code="validation_failed"
    )
    report = api["signer"].get(f"/report?organisation_id={w.org('district').id}&from=2026-01-01&to=2026-12-31")
    assert report["unit_id"] == w.org("district").id and report["issued_electronically"] == 0


def test_a_post_with_an_idempotency_key_is_done_once(session, docs_world, api):
    w = docs_world
    drafter = api["drafter"]
    values = {"drafting_unit_id": w.org("vhtt").id, **document_values(session, w)}
    headers = {**drafter.headers, "Idempotency-Key": "van-ban-1"}
    first, again = (drafter.client.post("/api/v1/documents", json=values, headers=headers) for _ in range(2))
    assert (first.status_code, again.status_code) == (201, 201) and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(OutgoingDocument)) == 1
    doc_id = first.get_json()["id"]
    upload = {**drafter.headers, "Idempotency-Key": "du-thao-1", "Content-Type": "application/pdf"}
    drafts = [drafter.client.post(f"/api/v1/documents/{doc_id}/draft", data=draft_pdf(), headers=upload)]
    drafts.append(drafter.client.post(f"/api/v1/documents/{doc_id}/draft", data=draft_pdf(), headers=upload))
    assert [r.status_code for r in drafts] == [200, 200] and drafts[1].headers["Idempotent-Replayed"] == "true"
    submit = {**drafter.headers, "Idempotency-Key": "trinh-1"}
    answers = [drafter.client.post(f"/api/v1/documents/{doc_id}/actions/submit", headers=submit) for _ in range(2)]
    # Without the key the second submission would be refused: the document is in review already.
    assert [r.status_code for r in answers] == [200, 200]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DocumentEvent)) == 3  # create, edit, submit


def test_every_documented_document_operation_is_called(session, docs_world, api):
    """Each documents operation at least once, as its role, answering as documented."""
    w = docs_world
    test_a_document_from_draft_to_recall_through_the_api(session, w, api)
    test_outside_documents_are_checked_registered_only_when_valid_and_directed(session, w, api)
    test_a_secret_paper_document_is_entered_in_the_secret_series(session, w, api)
    doc_id = session.scalar(select(OutgoingDocument.id).order_by(OutgoingDocument.id))
    api["clerk"].get("/documents")
    api["signer"].get(f"/report?organisation_id={w.org('district').id}&from=2026-01-01&to=2026-12-31")
    _pdf_refused(api["signer"], f"/documents/{doc_id}/approval", b"%PDF-", 409, "transition_refused")
    _pdf_refused(api["clerk"], f"/documents/{doc_id}/issue", b"%PDF-", 409, "transition_refused")
    _pdf_refused(api["clerk"], f"/documents/{doc_id}/appendices/1/signed", b"%PDF-", 409, "transition_refused")
    seen = set().union(*(client.seen for client in api.values()))
    wanted = {op for op in documented_operations() if op[1].startswith(DOCUMENT_PATHS)}
    assert wanted - seen == set()


def test_a_file_over_20_mb_is_refused_with_a_message_not_a_bare_413(session, docs_world, api):
    w = docs_world
    doc_id = _created(session, api["drafter"], w)["id"]
    huge = b"%PDF-1.7\n" + b"0" * files.MAX_FILE_BYTES
    fields = _pdf_refused(api["drafter"], f"/documents/{doc_id}/draft", huge, 400, "validation_failed")
    assert "20 MB" in fields["file"]
    form = {"organisation_id": str(w.org("district").id), "sender_name": "Sở Nội vụ", "summary": "Về việc thử"}
    fields = _form_refused(
        api["clerk"], "/incoming", 400, "validation_failed", data={**form, "file": (_stream(huge), "a")}
    )
    assert "20 MB" in fields["file"]
    assert session.scalar(select(func.count()).select_from(IncomingDocument)) == 0
