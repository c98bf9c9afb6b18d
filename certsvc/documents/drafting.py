"""Drafting outgoing documents: the values a drafter gives, the draft file and its appendices, and the
drafter's steps (create, edit, submit for review, cancel).

No Flask here. Every state change goes through :func:`certsvc.documents.transitions.apply_transition` (one
event, one audit entry); the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import get_record, to_id
from certsvc.core.validation import FieldCollector, FieldError, clean_text, text_problem
from certsvc.documents.files import (
    PaperOnly,
    Upload,
    add_draft,
    add_version,
    content,
    latest,
    read_pdf_upload,
)
from certsvc.documents.models import (
    DocumentRecipient,
    DocumentType,
    FileKind,
    IncomingDocument,
    OutgoingDocument,
    Secrecy,
    Urgency,
)
from certsvc.documents.transitions import Action, apply_transition, check_transition
from certsvc.errors import ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure

__all__ = [
    "AUTHORITY_PREFIXES",
    "MAX_RECIPIENTS",
    "MAX_APPENDICES",
    "DocumentValues",
    "clean_document_values",
    "create",
    "edit",
    "submit",
    "cancel",
]

#: How an authority line begins when the signer signs for someone else (Nghị định 30/2020, Điều 13):
#: thay mặt, ký thay, thừa lệnh, thừa ủy quyền, quyền.
AUTHORITY_PREFIXES = ("TM.", "KT.", "TL.", "TUQ.", "Q.")
MAX_AUTHORITY_LINES, MAX_AUTHORITY_LINE = 3, 100
#: The column holds the lines with their line breaks.
MAX_AUTHORITY = 300
#: Recipients inside the service; "Nơi nhận" and outside recipients are lines of text.
MAX_RECIPIENTS = 200
MAX_LINES, MAX_LINE = 50, 200
MAX_APPENDICES = 20
MAX_SUMMARY = 500

E = TypeVar("E", bound=LabelledEnum)


def clean_lines(value: object, max_lines: int, max_length: int) -> str | None:
    """Lines typed in a text area (or given as a list): whitespace collapsed, empty ones dropped, bounded."""
    raw = value if isinstance(value, list | tuple) else (_string(value) or "").splitlines()
    lines: list[str] = []
    for line in raw:
        if not isinstance(line, str) or (problem := text_problem(line)):
            raise FieldError(problem or "Mỗi dòng phải là chữ.")
        if text := " ".join(line.split()):
            lines.append(text)
        if len(lines) > max_lines:
            raise FieldError(f"Nhiều quá {max_lines} dòng.")
        if len(text) > max_length:
            raise FieldError(f"Mỗi dòng tối đa {max_length} ký tự.")
    return "\n".join(lines) or None


def _string(value: object) -> str | None:
    """A text field's raw value: text, or None when absent; anything else (a number in JSON) is refused."""
    if value is not None and not isinstance(value, str):
        raise FieldError("Phải là chuỗi ký tự.")
    return value


def _authority(value: object) -> str:
    """The lines above the signer's name: «KT. CHỦ TỊCH» then «PHÓ CHỦ TỊCH», or the position alone."""
    text = clean_lines(value, MAX_AUTHORITY_LINES, MAX_AUTHORITY_LINE)
    if text is None:
        raise FieldError("Bắt buộc nhập (ví dụ «KT. CHỦ TỊCH» rồi «PHÓ CHỦ TỊCH» ở dòng sau).")
    if len(text) > MAX_AUTHORITY:
        raise FieldError(f"Dài quá {MAX_AUTHORITY} ký tự.")
    lines = text.split("\n")
    if len(lines) > 1 and not lines[0].upper().startswith(AUTHORITY_PREFIXES):
        raise FieldError("Dòng đầu bắt đầu bằng TM., KT., TL., TUQ. hoặc Q. (hoặc chỉ ghi chức vụ một dòng).")
    return text


def _choice(cls: type[E], default: E) -> Callable[[object], E]:
    def clean(value: object) -> E:
        text = str(value or "").strip()
        if not text:
            return default
        try:
            return cls(text)
        except ValueError:
            raise FieldError("Giá trị không hợp lệ.") from None

    return clean


def _ids(value: object) -> list[int]:
    """Organisation ids as a form's list or a comma-separated text; each once, in the order given."""
    raw = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
    if len(raw) > MAX_RECIPIENTS:
        raise FieldError(f"Nhiều quá {MAX_RECIPIENTS} đơn vị nhận.")
    ids = [to_id(item) for item in raw if str(item).strip()]
    if any(item is None for item in ids):
        raise FieldError("Đơn vị nhận không hợp lệ.")
    return list(dict.fromkeys(item for item in ids if item is not None))


@dataclass
class DocumentValues:
    """A drafter's values, checked; a field is None (or empty) where its check failed."""

    document_type: DocumentType | None = None
    summary: str | None = None
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    issuing_body: Organisation | None = None
    signer: Person | None = None
    authority_lines: str | None = None
    recipients: list[Organisation] = field(default_factory=list)
    outside_recipients: str | None = None
    distribution_lines: str | None = None
    answers: IncomingDocument | None = None

    def new_document(self, drafting_unit: Organisation) -> OutgoingDocument:
        """A new document with these values (after ``raise_if_failed``), not yet in the session."""
        doc = OutgoingDocument(drafting_unit=drafting_unit, drafting_unit_id=drafting_unit.id)
        self.apply_to(doc)
        return doc

    def apply_to(self, doc: OutgoingDocument) -> dict[str, list[object]]:
        """Set these values on ``doc``; ``{field: [old, new]}`` of what changed (ids for records)."""
        new = self._columns()
        changes = {name: [getattr(doc, name), value] for name, value in new.items() if getattr(doc, name) != value}
        for name, value in new.items():
            setattr(doc, name, value)
        doc.document_type = _known(self.document_type)
        doc.issuing_body = _known(self.issuing_body)
        doc.signer = _known(self.signer)
        wanted = {org.id for org in self.recipients}
        before = {recipient.organisation_id for recipient in doc.recipients}
        # Kept rows stay: dropping and adding one of the same organisation in one flush breaks the unique key.
        doc.recipients = [r for r in doc.recipients if r.organisation_id in wanted] + [
            DocumentRecipient(organisation=org, organisation_id=org.id)
            for org in self.recipients
            if org.id not in before
        ]
        if before != wanted:
            changes["recipient_ids"] = [sorted(before), sorted(wanted)]
        return {name: [_plain(old), _plain(value)] for name, (old, value) in changes.items()}

    def _columns(self) -> dict[str, object]:
        return {
            "document_type_id": _known(self.document_type).id,
            "summary": self.summary,
            "urgency": self.urgency,
            "secrecy": self.secrecy,
            "issuing_body_id": _known(self.issuing_body).id,
            "signer_id": _known(self.signer).id,
            "authority_lines": self.authority_lines,
            "outside_recipients": self.outside_recipients,
            "distribution_lines": self.distribution_lines,
            "answers_id": self.answers.id if self.answers else None,
        }


T = TypeVar("T")


def _known(value: T | None) -> T:
    """A value that passed its check (read after ``raise_if_failed``, so never None)."""
    if value is None:
        raise RuntimeError("a document value is read before its check passed")
    return value


def _plain(value: object) -> object:
    """A value as the audit log keeps it."""
    return value.value if isinstance(value, LabelledEnum) else value


def _issuing_body(session: Session, unit: Organisation, value: object) -> Organisation:
    """The drafting unit itself or its parent (an office drafts for its committee); the unit when empty."""
    if not str(value or "").strip():
        return unit
    body_id = to_id(value)
    if body_id is None or body_id not in (unit.id, unit.parent_id):
        raise FieldError("Cơ quan ban hành là chính đơn vị soạn thảo hoặc cơ quan cấp trên trực tiếp của đơn vị.")
    body = session.get(Organisation, body_id)
    if body is None or not body.is_active:
        raise FieldError("Cơ quan ban hành không còn hoạt động.")
    return body


def _record(session: Session, model: type[T], value: object, message: str) -> T:
    """The record the value names, or FieldError(message)."""
    record_id = to_id(value)
    found = session.get(model, record_id) if record_id is not None else None
    if found is None:
        raise FieldError(message)
    return found


def _recipients(session: Session, ids: list[int], body: Organisation | None) -> list[Organisation]:
    if body is not None and body.id in ids:
        raise FieldError("Không gửi văn bản cho chính cơ quan ban hành.")
    found = {org.id: org for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    if any(org_id not in found or not found[org_id].is_active for org_id in ids):
        raise FieldError("Có đơn vị nhận không tồn tại hoặc không còn hoạt động.")
    return [found[org_id] for org_id in ids]


def clean_document_values(
    session: Session, drafting_unit: Organisation, raw: Mapping[str, object]
) -> tuple[DocumentValues, FieldCollector]:
    """Check a drafter's values (all of them, so every problem shows at once); the caller adds its own
    checks to the collector, then calls ``raise_if_failed``.

    Keys: ``document_type_id`` (an active type), ``summary`` (≤ 500), ``urgency``, ``secrecy``,
    ``issuing_body_id`` (the drafting unit or its parent; the unit when empty), ``signer_id`` (an active person
    of the issuing body), ``authority_lines`` (≤ 3 lines of ≤ 100), ``recipient_ids`` (≤ 200 active
    organisations, not the issuing body), ``outside_recipients`` and ``distribution_lines`` (≤ 50 lines of
    ≤ 200), ``answers_id`` (an incoming document of the drafting unit or the issuing body).
    """
    c = FieldCollector(raw)
    values = DocumentValues()

    def active_type(value: object) -> DocumentType:
        found = _record(session, DocumentType, value, "Chọn loại văn bản.")
        if not found.is_active:
            raise FieldError("Loại văn bản này không còn dùng.")
        return found

    values.document_type = c.take("document_type_id", active_type)
    values.summary = c.take("summary", lambda v: clean_text(_string(v), required=True, max_length=MAX_SUMMARY))
    values.urgency = c.take("urgency", _choice(Urgency, Urgency.NORMAL))
    values.secrecy = c.take("secrecy", _choice(Secrecy, Secrecy.NORMAL))
    values.issuing_body = c.take("issuing_body_id", lambda v: _issuing_body(session, drafting_unit, v))
    body = values.issuing_body

    def signer_of_body(value: object) -> Person:
        person = _record(session, Person, value, "Chọn người ký.")
        if body is not None and (not person.is_active or person.organisation_id != body.id):
            raise FieldError("Người ký phải là người đang công tác tại cơ quan ban hành.")
        return person

    values.signer = c.take("signer_id", signer_of_body)
    values.authority_lines = c.take("authority_lines", _authority)
    values.recipients = c.take("recipient_ids", lambda v: _recipients(session, _ids(v), body)) or []
    values.outside_recipients = c.take("outside_recipients", lambda v: clean_lines(v, MAX_LINES, MAX_LINE))
    values.distribution_lines = c.take("distribution_lines", lambda v: clean_lines(v, MAX_LINES, MAX_LINE))

    def visible_incoming(value: object) -> IncomingDocument | None:
        if not str(value or "").strip():
            return None
        incoming = _record(session, IncomingDocument, value, "Không có văn bản đến này.")
        if incoming.receiving_body_id not in {drafting_unit.id, body.id if body else drafting_unit.id}:
            raise FieldError("Không có văn bản đến này.")
        return incoming

    values.answers = c.take("answers_id", visible_incoming)
    return values, c


def _read_files(
    collector: FieldCollector,
    secrecy: Secrecy | None,
    draft: Upload | bytes | None,
    appendices: Sequence[Upload | bytes],
) -> tuple[bytes | None, list[bytes]]:
    """The draft's and appendices' bytes; a secret document gets none (PaperOnly)."""
    if secrecy is not None and secrecy.paper_only and (draft is not None or appendices):
        raise PaperOnly()
    if len(appendices) > MAX_APPENDICES:
        collector.fail("appendices", f"Nhiều quá {MAX_APPENDICES} phụ lục.")
        return None, []
    read: list[bytes | None] = []
    for name, upload in [("file", draft), *((f"appendix_{n}", a) for n, a in enumerate(appendices, 1))]:
        try:
            read.append(None if upload is None else read_pdf_upload(upload, name))
        except ValidationFailed as error:
            for key, message in error.field_errors.items():
                collector.fail(key, message)
            read.append(None)
    return read[0], [data for data in read[1:] if data is not None]


def _add_appendices(
    session: Session, by: Account, doc: OutgoingDocument, appendices: Iterable[bytes], names: Sequence[str | None]
) -> list[str]:
    """Each appendix ``n`` (1, 2, …) becomes a new version of appendix ``n``; the sha256 of each."""
    added = []
    for number, (data, name) in enumerate(zip(appendices, names, strict=True), 1):
        added.append(add_version(session, by, doc, FileKind.APPENDIX_DRAFT, data, name, appendix=number).sha256)
    return added


def _names(uploads: Sequence[Upload | bytes]) -> list[str | None]:
    return [getattr(upload, "filename", None) for upload in uploads]


def create(
    session: Session,
    by: Account,
    drafting_unit_id: object,
    raw: Mapping[str, object],
    draft: Upload | bytes | None = None,
    filename: str | None = None,
    appendices: Sequence[Upload | bytes] = (),
) -> OutgoingDocument:
    """A new draft of ``drafting_unit_id`` (where ``by`` holds DRAFT_DOCUMENTS) with ``raw`` values
    (:func:`clean_document_values`), the draft PDF (prepared for signing at once) and appendix PDFs."""
    unit = get_record(session, Organisation, drafting_unit_id, "Không có đơn vị này.")
    ensure(session, by, Permission.DRAFT_DOCUMENTS, unit.id)
    values, collector = clean_document_values(session, unit, raw)
    draft_bytes, appendix_bytes = _read_files(collector, values.secrecy, draft, appendices)
    collector.raise_if_failed()
    doc = values.new_document(unit)
    apply_transition(session, by, doc, Action.CREATE)
    if draft_bytes is not None:
        add_draft(session, by, doc, draft_bytes, filename or getattr(draft, "filename", None))
    _add_appendices(session, by, doc, appendix_bytes, _names(appendices))
    return doc


def edit(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    raw: Mapping[str, object],
    draft: Upload | bytes | None = None,
    filename: str | None = None,
    appendices: Sequence[Upload | bytes] = (),
) -> OutgoingDocument:
    """Change a draft or a returned document: all its values (as :func:`create`), and optionally a new draft
    PDF and new appendix versions. A new draft, or a new signer, gives a new prepared version (the signer's
    block is where the signature goes). One event and audit entry with what changed."""
    check_transition(session, by, doc, Action.EDIT)
    values, collector = clean_document_values(session, doc.drafting_unit, raw)
    draft_bytes, appendix_bytes = _read_files(collector, values.secrecy, draft, appendices)
    collector.raise_if_failed()
    changes = values.apply_to(doc)
    if draft_bytes is None and "signer_id" in changes and (previous := latest(doc, FileKind.DRAFT)) is not None:
        draft_bytes, filename = content(previous), previous.filename
    details: dict[str, object] = {"changes": changes}
    if draft_bytes is not None:
        new_draft = add_draft(session, by, doc, draft_bytes, filename or getattr(draft, "filename", None))
        details["draft_sha256"] = new_draft.sha256
    if appendix_bytes:
        details["appendix_sha256"] = _add_appendices(session, by, doc, appendix_bytes, _names(appendices))
    apply_transition(session, by, doc, Action.EDIT, details=details)
    return doc


def submit(session: Session, by: Account, doc: OutgoingDocument) -> OutgoingDocument:
    """Send a draft (or a returned document) to the department leader's review; it needs its draft PDF,
    prepared for signing, unless it is secret (then it is on paper)."""
    check_transition(session, by, doc, Action.SUBMIT)
    if not doc.secrecy.paper_only and latest(doc, FileKind.PREPARED) is None:
        raise ValidationFailed({"file": "Chưa có tệp dự thảo (PDF): tải tệp lên trước khi trình."})
    apply_transition(session, by, doc, Action.SUBMIT)
    return doc


def cancel(session: Session, by: Account, doc: OutgoingDocument, reason: str | None) -> OutgoingDocument:
    """Cancel a document not yet sent for signature; the reason is required. Nothing is deleted."""
    apply_transition(session, by, doc, Action.CANCEL, reason)
    return doc
