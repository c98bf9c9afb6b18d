"""The files of outgoing documents: uploads read and bounded, bytes stored once by their SHA-256, and the
versions each step produced, never overwritten nor deleted.

A secret document (Mật, Tối mật, Tuyệt mật) is never stored electronically: every file for it is refused.
"""

from __future__ import annotations

import hashlib
from typing import IO, Protocol

from sqlalchemy import Select, case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.validation import text_problem
from certsvc.documents.models import DocumentFile, FileKind, OutgoingDocument, StoredFile
from certsvc.errors import ValidationFailed

__all__ = [
    "MAX_FILE_BYTES",
    "PAPER_ONLY_MESSAGE",
    "PaperOnly",
    "Upload",
    "refuse_if_paper_only",
    "read_pdf_upload",
    "clean_filename",
    "store",
    "add_version",
    "add_draft",
    "latest",
    "content",
]

#: Uploads over 20 MB are refused (issue 12): a scanned decision of many pages stays well below.
MAX_FILE_BYTES = 20 * 1024 * 1024

PAPER_ONLY_MESSAGE = "Văn bản mật không được lưu, gửi trên hệ thống: chỉ vào sổ, văn bản giấy."


class PaperOnly(ValidationFailed):
    """A file was given for a secret document: it is kept on paper only."""

    code = "paper_only"

    def __init__(self, field: str = "file"):
        super().__init__({field: PAPER_ONLY_MESSAGE}, PAPER_ONLY_MESSAGE)


class Upload(Protocol):
    """What a form's file field gives (werkzeug's FileStorage): a stream to read from."""

    @property
    def stream(self) -> IO[bytes]: ...


def refuse_if_paper_only(doc: OutgoingDocument, field: str = "file") -> None:
    if doc.secrecy.paper_only:
        raise PaperOnly(field)


def read_pdf_upload(upload: Upload | bytes | None, field: str) -> bytes:
    """The bytes of an uploaded PDF, read no further than one byte past :data:`MAX_FILE_BYTES`.

    ValidationFailed({field: …}) when it is missing, empty, over 20 MB or not a PDF (no ``%PDF-`` header).
    """
    data = upload if isinstance(upload, bytes) else b"" if upload is None else upload.stream.read(MAX_FILE_BYTES + 1)
    if not data:
        raise ValidationFailed({field: "Chọn tệp PDF (tệp đang trống)."})
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed({field: f"Tệp lớn quá {MAX_FILE_BYTES // (1024 * 1024)} MB."})
    if not data.startswith(b"%PDF-"):
        raise ValidationFailed({field: "Tệp không phải PDF."})
    return data


def clean_filename(filename: str | None, default: str = "van-ban.pdf") -> str:
    """The file's own name (no folder), bounded; ``default`` when none was given."""
    # A line break or tab (a multipart name may carry them, RFC 2231) would follow the name into every download.
    name = " ".join((filename or "").replace("\\", "/").rsplit("/", 1)[-1].split())
    if problem := text_problem(name):
        raise ValidationFailed({"file": f"Tên tệp: {problem}"})
    return name[-255:] or default


def store(session: Session, content: bytes) -> str:
    """Keep ``content`` once (when no stored file holds those bytes yet) and return its SHA-256, the key that
    versions and incoming documents point at.

    One statement, without reading the row back: two uploads of the same bytes at once both succeed (the
    second insert does nothing), and a file uploaded again is not written twice.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(StoredFile)
        .values(sha256=sha256, size=len(content), content=content)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha256


def add_version(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    kind: FileKind,
    content: bytes,
    filename: str | None,
    appendix: int | None = None,
) -> DocumentFile:
    """Keep ``content`` as a new version of the document's ``kind`` file (of appendix ``appendix``).

    No audit entry: the step that produced the version records one (its transition or edit), and its flush
    writes the version too.
    """
    refuse_if_paper_only(doc)
    version = DocumentFile(
        document=doc,
        kind=kind,
        appendix=appendix,
        filename=clean_filename(filename),
        sha256=store(session, content),
        created_by_id=by.id,
    )
    session.add(version)
    return version


def add_draft(
    session: Session, by: Account, doc: OutgoingDocument, content: bytes, filename: str | None
) -> DocumentFile:
    """Keep a new draft and the version prepared for signing from it (number, date and signature fields at
    the proposed signer's block); the draft version. A PDF that cannot be prepared is refused with
    token_agent's reason."""
    # pyHanko is loaded only when a draft is prepared, not with every page of the service.
    from token_agent.errors import DocumentError
    from token_agent.signing import prepare

    refuse_if_paper_only(doc)
    try:
        prepared = prepare(content, signer_name=doc.signer.full_name).pdf
    except DocumentError as error:  # PlacementNotFoundError too
        raise ValidationFailed({"file": error.message}) from error
    draft = add_version(session, by, doc, FileKind.DRAFT, content, filename)
    add_version(session, by, doc, FileKind.PREPARED, prepared, filename)
    return draft


def latest(doc: OutgoingDocument, kind: FileKind, appendix: int | None = None) -> DocumentFile | None:
    """The newest version of the document's ``kind`` file (of appendix ``appendix``), or None."""
    return next((f for f in reversed(doc.files) if f.kind is kind and f.appendix == appendix), None)


def _newest(document_id: int, kind: FileKind, appendix: int | None, *columns) -> Select:
    """``columns`` of the newest version of a document's ``kind`` file (of appendix ``appendix``)."""
    return (
        select(*columns)
        .where(
            DocumentFile.document_id == document_id,
            DocumentFile.kind == kind,
            DocumentFile.appendix.is_(None) if appendix is None else DocumentFile.appendix == appendix,
        )
        .order_by(DocumentFile.id.desc())
        .limit(1)
    )


def latest_sha256(session: Session, document_id: int, kind: FileKind, appendix: int | None = None) -> str | None:
    """The SHA-256 of :func:`latest`'s version, read without loading the document's versions."""
    return session.scalar(_newest(document_id, kind, appendix, DocumentFile.sha256))


def latest_content(
    session: Session, document_id: int, kind: FileKind, appendix: int | None = None, *, up_to: int | None = None
) -> tuple[str, bytes | None] | None:
    """The SHA-256 and bytes of :func:`latest`'s version, read in one statement without loading the document;
    with ``up_to``, the bytes only of a file of at most that many (None for a larger one, left in the database).
    """
    content = StoredFile.content if up_to is None else case((StoredFile.size <= up_to, StoredFile.content))
    newest = _newest(document_id, kind, appendix, DocumentFile.sha256, content.label("content"))
    found = session.execute(newest.join(StoredFile, StoredFile.sha256 == DocumentFile.sha256)).first()
    return None if found is None else (found.sha256, found.content)


def content(document_file: DocumentFile) -> bytes:
    return document_file.stored.content
