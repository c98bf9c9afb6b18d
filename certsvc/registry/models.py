"""The certificate and token registries.

A token's state changes only through :data:`certsvc.registry.tokens.TRANSITIONS`;
every change is a :class:`TokenEvent` with actor, time and reason. Who *keeps* an
organisation token is never stored here: the custody register derives it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = [
    "TokenKind",
    "TokenState",
    "Token",
    "TokenEvent",
    "Certificate",
    "TokenReturn",
    "ExpiryReminder",
    "TrustAnchor",
    "RevocationList",
]


class TokenKind(LabelledEnum):
    PERSONAL = "personal", "Cá nhân"
    ORGANISATION = "organisation", "Cơ quan, tổ chức"
    DEVICE = "device", "Thiết bị, dịch vụ, phần mềm"


class TokenState(LabelledEnum):
    IN_STOCK = "in_stock", "Chưa cấp phát"
    ACTIVE = "active", "Đang sử dụng"
    PIN_LOCKED = "pin_locked", "Khóa PIN"
    SUSPENDED = "suspended", "Tạm dừng"
    LOST = "lost", "Bị mất"
    DAMAGED = "damaged", "Hỏng"
    RETURNED = "returned", "Đã nộp lại"
    DESTROYED = "destroyed", "Đã hủy"


class Token(Model):
    """A key-storage device ("thiết bị lưu khóa bí mật") known by its serial."""

    __tablename__ = "token"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind))
    #: The unit that manages the token (and, for an organisation token, whose seal it is).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The person a personal token belongs to; none for organisation and device tokens.
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[TokenState] = mapped_column(enum_column(TokenState), default=TokenState.IN_STOCK)
    #: Managed as a state-secret item at level "MẬT" (always so for organisation tokens).
    is_secret: Mapped[bool] = mapped_column(default=False)
    #: Times a PIN-locked or damaged token was put back in service.
    recoveries: Mapped[int] = mapped_column(default=0)
    #: Tokens before this one in its replacement chain (0 for a first token).
    replacements: Mapped[int] = mapped_column(default=0)
    #: The token this one replaced, if any.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("token.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    holder: Mapped[Person | None] = relationship()
    replaces: Mapped[Token | None] = relationship(remote_side=[id])
    events: Mapped[list[TokenEvent]] = relationship(back_populates="token", order_by="TokenEvent.id")

    def __repr__(self) -> str:
        return f"<Token {self.serial} {self.state.value}>"


class TokenEvent(Model):
    """One state transition of a token: from, to, why, who, when."""

    __tablename__ = "token_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id"), index=True)
    from_state: Mapped[TokenState | None] = mapped_column(enum_column(TokenState))
    to_state: Mapped[TokenState] = mapped_column(enum_column(TokenState))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    token: Mapped[Token] = relationship(back_populates="events")


class Certificate(Model):
    """An X.509 certificate the CA issued, as registered from its file."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("issuer_dn", "serial_hex"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial_hex: Mapped[str] = mapped_column(String(64))
    subject_dn: Mapped[str] = mapped_column(String(1000))
    subject_cn: Mapped[str] = mapped_column(String(255))
    #: The UID attribute, e.g. ``CCCD:001234567890`` or ``MST:4900123456``.
    subject_uid: Mapped[str | None] = mapped_column(String(100), index=True)
    issuer_dn: Mapped[str] = mapped_column(String(1000))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    key_usage: Mapped[str | None] = mapped_column(String(255))
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("token.id"), index=True)
    #: The certificate this one renews; its successor is the one whose predecessor it is.
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(255))
    #: When the registry found this record was entered in error (a wrong file, a wrong unit): it is kept
    #: as evidence, but no list, board, reminder or request counts it any more.
    entered_in_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_in_error_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    holder: Mapped[Person | None] = relationship()
    token: Mapped[Token | None] = relationship()
    predecessor: Mapped[Certificate | None] = relationship(remote_side=[id], back_populates="successor")
    successor: Mapped[Certificate | None] = relationship(back_populates="predecessor", uselist=False)

    def __repr__(self) -> str:
        return f"<Certificate {self.serial_hex} {self.subject_cn!r}>"


class TokenReturn(Model):
    """The managing body's duty to hand a token back to the CA after a revocation.

    Opened when the certificate is revoked, due ``due_on`` (5 working days after the
    revocation); closed (``returned_at``) when the token moves to "returned".
    """

    __tablename__ = "token_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The last day (Vietnam calendar) the token may reach the CA.
    due_on: Mapped[date] = mapped_column(Date, index=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    token: Mapped[Token] = relationship()
    certificate: Mapped[Certificate | None] = relationship()


class ExpiryReminder(Model):
    """That a certificate came within ``threshold_days`` of its expiry, recorded once per threshold."""

    __tablename__ = "expiry_reminder"
    __table_args__ = (UniqueConstraint("certificate_id", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"))
    threshold_days: Mapped[int] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    certificate: Mapped[Certificate] = relationship()


class TrustAnchor(Model):
    """A CA certificate that signatures received on documents must chain to.

    In production, the root and issuing CA certificates of the government-specialised signature service,
    added by an administrator; removed ones stay listed (``removed_at``) and no longer count.
    """

    __tablename__ = "trust_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_dn: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RevocationList(Model):
    """A CRL of one of the trusted CAs; signatures are checked against the newest one of each issuer."""

    __tablename__ = "revocation_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_dn: Mapped[str] = mapped_column(String(1000), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    this_update: Mapped[datetime] = mapped_column(UTCDateTime())
    next_update: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
