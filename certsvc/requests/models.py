"""Certificate requests, the events of their lifecycle, and the batches that consolidate them.

A request's type-specific data is validated JSON (:mod:`certsvc.requests.fields` says what);
what queries need has typed columns: type, status, unit, and the subject it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from markupsafe import Markup, escape
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.registry.models import Certificate, Token
from certsvc.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:  # the documents capability's models import nothing from requests, but load after them
    from certsvc.documents.models import OutgoingDocument

__all__ = [
    "RequestType",
    "RequestStatus",
    "BatchStatus",
    "CertificateRequest",
    "RequestEvent",
    "RequestAttachment",
    "Batch",
    "SubjectLine",
    "subject_line",
]


class RequestType(LabelledEnum):
    NEW_INDIVIDUAL = "new_individual", "Cấp mới chứng thư số cá nhân"
    NEW_ORGANISATION = "new_organisation", "Cấp mới chứng thư số cơ quan, tổ chức"
    NEW_DEVICE = "new_device", "Cấp mới chứng thư số thiết bị, dịch vụ, phần mềm"
    RENEWAL = "renewal", "Gia hạn chứng thư số"
    CHANGE = "change", "Thay đổi nội dung thông tin chứng thư số"
    REVOCATION = "revocation", "Thu hồi chứng thư số"
    RECOVERY = "recovery", "Khôi phục thiết bị lưu khóa bí mật"


class RequestStatus(LabelledEnum):
    DRAFT = "draft", "Dự thảo"
    APPROVED = "approved", "Đã phê duyệt"
    SUBMITTED = "submitted", "Đã gửi đầu mối"
    RETURNED = "returned", "Bị trả lại"
    ACCEPTED = "accepted", "Đã tiếp nhận"
    IN_BATCH = "in_batch", "Trong đợt tổng hợp"
    SENT = "sent", "Đã gửi cơ quan cấp"
    DONE = "done", "Hoàn thành"
    REJECTED = "rejected", "Bị từ chối"
    CANCELLED = "cancelled", "Đã hủy"

    @property
    def tone(self) -> str:
        """The badge colour: ok (moving on or done), warn (waiting for someone), bad (ended without a
        certificate), or none for a draft."""
        return _STATUS_TONES.get(self, "")


_STATUS_TONES = {
    "done": "ok",
    "accepted": "ok",
    "in_batch": "ok",
    "sent": "ok",
    "returned": "warn",
    "approved": "warn",
    "submitted": "warn",
    "rejected": "bad",
    "cancelled": "bad",
}

#: A request in one of these statuses is closed: it no longer blocks a new one for the same subject.
CLOSED_STATUSES = frozenset({RequestStatus.DONE, RequestStatus.REJECTED, RequestStatus.CANCELLED})


class SubjectLine(NamedTuple):
    """Whom or what a request concerns, as lists and annexes name it."""

    name: str
    #: Which registry record, when the request names one: ``chứng thư 1A2B3C4D``, ``thiết bị 0123``.
    record: str | None = None

    def __html__(self) -> str:
        """How a page shows it: the name, then the record in muted text."""
        if self.record is None:
            return escape(self.name)
        return Markup(f'{escape(self.name)} <span class="muted">({escape(self.record)})</span>')


def subject_line(
    data: Mapping[str, object],
    *,
    certificate_cn: str | None = None,
    certificate_serial: str | None = None,
    token_serial: str | None = None,
    token_user: str | None = None,
) -> SubjectLine:
    """The subject of a request: the certificate's holder or the token's user when it names a registry
    record, else the person, organisation or device its form describes."""
    if certificate_cn is not None:
        return SubjectLine(certificate_cn, f"chứng thư {(certificate_serial or '')[-8:]}")
    if token_serial is not None:
        return SubjectLine(token_user or "", f"thiết bị {token_serial}")
    serial = data.get("certificate_serial")
    named = (
        data.get("full_name"),
        data.get("org_name"),
        data.get("device_name"),
        serial.upper() if isinstance(serial, str) else serial,
        data.get("token_serial"),
    )
    return SubjectLine(str(next((value for value in named if value), "—")))


class BatchStatus(LabelledEnum):
    OPEN = "open", "Đang tổng hợp"
    LOCKED = "locked", "Đã chốt"
    SENT = "sent", "Đã gửi"


class Batch(Model):
    """An "đợt tổng hợp": accepted requests that the focal office proposes in one letter."""

    __tablename__ = "request_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_office_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    #: Who signs the proposal letter: the position lines ("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH") and the name.
    signer_title: Mapped[str] = mapped_column(String(200))
    signer_name: Mapped[str] = mapped_column(String(200))
    #: The letter's "Kính gửi": the batch's own when the officer set one, else frozen from the focal office's
    #: setting when the batch is locked, so the letter reads the same after the office changes it. NULL for
    #: batches locked before it was kept (and while open without one): the office's current setting applies.
    letter_recipient: Mapped[str | None] = mapped_column(String(255))
    #: The letter's "Nơi nhận" as the officer set it for this batch, one line each as printed ("Như trên;",
    #: "Lưu: VT, VHTT."); NULL: the focal office's usual lines (:func:`certsvc.requests.letters.usual_distribution`).
    distribution_lines: Mapped[str | None] = mapped_column(Text)
    #: The "Bản điện tử:" part of "Nơi nhận" (those who get the letter electronically only), one line each;
    #: NULL: none.
    electronic_distribution_lines: Mapped[str | None] = mapped_column(Text)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus), default=BatchStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The proposal letter as an outgoing document of the focal office (drafted, reviewed, signed, numbered
    #: from the register and issued by the documents capability); NULL before it is created, and for batches
    #: sent before letters were documents. A cancelled letter is replaced by a new one.
    letter_document_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_document.id"), unique=True)
    #: "Số và ký hiệu" of the proposal letter, e.g. ``12/UBND-VHTT``, and its date: copied from the issued
    #: letter's register entry when the batch is sent (typed by the officer for batches sent before).
    document_number: Mapped[str | None] = mapped_column(String(50))
    document_date: Mapped[date | None] = mapped_column(Date())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    focal_office: Mapped[Organisation] = relationship()
    letter_document: Mapped[OutgoingDocument | None] = relationship()
    requests: Mapped[list[CertificateRequest]] = relationship(back_populates="batch", order_by="CertificateRequest.id")

    def __repr__(self) -> str:
        return f"<Batch {self.id} {self.status.value}>"


class CertificateRequest(Model):
    __tablename__ = "certificate_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_type: Mapped[RequestType] = mapped_column(enum_column(RequestType), index=True)
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.DRAFT, index=True)
    #: The unit that makes the request (and manages the subscriber).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The type's fields, cleaned by :mod:`certsvc.requests.fields`.
    data: Mapped[dict] = mapped_column(JSON)
    #: What the request is about, for the "one open request per subject" check:
    #: ``cccd:…``, ``tax:…``, ``device:…``, ``certificate:…`` or ``token:…``.
    subject_key: Mapped[str] = mapped_column(String(200), index=True)
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("token.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("request_batch.id"), index=True)
    #: The certificate the CA issued in answer (new certificates and renewals).
    issued_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the request last reached the focal office: the queue's age counts from here.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    certificate: Mapped[Certificate | None] = relationship(foreign_keys=[certificate_id])
    issued_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[issued_certificate_id])
    token: Mapped[Token | None] = relationship()
    batch: Mapped[Batch | None] = relationship(back_populates="requests")
    events: Mapped[list[RequestEvent]] = relationship(back_populates="request", order_by="RequestEvent.id")
    #: Every file ever attached, removed ones too (their removal is part of the record).
    attachments: Mapped[list[RequestAttachment]] = relationship(
        back_populates="request", order_by="RequestAttachment.id"
    )

    @property
    def current_attachments(self) -> list[RequestAttachment]:
        return [a for a in self.attachments if a.removed_at is None]

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def unit_name(self) -> str:
        return self.organisation.name

    @property
    def subject_line(self) -> SubjectLine:
        certificate, token = self.certificate, self.token
        if certificate is not None:
            return subject_line(
                self.data, certificate_cn=certificate.subject_cn, certificate_serial=certificate.serial_hex
            )
        if token is not None:
            user = token.holder.full_name if token.holder else token.organisation.name
            return subject_line(self.data, token_serial=token.serial, token_user=user)
        return subject_line(self.data)

    def __repr__(self) -> str:
        return f"<CertificateRequest {self.id} {self.request_type.value} {self.status.value}>"


# The lists' indexes. The focal office's queue: by status in list order (oldest submission first, then
# the newest request), with the unit and the type in the index so that the filters, the count and a
# deep page are answered from it alone. A unit's own requests: by unit, then submission.
Index(
    "ix_certificate_request_queue",
    CertificateRequest.status,
    CertificateRequest.submitted_at,
    CertificateRequest.id.desc(),
    CertificateRequest.organisation_id,
    CertificateRequest.request_type,
)
Index("ix_certificate_request_unit_list", CertificateRequest.organisation_id, CertificateRequest.submitted_at)


class RequestEvent(Model):
    """One step of a request's life: the action, from and to which status, who, when, and the comment."""

    __tablename__ = "request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("certificate_request.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[RequestStatus | None] = mapped_column(enum_column(RequestStatus))
    to_status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[CertificateRequest] = relationship(back_populates="events")


class RequestAttachment(Model):
    """A file the unit attached to its request (the scanned CCCD, the signed written request): a PDF, JPEG or
    PNG whose bytes are stored once by their SHA-256 like the documents' files. Removing it only marks it."""

    __tablename__ = "request_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("certificate_request.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))
    #: The name it was uploaded with (no folder), given back on download.
    filename: Mapped[str] = mapped_column(String(255))
    #: ``application/pdf``, ``image/jpeg`` or ``image/png``: what the bytes were recognised as.
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    #: What the file is, e.g. "CCCD của người đề nghị cấp".
    description: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    request: Mapped[CertificateRequest] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<RequestAttachment {self.id} {self.filename!r}>"
