"""Drafting: the values a drafter gives are bounded and checked, every problem refused with nothing written;
editing keeps every file version; secret documents never take a file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.documents import drafting
from certsvc.documents.files import MAX_FILE_BYTES, PAPER_ONLY_MESSAGE, PaperOnly, add_version, clean_filename, latest
from certsvc.documents.models import (
    DocumentFile,
    DocumentStatus,
    FileKind,
    IncomingDocument,
    OutgoingDocument,
    StoredFile,
)
from certsvc.errors import PermissionDenied, ValidationFailed
from tests.documents.conftest import document_type, document_values, draft_pdf
from token_agent import demo


def counts(session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (OutgoingDocument, DocumentFile, StoredFile, AuditEntry)
    )


BAD_VALUES = {
    "no summary": (lambda s, w: {"summary": "  "}, "summary"),
    "summary too long": (lambda s, w: {"summary": "x" * 501}, "summary"),
    "control character": (lambda s, w: {"summary": "Về việc\x07"}, "summary"),
    "hidden character": (lambda s, w: {"summary": "Về\u202eviệc"}, "summary"),
    "no type": (lambda s, w: {"document_type_id": None}, "document_type_id"),
    "unknown type": (lambda s, w: {"document_type_id": 2**31}, "document_type_id"),
    "type as text": (lambda s, w: {"document_type_id": "QĐ"}, "document_type_id"),
    "urgency": (lambda s, w: {"urgency": "very_very_urgent"}, "urgency"),
    "secrecy": (lambda s, w: {"secrecy": "public"}, "secrecy"),
    "body not the unit nor its parent": (lambda s, w: {"issuing_body_id": w.org("commune").id}, "issuing_body_id"),
    "body unknown": (lambda s, w: {"issuing_body_id": "99999"}, "issuing_body_id"),
    "signer of another body": (lambda s, w: {"signer_id": w["drafter"].person_id}, "signer_id"),
    "no signer": (lambda s, w: {"signer_id": ""}, "signer_id"),
    "no authority": (lambda s, w: {"authority_lines": ""}, "authority_lines"),
    "four authority lines": (lambda s, w: {"authority_lines": "KT. CHỦ TỊCH\nA\nB\nC"}, "authority_lines"),
    "authority line too long": (lambda s, w: {"authority_lines": "KT. " + "A" * 100}, "authority_lines"),
    "authority too long": (lambda s, w: {"authority_lines": "\n".join(["KT. " + "A" * 96] * 3)}, "authority_lines"),
    "summary a number": (lambda s, w: {"summary": 42}, "summary"),
    "lines a number": (lambda s, w: {"distribution_lines": 42}, "distribution_lines"),
    "recipients a dict": (lambda s, w: {"recipient_ids": [{"id": 1}]}, "recipient_ids"),
    "authority prefix": (lambda s, w: {"authority_lines": "THAY CHỦ TỊCH\nPHÓ CHỦ TỊCH"}, "authority_lines"),
    "recipient is the body": (lambda s, w: {"recipient_ids": [w.org("district").id]}, "recipient_ids"),
    "recipient unknown": (lambda s, w: {"recipient_ids": [w.org("commune").id, 424242]}, "recipient_ids"),
    "recipient not an id": (lambda s, w: {"recipient_ids": "1, x"}, "recipient_ids"),
    "too many recipients": (lambda s, w: {"recipient_ids": list(range(1, 202))}, "recipient_ids"),
    "too many outside lines": (lambda s, w: {"outside_recipients": "\n".join(["Sở VHTT"] * 51)}, "outside_recipients"),
    "outside line too long": (lambda s, w: {"outside_recipients": "x" * 201}, "outside_recipients"),
    "distribution control": (lambda s, w: {"distribution_lines": "Lưu: VT\x1b"}, "distribution_lines"),
    "answers unknown": (lambda s, w: {"answers_id": 77}, "answers_id"),
}


@pytest.mark.parametrize("case", BAD_VALUES, ids=str)
def test_bad_values_change_nothing(session, docs_world, case):
    overrides, field = BAD_VALUES[case]
    before = counts(session)
    values = document_values(session, docs_world, **overrides(session, docs_world))
    with pytest.raises(ValidationFailed) as refused:
        drafting.create(session, docs_world["drafter"], docs_world.org("vhtt").id, values, draft=draft_pdf())
    session.rollback()
    assert field in refused.value.field_errors
    assert counts(session) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "trống"),
        (b"<html>not a pdf</html>", "không phải PDF"),
        (b"%PDF-1.7\n" + b"0" * MAX_FILE_BYTES, "20 MB"),
        (b"%PDF-1.7\nnot really", "PDF"),
        (demo.make_draft(signer="Người Khác Hẳn"), ""),  # no block of the proposed signer to sign at
    ],
    ids=["empty", "html", "too big", "junk pdf", "no signer block"],
)
def test_bad_files_change_nothing(session, docs_world, content, message):
    before = counts(session)
    values = document_values(session, docs_world)
    with pytest.raises(ValidationFailed) as refused:
        drafting.create(session, docs_world["drafter"], docs_world.org("vhtt").id, values, draft=content)
    session.rollback()
    assert message in refused.value.field_errors["file"]
    assert counts(session) == before


def test_too_many_appendices_are_refused(session, docs_world):
    values = document_values(session, docs_world)
    with pytest.raises(ValidationFailed) as refused:
        drafting.create(
            session,
            docs_world["drafter"],
            docs_world.org("vhtt").id,
            values,
            draft_pdf(),
            appendices=[draft_pdf()] * 21,
        )
    assert "appendices" in refused.value.field_errors


def test_only_a_drafter_of_the_unit_creates(session, docs_world):
    values = document_values(session, docs_world)
    for username in ("reviewer", "clerk", "outsider"):
        with pytest.raises(PermissionDenied):
            drafting.create(session, docs_world[username], docs_world.org("vhtt").id, values, draft=draft_pdf())
        session.rollback()


def test_a_named_type_with_appendices_numbered_from_one(session, docs_world):
    vp_officer = docs_world["outsider"]  # VP drafts in the committee's name, as the committee's own document
    values = document_values(
        session, docs_world, document_type_id=document_type(session, "Quyết định").id, authority_lines="CHỦ TỊCH"
    )
    doc = drafting.create(
        session,
        vp_officer,
        docs_world.org("vp").id,
        values,
        draft_pdf(2),
        appendices=[draft_pdf(), b"%PDF-1.4 x"],
    )
    session.commit()
    assert [f.appendix for f in doc.files if f.kind is FileKind.APPENDIX_DRAFT] == [1, 2]
    assert doc.authority_lines == "CHỦ TỊCH"


def test_edit_keeps_every_version_and_records_what_changed(session, docs_world, make_document):
    doc = make_document()
    first_draft = latest(doc, FileKind.DRAFT)
    recipients = [docs_world.org("commune").id, docs_world.org("vp").id]
    values = document_values(session, docs_world, summary="Về việc khác", recipient_ids=recipients)
    drafting.edit(session, docs_world["drafter"], doc, values, draft=demo.make_draft(pages=2))
    session.commit()
    assert doc.summary == "Về việc khác"
    assert {r.organisation_id for r in doc.recipients} == set(recipients)
    drafts = [f for f in doc.files if f.kind is FileKind.DRAFT]
    assert len(drafts) == 2 and drafts[0].id == first_draft.id and latest(doc, FileKind.DRAFT) is drafts[1]
    assert len([f for f in doc.files if f.kind is FileKind.PREPARED]) == 2
    event = doc.events[-1]
    assert event.action == "edit" and event.details["changes"]["summary"][1] == "Về việc khác"
    assert event.details["changes"]["recipient_ids"][1] == sorted(recipients)


def test_a_new_signer_gives_a_new_prepared_version(session, docs_world, make_document):
    doc = make_document()
    deputy = docs_world["deputy"].person
    deputy.full_name = demo.SIGNER  # the demo draft's block names the demo signer
    session.commit()
    drafting.edit(session, docs_world["drafter"], doc, document_values(session, docs_world, signer_id=deputy.id))
    session.commit()
    assert doc.signer_id == deputy.id
    assert len([f for f in doc.files if f.kind is FileKind.PREPARED]) == 2
    assert len([f for f in doc.files if f.kind is FileKind.DRAFT]) == 2


def test_edit_is_refused_once_in_review(session, docs_world, make_document):
    from certsvc.errors import Conflict

    doc = make_document()
    drafting.submit(session, docs_world["drafter"], doc)
    session.commit()
    with pytest.raises(Conflict):
        drafting.edit(session, docs_world["drafter"], doc, document_values(session, docs_world, summary="Khác"))


def test_the_answered_incoming_document_must_be_of_the_unit_or_the_body(session, docs_world, make_document):
    theirs = IncomingDocument(receiving_body_id=docs_world.org("commune").id, sender_name="Sở", summary="Hỏi")
    ours = IncomingDocument(receiving_body_id=docs_world.org("district").id, sender_name="Sở", summary="Hỏi")
    session.add_all([theirs, ours])
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        make_document(answers_id=theirs.id)
    session.rollback()
    assert "answers_id" in refused.value.field_errors
    assert make_document(answers_id=ours.id).answers_id == ours.id


def test_a_secret_document_never_takes_a_file(session, docs_world):
    before = counts(session)
    values = document_values(session, docs_world, secrecy="secret")
    with pytest.raises(PaperOnly) as refused:
        drafting.create(session, docs_world["drafter"], docs_world.org("vhtt").id, values, draft=draft_pdf())
    session.rollback()
    assert refused.value.code == "paper_only" and refused.value.field_errors == {"file": PAPER_ONLY_MESSAGE}
    assert counts(session) == before
    doc = drafting.create(session, docs_world["drafter"], docs_world.org("vhtt").id, values)
    session.commit()
    with pytest.raises(PaperOnly):
        drafting.edit(session, docs_world["drafter"], doc, values, draft=draft_pdf())
    session.rollback()
    with pytest.raises(PaperOnly):
        add_version(session, docs_world["drafter"], doc, FileKind.DRAFT, draft_pdf(), "x.pdf")
    session.rollback()
    drafting.submit(session, docs_world["drafter"], doc)  # no file needed: it is on paper
    session.commit()
    assert doc.status is DocumentStatus.IN_REVIEW and doc.files == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\canbo\\Desktop\\du-thao.pdf", "du-thao.pdf"),
        ("/home/canbo/du-thao.pdf", "du-thao.pdf"),
        ("  Dự thảo\r\ncông văn.pdf ", "Dự thảo công văn.pdf"),
        ("", "van-ban.pdf"),
    ],
)
def test_a_file_is_kept_under_its_own_name_on_one_line(sent, kept):
    assert clean_filename(sent) == kept
