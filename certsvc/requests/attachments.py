"""Files attached to a certificate request: the scanned CCCD the focal office asks for, the unit's signed
written request. PDF, JPEG or PNG, recognised by their bytes and bounded in size and number; the bytes are
stored once by their SHA-256 as the documents' files are (:func:`certsvc.documents.files.store`).

The unit attaches and removes files while it may still change the request (a draft, or returned to it);
whoever may see the request may download them. Each addition and removal is one audit entry; a removed file
stays listed in the record, not on the page.

No Flask here; the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import get_record
from certsvc.core.validation import FieldCollector, clean_text
from certsvc.documents import files
from certsvc.documents.models import StoredFile
from certsvc.errors import Conflict, NotFound, ValidationFailed
from certsvc.requests.models import CertificateRequest, RequestAttachment, RequestStatus
from certsvc.requests.service import ensure_can_change, ensure_can_view
from certsvc.timeutil import utcnow

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "MAX_ATTACHMENTS",
    "ATTACHABLE",
    "MEDIA_TYPES",
    "Upload",
    "Download",
    "add_attachment",
    "get_attachment",
    "remove_attachment",
    "download",
]

#: A scanned identity card or a letter of a few pages stays well below this.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Files kept on one request at once.
MAX_ATTACHMENTS = 10
#: Statuses in which the unit attaches and removes files: what the head approves and the focal office
#: receives does not change under them.
ATTACHABLE = frozenset({RequestStatus.DRAFT, RequestStatus.RETURNED})

#: The types accepted, by the bytes a file of that type starts with.
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
#: The media types of the files accepted.
MEDIA_TYPES = tuple(media_type for _, media_type in _SIGNATURES)


class Upload(files.Upload, Protocol):
    """What a form's file field gives (werkzeug's FileStorage): a stream and the name it was sent with."""

    filename: str | None


def _media_type(content: bytes) -> str:
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    raise ValidationFailed({"file": "Chỉ nhận tệp PDF, JPEG hoặc PNG."})


def _read(upload: Upload | None) -> bytes:
    """The upload's bytes, read no further than one byte past the limit."""
    content = upload.stream.read(MAX_ATTACHMENT_BYTES + 1) if upload is not None else b""
    if not content:
        raise ValidationFailed({"file": "Chọn tệp đính kèm (tệp đang trống)."})
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": f"Tệp lớn quá {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB."})
    return content


def _lock_attachable(session: Session, request: CertificateRequest) -> None:
    """Lock the request's row and refuse unless its status, read again, still takes files: two attachments at
    once count one after the other, and a request sent meanwhile takes no more."""
    status = session.scalar(
        select(CertificateRequest.status).where(CertificateRequest.id == request.id).with_for_update()
    )
    if status not in ATTACHABLE:
        raise Conflict(
            "Chỉ thêm, gỡ tệp đính kèm khi đề nghị là dự thảo hoặc bị trả lại "
            f"(đề nghị đang «{(status or request.status).label}»).",
            code="not_attachable",
        )


def add_attachment(
    session: Session, by: Account, request: CertificateRequest, upload: Upload | None, description: object
) -> RequestAttachment:
    """Attach the uploaded file to ``request``, for an account that may change it (PermissionDenied otherwise).
    ValidationFailed under ``file`` or ``description``; Conflict when the request no longer takes files or
    already has :data:`MAX_ATTACHMENTS`."""
    ensure_can_change(session, by, request)
    fields = FieldCollector({"description": description})
    text = fields.take("description", lambda value: clean_text(str(value or ""), max_length=200))
    fields.raise_if_failed()
    content = _read(upload)
    media_type = _media_type(content)
    filename = files.clean_filename(upload.filename if upload is not None else None, "tep-dinh-kem")
    _lock_attachable(session, request)
    session.refresh(request, ["attachments"])
    if len(request.current_attachments) >= MAX_ATTACHMENTS:
        raise ValidationFailed({"file": f"Mỗi đề nghị đính kèm tối đa {MAX_ATTACHMENTS} tệp: gỡ bớt tệp không cần."})
    attachment = RequestAttachment(
        request=request,
        sha256=files.store(session, content),
        filename=filename,
        media_type=media_type,
        size=len(content),
        description=text,
        uploaded_by_id=by.id,
        uploaded_at=utcnow(),
    )
    session.add(attachment)
    session.flush()
    record(
        session,
        Actor.of(by),
        "request.attachment_added",
        "certificate_request",
        request.id,
        {"attachment_id": attachment.id, "filename": filename, "sha256": attachment.sha256, "size": len(content)},
    )
    return attachment


def get_attachment(session: Session, request: CertificateRequest, attachment_id: object) -> RequestAttachment:
    """The request's attachment ``attachment_id`` (removed ones too), or NotFound: the id of another request's
    file names nothing here."""
    attachment = get_record(session, RequestAttachment, attachment_id, "Không tìm thấy tệp đính kèm.")
    if attachment.request_id != request.id:
        raise NotFound("Không tìm thấy tệp đính kèm.")
    return attachment


def remove_attachment(session: Session, by: Account, request: CertificateRequest, attachment_id: object) -> None:
    """Take the file off the request (it stays in the record, marked removed). Same checks as adding."""
    ensure_can_change(session, by, request)
    attachment = get_attachment(session, request, attachment_id)
    _lock_attachable(session, request)
    now = utcnow()
    removed = session.execute(
        update(RequestAttachment)
        .where(RequestAttachment.id == attachment.id, RequestAttachment.removed_at.is_(None))
        .values(removed_at=now, removed_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Tệp này đã được gỡ khỏi đề nghị.", code="already_removed")
    attachment.removed_at, attachment.removed_by_id = now, by.id
    record(
        session,
        Actor.of(by),
        "request.attachment_removed",
        "certificate_request",
        request.id,
        {"attachment_id": attachment.id, "filename": attachment.filename},
    )


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    content: bytes


def download(session: Session, by: Account, request: CertificateRequest, attachment_id: object) -> Download:
    """A current attachment's bytes, for an account that may view ``request`` (PermissionDenied otherwise)."""
    ensure_can_view(session, by, request)
    attachment = get_attachment(session, request, attachment_id)
    if attachment.removed_at is not None:
        raise NotFound("Tệp này đã được gỡ khỏi đề nghị.")
    stored = session.get(StoredFile, attachment.sha256)
    assert stored is not None  # the foreign key keeps it
    return Download(attachment.filename, attachment.media_type, stored.content)
