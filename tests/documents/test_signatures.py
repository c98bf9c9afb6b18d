"""The server checks every signed file it receives (issue 12): the signer's upload, the clerk's, appendices.

Real SoftHSM tokens, made once per session (see ``tokens``); every refusal leaves the document as it was
(status, files, certificates, number, timeline) and is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.audit.service import SYSTEM
from certsvc.custody.chain import append_event
from certsvc.custody.models import CustodyEventKind
from certsvc.documents import files, register
from certsvc.documents.models import (
    DocumentEvent,
    DocumentStatus,
    FileKind,
    NumberState,
    OutgoingDocument,
)
from certsvc.documents.signing import SignatureRefused, appendix_upload, approve_upload, issue_upload
from certsvc.errors import PermissionDenied
from certsvc.registry.models import Certificate
from tests.support.signing import Tokens, approve_with, issue_with, new_document, nss_db
from tests.token_agent.conftest import pdfsig, qpdf_ok, tampered
from token_agent import demo, signing

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]

# --- steps ------------------------------------------------------------------------------------------------


def prepared_of(session, doc: OutgoingDocument) -> bytes:
    return files.content(files.latest(doc, FileKind.PREPARED))


def approved(session, tokens, dw) -> bytes:
    """The document signed by its signer and approved; its APPROVED file."""
    doc = dw.doc(session)
    signed = approve_with(tokens, "LANH-DAO", prepared_of(session, doc))
    approve_upload(session, dw.signer, doc, signed, "da-ky-duyet.pdf")
    session.commit()
    return signed


def numbered(session, tokens, dw) -> tuple[bytes, str, dt.date]:
    """Approved and numbered: the APPROVED file, the symbol and the issue date."""
    signed = approved(session, tokens, dw)
    entry = register.take_number(session, dw.clerk, dw.doc(session))
    session.commit()
    return signed, entry.symbol, entry.issue_date


# --- what is checked ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    status: DocumentStatus
    files: tuple[tuple[str, str], ...]
    personal_certificate_id: int | None
    organisation_certificate_id: int | None
    number_state: NumberState | None
    events: int


def state_of(session, dw) -> State:
    session.expire_all()
    doc = dw.doc(session)
    return State(
        doc.status,
        tuple((f.kind.value, f.sha256) for f in doc.files),
        doc.personal_certificate_id,
        doc.organisation_certificate_id,
        doc.number_entry.state if doc.number_entry else None,
        session.scalar(select(func.count()).select_from(DocumentEvent)),
    )


def last_audit(session) -> AuditEntry:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


def refused(session, dw, code: str, upload, *args) -> SignatureRefused:
    """``upload(*args)`` is refused with ``code``, changes nothing, and the refusal is audited."""
    before = state_of(session, dw)
    with pytest.raises(SignatureRefused) as caught:
        upload(*args)
    assert caught.value.code == code, caught.value.message
    assert state_of(session, dw) == before
    entry = last_audit(session)
    assert (entry.action, entry.object_id) == ("document.signature_refused", str(dw.doc_id))
    assert f'"code":"{code}"' in entry.details
    return caught.value


# --- the whole round -------------------------------------------------------------------------------------


def test_signed_and_issued_file_passes_every_check(session, tokens, dw, tmp_path):
    signed, symbol, day = numbered(session, tokens, dw)
    doc = dw.doc(session)
    assert doc.status is DocumentStatus.NUMBERED
    assert doc.personal_certificate.sha256 == x509_sha256(tokens, "LANH-DAO")
    issued = issue_with(tokens, "VAN-THU", signed, symbol, day)
    event = issue_upload(session, dw.clerk, doc, issued, "ban-hanh.pdf")
    session.commit()
    assert event.details["number"] == symbol
    after = state_of(session, dw)
    doc = dw.doc(session)
    assert after.status is DocumentStatus.ISSUED and after.number_state is NumberState.USED
    assert doc.organisation_certificate.sha256 == x509_sha256(tokens, "VAN-THU")
    assert doc.issued_at is not None and doc.approved_at is not None
    assert files.content(files.latest(doc, FileKind.ISSUED)) == issued
    assert [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))][-3:] == [
        "document.approve",
        "document.take_number",
        "document.issue",
    ]
    path = tmp_path / "ban-hanh.pdf"
    path.write_bytes(issued)
    checked = pdfsig(path, nss_db(tokens, tmp_path))
    assert [(c.field, c.valid, c.trusted) for c in checked] == [
        (signing.PERSONAL_FIELD, True, True),
        (signing.ORGANISATION_FIELD, True, True),
    ], [c.text for c in checked]
    assert qpdf_ok(path)


def x509_sha256(tokens: Tokens, label: str) -> str:
    return hashlib.sha256(tokens.der(label)).hexdigest()


# --- the signer's upload ---------------------------------------------------------------------------------


def test_only_the_proposed_signer_uploads(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "KHAC", prepared_of(session, doc))
    with pytest.raises(PermissionDenied):
        approve_upload(session, dw.other, doc, signed, "x.pdf")


def test_wrong_signer_is_refused(session, tokens, dw):
    """The proposed signer uploads a file signed with another person's token."""
    doc = dw.doc(session)
    signed = approve_with(tokens, "KHAC", prepared_of(session, doc))
    refused(session, dw, "wrong_signer", approve_upload, session, dw.signer, doc, signed, "x.pdf")


def test_foreign_document_is_refused(session, tokens, dw):
    """A correctly signed prepared file, of another draft."""
    other = new_document(session, dw.district, dw.office, dw.drafter, dw.signer, demo.make_draft(pages=2))
    session.commit()
    signed = approve_with(tokens, "LANH-DAO", prepared_of(session, other))
    refused(session, dw, "not_handed_out_file", approve_upload, session, dw.signer, dw.doc(session), signed, "x.pdf")


def test_file_edited_after_prepare_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "LANH-DAO", tampered(prepared_of(session, doc)))
    refused(session, dw, "not_handed_out_file", approve_upload, session, dw.signer, doc, signed, "x.pdf")


def test_file_edited_after_signing_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    prepared = prepared_of(session, doc)
    signed = bytearray(approve_with(tokens, "LANH-DAO", prepared))
    # the whitespace before the signature value: inside the signed bytes, and the file still reads the same
    match = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", bytes(signed[len(prepared) :]))
    assert match is not None
    at = int(match.group(1)) - 1
    assert signed[at : at + 2] in (b" <", b"\n<")
    signed[at] = ord("\n") if signed[at] == ord(" ") else ord(" ")
    refused(session, dw, "tampered", approve_upload, session, dw.signer, doc, bytes(signed), "x.pdf")


def test_revision_slipped_in_before_the_signature_is_refused(session, tokens, dw):
    """The signature covers the whole file and the file starts with the prepared one, but a revision that
    changes the document came between them."""
    doc = dw.doc(session)
    writer = IncrementalPdfFileWriter(io.BytesIO(prepared_of(session, doc)))
    writer.root["/PageMode"] = generic.NameObject("/UseOutlines")
    writer.update_root()
    changed = io.BytesIO()
    writer.write(changed)
    signed = approve_with(tokens, "LANH-DAO", changed.getvalue())
    refused(session, dw, "extra_revisions", approve_upload, session, dw.signer, doc, signed, "x.pdf")


@pytest.mark.parametrize(
    ("junk", "code"),
    [
        (lambda prepared: b"GIF89a not a pdf", "not_pdf"),
        (lambda prepared: b"", "not_pdf"),
        (lambda prepared: b"%PDF-1.7\n%%EOF\n", "not_handed_out_file"),
        (lambda prepared: prepared + b"\n1 0 obj << /Junk true >> endobj\n%%EOF\n", "unreadable_pdf"),
        (lambda prepared: prepared + os.urandom(2000), "unreadable_pdf"),
    ],
)
def test_junk_is_refused(session, tokens, dw, junk, code):
    doc = dw.doc(session)
    refused(session, dw, code, approve_upload, session, dw.signer, doc, junk(prepared_of(session, doc)), "x.pdf")


def test_prepared_file_unsigned_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    refused(
        session, dw, "not_handed_out_file", approve_upload, session, dw.signer, doc, prepared_of(session, doc), "x.pdf"
    )


def test_unregistered_certificate_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "CHUA-DK", prepared_of(session, doc))
    error = refused(session, dw, "certificate_not_registered", approve_upload, session, dw.signer, doc, signed, "x.pdf")
    assert "không có trong sổ" in error.message


def test_revoked_certificate_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "THU-HOI", prepared_of(session, doc))
    refused(session, dw, "certificate_revoked", approve_upload, session, dw.signer, doc, signed, "x.pdf")


def test_certificate_revoked_in_the_registry_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    registered = session.scalar(select(Certificate).where(Certificate.sha256 == x509_sha256(tokens, "LANH-DAO")))
    registered.revoked_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    session.commit()
    signed = approve_with(tokens, "LANH-DAO", prepared_of(session, doc))
    refused(session, dw, "certificate_revoked", approve_upload, session, dw.signer, doc, signed, "x.pdf")


def test_untrusted_chain_is_refused(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "NGOAI", prepared_of(session, doc))
    refused(session, dw, "untrusted_chain", approve_upload, session, dw.signer, doc, signed, "x.pdf")


def test_organisation_key_is_not_a_personal_signature(session, tokens, dw):
    doc = dw.doc(session)
    signed = approve_with(tokens, "VAN-THU", prepared_of(session, doc))
    refused(session, dw, "wrong_kind", approve_upload, session, dw.signer, doc, signed, "x.pdf")


# --- the clerk's upload ----------------------------------------------------------------------------------


def test_number_other_than_the_register_is_refused(session, tokens, dw):
    signed, symbol, day = numbered(session, tokens, dw)
    number = int(symbol.split("/")[0]) + 1
    issued = issue_with(tokens, "VAN-THU", signed, f"{number}/UBND-VHTT", day)
    refused(session, dw, "wrong_number", issue_upload, session, dw.clerk, dw.doc(session), issued, "x.pdf")


def test_previous_keeper_may_not_issue(session, tokens, dw):
    """The seal token was handed over to the second clerk yesterday: the first clerk's signature is refused,
    the second clerk's (the keeper) accepted."""
    signed, symbol, day = numbered(session, tokens, dw)
    append_event(session, SYSTEM, dw.seal_token, CustodyEventKind.HANDED_OVER, dw.clerk2.person_id, {})
    session.commit()
    issued = issue_with(tokens, "VAN-THU", signed, symbol, day)
    error = refused(session, dw, "not_keeper", issue_upload, session, dw.clerk, dw.doc(session), issued, "x.pdf")
    assert "người đang giữ" in error.message
    issue_upload(session, dw.clerk2, dw.doc(session), issued, "ban-hanh.pdf")
    session.commit()
    assert state_of(session, dw).status is DocumentStatus.ISSUED


def test_approved_file_edited_before_issue_is_refused(session, tokens, dw):
    signed, symbol, day = numbered(session, tokens, dw)
    issued = issue_with(tokens, "VAN-THU", signed, symbol, day)
    refused(
        session, dw, "not_handed_out_file", issue_upload, session, dw.clerk, dw.doc(session), tampered(issued), "x.pdf"
    )


def test_personal_signature_in_place_of_the_seal_is_refused(session, tokens, dw):
    signed, symbol, day = numbered(session, tokens, dw)
    issued = issue_with(tokens, "LANH-DAO", signed, symbol, day)
    refused(session, dw, "wrong_kind", issue_upload, session, dw.clerk, dw.doc(session), issued, "x.pdf")


def test_approved_file_alone_is_refused(session, tokens, dw):
    signed, _symbol, _day = numbered(session, tokens, dw)
    refused(session, dw, "not_handed_out_file", issue_upload, session, dw.clerk, dw.doc(session), signed, "x.pdf")


# --- appendices ------------------------------------------------------------------------------------------


def test_appendix_signed_by_the_keeper_is_kept(session, tokens, dw):
    _signed, symbol, _day = numbered(session, tokens, dw)
    doc = dw.doc(session)
    files.add_version(session, dw.drafter, doc, FileKind.APPENDIX_DRAFT, demo.make_draft(), "phu-luc.pdf", appendix=1)
    session.commit()
    draft = files.content(files.latest(doc, FileKind.APPENDIX_DRAFT, 1))
    with tokens.signer("VAN-THU") as signer:
        sealed = signing.sign_appendix(draft, signer, number=symbol)
    with tokens.signer("KHAC") as signer:
        personal = signing.sign_appendix(draft, signer, number=symbol)
    refused(session, dw, "wrong_kind", appendix_upload, session, dw.clerk, doc, 1, personal, "x.pdf")
    version = appendix_upload(session, dw.clerk, dw.doc(session), 1, sealed, "phu-luc-da-ky.pdf")
    session.commit()
    assert (version.kind, version.appendix) == (FileKind.APPENDIX_ISSUED, 1)
    assert last_audit(session).action == "document.sign_appendix"
