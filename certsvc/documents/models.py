"""Electronic documents: outgoing ones from draft to issue, incoming ones from arrival to direction, the
number registers, the files every step produced, and the timeline of each document.

Files are kept in the database (:class:`StoredFile`, addressed by their SHA-256), so that a backup of the
database holds them; a document's versions point at them and are never overwritten.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SQLColumnExpression,
    String,
    Text,
    UniqueConstraint,
    case,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Certificate
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = [
    "Urgency",
    "urgent_first",
    "Secrecy",
    "DocumentStatus",
    "FileKind",
    "Series",
    "NumberState",
    "IncomingStatus",
    "DocumentType",
    "StoredFile",
    "OutgoingDocument",
    "DocumentRecipient",
    "DocumentFile",
    "DocumentEvent",
    "NumberCounter",
    "NumberEntry",
    "IncomingDocument",
    "IncomingEvent",
]


class Urgency(LabelledEnum):
    """Độ khẩn (Nghị định 30/2020): urgent documents come first in every list and are sent at once."""

    NORMAL = "normal", "Thường"
    URGENT = "urgent", "Khẩn"
    VERY_URGENT = "very_urgent", "Thượng khẩn"
    FLASH = "flash", "Hỏa tốc"

    @property
    def rank(self) -> int:
        """Sort key: 0 for Hỏa tốc, the most urgent, up to 3 for an ordinary document."""
        return _URGENCY_RANK[self]

    @property
    def tone(self) -> str:
        return "" if self is Urgency.NORMAL else "bad"


_URGENCY_RANK = {Urgency.FLASH: 0, Urgency.VERY_URGENT: 1, Urgency.URGENT: 2, Urgency.NORMAL: 3}


def urgent_first(column: SQLColumnExpression[Urgency]) -> ColumnElement[int]:
    """An ORDER BY key of an urgency column: Hỏa tốc first, an ordinary document last (:attr:`Urgency.rank`)."""
    return case(*((column == urgency, urgency.rank) for urgency in Urgency), else_=len(Urgency))


class Secrecy(LabelledEnum):
    """Độ mật. A document holding state secrets is never stored or sent electronically: paper only."""

    NORMAL = "normal", "Thường"
    SECRET = "secret", "Mật"
    TOP_SECRET = "top_secret", "Tối mật"
    ULTRA_SECRET = "ultra_secret", "Tuyệt mật"

    @property
    def paper_only(self) -> bool:
        return self is not Secrecy.NORMAL


class DocumentStatus(LabelledEnum):
    """Where an outgoing document is in the five steps (seed 000 Phụ lục; seed 003 Điều 12)."""

    DRAFT = "draft", "Dự thảo"
    IN_REVIEW = "in_review", "Chờ thẩm định"
    RETURNED = "returned", "Bị trả lại"
    AWAITING_SIGNATURE = "awaiting_signature", "Chờ ký duyệt"
    SIGNED = "signed", "Đã ký duyệt, chờ lấy số"
    NUMBERED = "numbered", "Đã lấy số, chờ ký phát hành"
    ISSUED = "issued", "Đã ký phát hành"
    SENT = "sent", "Đã phát hành"
    RECALLED = "recalled", "Đã thu hồi"
    CANCELLED = "cancelled", "Đã hủy"
    #: A secret document: only its register entry is kept, the document itself is on paper.
    PAPER = "paper", "Bản giấy (văn bản mật)"

    @property
    def tone(self) -> str:
        return _STATUS_TONES.get(self, "")


_STATUS_TONES = {
    DocumentStatus.IN_REVIEW: "warn",
    DocumentStatus.AWAITING_SIGNATURE: "warn",
    DocumentStatus.SIGNED: "warn",
    DocumentStatus.NUMBERED: "warn",
    DocumentStatus.RETURNED: "bad",
    DocumentStatus.ISSUED: "ok",
    DocumentStatus.SENT: "ok",
    DocumentStatus.PAPER: "ok",
    DocumentStatus.RECALLED: "bad",
    DocumentStatus.CANCELLED: "bad",
}


class FileKind(LabelledEnum):
    """What a stored version of a document is."""

    DRAFT = "draft", "Dự thảo (tệp gốc)"
    PREPARED = "prepared", "Dự thảo đã chuẩn bị để ký"
    APPROVED = "approved", "Đã ký duyệt"
    ISSUED = "issued", "Đã ký phát hành"
    APPENDIX_DRAFT = "appendix_draft", "Phụ lục (tệp gốc)"
    APPENDIX_ISSUED = "appendix_issued", "Phụ lục đã ký"
    COPY_SOURCE = "copy_source", "Bản số hóa từ bản giấy"
    COPY = "copy", "Bản sao điện tử đã ký"
    INCOMING = "incoming", "Văn bản đến"


class Series(LabelledEnum):
    """A numbering series of an organisation's year: outgoing documents, secret ones apart, incoming ones."""

    OUTGOING = "outgoing", "Văn bản đi"
    OUTGOING_SECRET = "outgoing_secret", "Văn bản đi (mật)"
    INCOMING = "incoming", "Văn bản đến"


class NumberState(LabelledEnum):
    TAKEN = "taken", "Đã cấp số, chờ ban hành"
    USED = "used", "Đã ban hành"
    ABANDONED = "abandoned", "Số bị hủy (không dùng lại)"


class IncomingStatus(LabelledEnum):
    """An incoming document: waiting for the clerk's check, registered, or returned to its sender."""

    RECEIVED = "received", "Chờ kiểm tra, vào sổ"
    REGISTERED = "registered", "Đã vào sổ"
    RETURNED = "returned", "Đã trả lại"

    @property
    def tone(self) -> str:
        return {"received": "warn", "registered": "ok", "returned": "bad"}[self.value]


class DocumentType(Model):
    """A type of document and the abbreviation its symbol uses (Quyết định → QĐ: ``12/QĐ-UBND``).

    A công văn has no abbreviation: its symbol is the issuing body's, then the drafting unit's
    (``193/UBND-VHTT``). Kept as data: bodies add their own types.
    """

    __tablename__ = "document_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    abbreviation: Mapped[str | None] = mapped_column(String(10), unique=True)
    sort_order: Mapped[int] = mapped_column(default=100)
    is_active: Mapped[bool] = mapped_column(default=True)

    @property
    def is_dispatch(self) -> bool:
        """A công văn: numbered with the drafting unit's symbol instead of the type's."""
        return self.abbreviation is None


class StoredFile(Model):
    """A file's bytes, once, addressed by their SHA-256: versions and copies share it."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    #: Loaded only when read: lists of versions and the check for an existing copy need the hash and size.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutgoingDocument(Model):
    """A văn bản đi: drafted by a unit, signed by a competent person of the issuing body, numbered and
    signed by the body's clerk with the organisation's key, then sent to its recipients."""

    __tablename__ = "outgoing_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[DocumentStatus] = mapped_column(enum_column(DocumentStatus), default=DocumentStatus.DRAFT)
    #: The body in whose name the document is issued (its clerk numbers and seals it).
    issuing_body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The unit that drafts it: the body itself or one of its offices.
    drafting_unit_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_type.id"))
    #: Trích yếu: what the document is about.
    summary: Mapped[str] = mapped_column(String(500))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    secrecy: Mapped[Secrecy] = mapped_column(enum_column(Secrecy), default=Secrecy.NORMAL)
    #: The proposed signer, a competent person of the issuing body.
    signer_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: The lines above the signer's position, e.g. "KT. CHỦ TỊCH" then "PHÓ CHỦ TỊCH" (one per line).
    authority_lines: Mapped[str] = mapped_column(String(300))
    #: Recipients outside the service, one per line, sent by other means.
    outside_recipients: Mapped[str | None] = mapped_column(Text)
    #: The "Nơi nhận" lines printed on the document, one per line.
    distribution_lines: Mapped[str | None] = mapped_column(Text)
    #: The incoming document this one answers.
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_document.id", use_alter=True))
    #: The number taken from the register, and the issuing date that came with it.
    number_entry_id: Mapped[int | None] = mapped_column(ForeignKey("number_entry.id"), unique=True)
    #: Certificates that made the two signatures, as the server checked them.
    personal_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    organisation_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the clerk sent it and the service confirmed the delivery to its recipients.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recall_reason: Mapped[str | None] = mapped_column(String(500))

    issuing_body: Mapped[Organisation] = relationship(foreign_keys=[issuing_body_id])
    drafting_unit: Mapped[Organisation] = relationship(foreign_keys=[drafting_unit_id])
    document_type: Mapped[DocumentType] = relationship()
    signer: Mapped[Person] = relationship()
    number_entry: Mapped[NumberEntry | None] = relationship(foreign_keys=[number_entry_id])
    personal_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[personal_certificate_id])
    organisation_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[organisation_certificate_id])
    recipients: Mapped[list[DocumentRecipient]] = relationship(
        back_populates="document", order_by="DocumentRecipient.id", cascade="all, delete-orphan"
    )
    files: Mapped[list[DocumentFile]] = relationship(back_populates="document", order_by="DocumentFile.id")
    events: Mapped[list[DocumentEvent]] = relationship(back_populates="document", order_by="DocumentEvent.id")

    def __repr__(self) -> str:
        return f"<OutgoingDocument {self.id} {self.status.value}>"


Index("ix_outgoing_document_lists", OutgoingDocument.status, OutgoingDocument.issuing_body_id, OutgoingDocument.id)
#: Who signed with a certificate lately (the readiness board's "signs in the period", the idle signers' report).
Index(
    "ix_outgoing_document_personal_certificate",
    OutgoingDocument.personal_certificate_id,
    OutgoingDocument.approved_at,
)


class DocumentRecipient(Model):
    """A unit inside the service that an outgoing document goes to (its incoming list receives it)."""

    __tablename__ = "document_recipient"
    __table_args__ = (UniqueConstraint("document_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_document.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)

    document: Mapped[OutgoingDocument] = relationship(back_populates="recipients")
    organisation: Mapped[Organisation] = relationship()


class DocumentFile(Model):
    """One version of one of a document's files, as a step produced it; later steps add versions."""

    __tablename__ = "document_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_document.id"), index=True)
    kind: Mapped[FileKind] = mapped_column(enum_column(FileKind))
    #: Which appendix (1, 2, …) for the appendix kinds; NULL for the document itself.
    appendix: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[OutgoingDocument] = relationship(back_populates="files")
    stored: Mapped[StoredFile] = relationship()


class DocumentEvent(Model):
    """One step of an outgoing document's life: action, statuses, who, when, comment and what was checked."""

    __tablename__ = "document_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_document.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[DocumentStatus | None] = mapped_column(enum_column(DocumentStatus))
    to_status: Mapped[DocumentStatus] = mapped_column(enum_column(DocumentStatus))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[OutgoingDocument] = relationship(back_populates="events")


class NumberCounter(Model):
    """The last number given in a series of an organisation's year; taking a number updates this row,
    so two clerks at the same moment wait for each other and get consecutive numbers."""

    __tablename__ = "number_counter"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[Series] = mapped_column(enum_column(Series), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class NumberEntry(Model):
    """A line of the outgoing register (sổ đăng ký văn bản đi): a number once given stays, used or abandoned."""

    __tablename__ = "number_entry"
    __table_args__ = (UniqueConstraint("issuing_body_id", "year", "series", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuing_body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    series: Mapped[Series] = mapped_column(enum_column(Series))
    number: Mapped[int] = mapped_column(Integer)
    #: The full "số và ký hiệu", e.g. ``193/UBND-VHTT``.
    symbol: Mapped[str] = mapped_column(String(60))
    issue_date: Mapped[date] = mapped_column(Date())
    state: Mapped[NumberState] = mapped_column(enum_column(NumberState), default=NumberState.TAKEN)
    abandon_reason: Mapped[str | None] = mapped_column(String(500))
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuing_body: Mapped[Organisation] = relationship()


class IncomingDocument(Model):
    """A văn bản đến of a receiving body: from another unit of the service, or registered from outside."""

    __tablename__ = "incoming_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[IncomingStatus] = mapped_column(enum_column(IncomingStatus), default=IncomingStatus.RECEIVED)
    receiving_body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The outgoing document it is, when it came from inside the service.
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_document.id"), index=True)
    sender_name: Mapped[str] = mapped_column(String(255))
    #: The sender's number and symbol and date, as the document carries them.
    original_number: Mapped[str | None] = mapped_column(String(60))
    original_date: Mapped[date | None] = mapped_column(Date())
    summary: Mapped[str] = mapped_column(String(500))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    #: The file received (for an internal document, the issued version); NULL for paper.
    sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_file.sha256"))
    filename: Mapped[str | None] = mapped_column(String(255))
    #: The "Kiểm tra ký số" report (schema token-agent.verify/1) made when it arrived.
    verification: Mapped[dict | None] = mapped_column(JSON)
    #: When it arrived, and when it counts as received (outside working hours: the next working session).
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "Đến: Số …": the arrival number of the body's year, given at registration.
    arrival_year: Mapped[int | None] = mapped_column(Integer)
    arrival_number: Mapped[int | None] = mapped_column(Integer)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    #: The head's direction: who handles it, by when, and what to do.
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    handle_by: Mapped[date | None] = mapped_column(Date())
    direction: Mapped[str | None] = mapped_column(Text)
    directed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the receiving clerk confirmed seeing that the sender recalled it.
    recall_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    receiving_body: Mapped[Organisation] = relationship()
    outgoing: Mapped[OutgoingDocument | None] = relationship(foreign_keys=[outgoing_id])
    handler: Mapped[Person | None] = relationship()
    stored: Mapped[StoredFile | None] = relationship()
    events: Mapped[list[IncomingEvent]] = relationship(back_populates="document", order_by="IncomingEvent.id")


Index(
    "ix_incoming_document_arrival",
    IncomingDocument.receiving_body_id,
    IncomingDocument.arrival_year,
    IncomingDocument.arrival_number,
    unique=True,
)


class IncomingEvent(Model):
    """One step of an incoming document: received, checked, registered or returned, directed, recall seen."""

    __tablename__ = "incoming_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_document.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[IncomingDocument] = relationship(back_populates="events")
