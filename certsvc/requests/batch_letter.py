"""A locked batch's proposal letter as an outgoing document (issue 12): the focal officer creates it, then it
follows the documents cycle (review, the leader's signature, a number from the issuing body's register, the
clerk's signature), and the batch is marked sent with that number and date.

The letter is a "Công văn" drafted by the focal office for its committee. Its draft is the letter as
:mod:`certsvc.requests.papers.letter` lays it out, and its prepared version is the same letter with the number,
date and signature fields over the boxes that layout knows. Both are stored as they are: the documents
service's own preparing would search the page again for those places, and refuses a file that already has the
fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import to_id
from certsvc.core.validation import FieldCollector, FieldError
from certsvc.documents import drafting
from certsvc.documents.files import add_version
from certsvc.documents.models import DocumentStatus, DocumentType, FileKind, NumberEntry, OutgoingDocument
from certsvc.errors import Conflict
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure
from certsvc.requests.letters import issuing_body, letter_data
from certsvc.requests.models import Batch, BatchStatus
from certsvc.requests.papers.letter import DOCUMENT_TYPE, LetterData, build_letter_pdfs

__all__ = [
    "LETTER_TYPE",
    "letter_signers",
    "awaits_letter",
    "ensure_may_create",
    "create_letter",
    "issued_letter_entry",
]

#: The document type of the proposal letter (Nghị định 30/2020, Phụ lục III: no abbreviation).
LETTER_TYPE = DOCUMENT_TYPE

#: Where a letter's number and date are final: signed by the clerk, and maybe sent on already.
_ISSUED = frozenset({DocumentStatus.ISSUED, DocumentStatus.SENT})


def letter_signers(session: Session, batch: Batch) -> list[Person]:
    """Who may be proposed to sign the letter: the active people of the issuing body."""
    return list(
        session.scalars(
            select(Person)
            .where(Person.organisation_id == issuing_body(batch).id, Person.is_active.is_(True))
            .order_by(Person.full_name, Person.id)
        )
    )


def _letter_type(session: Session) -> DocumentType:
    found = session.scalars(select(DocumentType).where(DocumentType.name == LETTER_TYPE)).one_or_none()
    if found is None or not found.is_active:
        raise Conflict(f"Chưa có loại văn bản «{LETTER_TYPE}» đang dùng.", code="letter_type_missing")
    return found


def awaits_letter(batch: Batch) -> bool:
    """Whether the batch is locked without a letter (or with a cancelled one, to replace)."""
    letter = batch.letter_document
    return batch.status is BatchStatus.LOCKED and (letter is None or letter.status is DocumentStatus.CANCELLED)


def ensure_may_create(session: Session, by: Account, batch: Batch) -> None:
    """PermissionDenied unless ``by`` both manages the batch and drafts documents at its focal office (a focal
    officer who is also a specialist of the office)."""
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    ensure(session, by, Permission.DRAFT_DOCUMENTS, batch.focal_office_id)


def create_letter(session: Session, by: Account, batch: Batch, raw: Mapping[str, object]) -> OutgoingDocument:
    """The locked batch's proposal letter, a new draft document of the focal office signed by ``signer_id``
    (a person of the issuing body; the letter prints that person's name). ``by`` manages the batch and drafts
    documents at the focal office. Refused while the batch has a letter that is not cancelled."""
    ensure_may_create(session, by, batch)
    if batch.status is not BatchStatus.LOCKED:
        raise Conflict("Chỉ tạo công văn đề nghị cho đợt tổng hợp đã chốt và chưa gửi.", code="batch_not_locked")
    if not awaits_letter(batch):
        raise Conflict("Đợt tổng hợp đã có công văn đề nghị.", code="letter_exists")
    previous = batch.letter_document
    body = issuing_body(batch)
    fields = FieldCollector(raw)
    signer = fields.take("signer_id", lambda value: _signer(session, body, value))
    fields.raise_if_failed()
    if signer is None:  # raise_if_failed above: a failed check leaves None
        raise RuntimeError("letter signer missing after its check")
    # A new letter has no number yet, even when it replaces a cancelled one that had.
    letter = dataclasses.replace(letter_data(batch), signer_name=signer.full_name, reference=None)
    try:
        draft_pdf, prepared_pdf = build_letter_pdfs(letter)
    except ValueError as error:
        raise Conflict(f"Không tạo được công văn: {error}", code="document_failed") from error
    doc = drafting.create(
        session,
        by,
        batch.focal_office_id,
        {
            "document_type_id": str(_letter_type(session).id),
            "summary": letter.summary,
            "issuing_body_id": str(body.id),
            "signer_id": str(signer.id),
            "authority_lines": "\n".join([letter.signer_authority, *letter.signer_title.splitlines()]),
            "outside_recipients": "\n".join(letter.recipients),
            "distribution_lines": "\n".join(_printed_distribution(letter)),
        },
    )
    filename = f"cong-van-de-nghi-dot-{batch.id}.pdf"
    add_version(session, by, doc, FileKind.DRAFT, draft_pdf, filename)
    add_version(session, by, doc, FileKind.PREPARED, prepared_pdf, filename)
    _attach(session, batch, doc, previous, signer)
    record(
        session,
        Actor.of(by),
        "batch.letter_created",
        "request_batch",
        batch.id,
        {
            "letter_document_id": doc.id,
            "replaces_document_id": previous.id if previous is not None else None,
            "signer_id": signer.id,
            "signer_name": signer.full_name,
        },
    )
    return doc


def _printed_distribution(letter: LetterData) -> list[str]:
    """The letter's «Nơi nhận» as printed, for the document's record: its lines, then the electronic part."""
    electronic = ["Bản điện tử:", *letter.electronic_copies_to] if letter.electronic_copies_to else []
    return [*letter.copies_to, *electronic]


def _signer(session: Session, body: Organisation, value: object) -> Person:
    person_id = to_id(value)
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None or not person.is_active or person.organisation_id != body.id:
        raise FieldError(f"Chọn người ký là người đang công tác tại {body.name}.")
    return person


def _attach(
    session: Session, batch: Batch, doc: OutgoingDocument, previous: OutgoingDocument | None, signer: Person
) -> None:
    """The batch's letter becomes ``doc`` (and its signer's name the letter's), unless someone else changed
    the batch's letter or status meanwhile: of two officers creating at once exactly one succeeds."""
    unchanged = Batch.letter_document_id.is_(None) if previous is None else Batch.letter_document_id == previous.id
    result = cast(
        CursorResult,
        session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status == BatchStatus.LOCKED, unchanged)
            .values(letter_document_id=doc.id, signer_name=signer.full_name)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise Conflict(
            "Đợt tổng hợp vừa được người khác tạo công văn hoặc đã thay đổi. Vui lòng tải lại trang.",
            code="batch_changed",
        )
    session.refresh(batch)


def issued_letter_entry(batch: Batch) -> NumberEntry | None:
    """The register entry of the batch's letter once the clerk has issued it (number and date final)."""
    letter = batch.letter_document
    if letter is None or letter.status not in _ISSUED:
        return None
    return letter.number_entry
