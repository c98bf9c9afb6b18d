"""Readiness of units before go-live: the token check reports received, the assisted checks at the focal office
and each unit's go-live date.

A check report is evidence: it is kept exactly as received (its JSON text and SHA-256) with what the service
read from it, and the database refuses to change or delete it or its token rows (append-only triggers).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.accounts.models import Account
from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, Token
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = [
    "ReportSource",
    "CheckStatus",
    "VisitAction",
    "CheckReport",
    "CheckedToken",
    "AssistedVisit",
    "GoLive",
    "ReadinessVersion",
]


class ReportSource(LabelledEnum):
    """How a report reached the service."""

    AGENT = "agent", "Phần mềm ký số gửi lên"
    UPLOAD = "upload", "Tải tệp kết quả kiểm tra"
    VISIT = "visit", "Kiểm tra tại cơ quan đầu mối"


class CheckStatus(LabelledEnum):
    """The worst status among a token's checks (token_agent's PASS, WARN, FAIL, SKIP)."""

    PASS = "PASS", "Đạt"
    WARN = "WARN", "Cảnh báo"
    FAIL = "FAIL", "Không đạt"
    SKIP = "SKIP", "Không kiểm tra được"

    @property
    def tone(self) -> str:
        return {"PASS": "ok", "WARN": "warn", "FAIL": "bad"}.get(self.value, "")


class VisitAction(LabelledEnum):
    """What the focal officer did for a visitor."""

    DRIVER_INSTALLED = "driver_installed", "Cài trình điều khiển thiết bị"
    CERTIFICATE_IMPORTED = "certificate_imported", "Cài chứng thư số"
    PIN_UNLOCKED = "pin_unlocked", "Mở khóa mã PIN"
    NOTHING_POSSIBLE = "nothing_possible", "Không khắc phục được"


class CheckReport(Model):
    """One ``token-agent check`` report (schema ``token-agent.check/1``) as received, never edited."""

    __tablename__ = "check_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The JSON text exactly as received.
    raw: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    schema: Mapped[str] = mapped_column(String(40))
    #: When the agent ran the check, by the report (the PC's clock).
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    #: The unit the report is filed under: that of its first registered token, else the uploader's.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    source: Mapped[ReportSource] = mapped_column(enum_column(ReportSource))
    #: The computer or place where the check ran, as the uploader wrote it.
    place: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[CheckStatus] = mapped_column(enum_column(CheckStatus))
    #: At least one test signature in the report was verified here against the registered certificate.
    test_signature_verified: Mapped[bool] = mapped_column(default=False)

    uploaded_by: Mapped[Account] = relationship()
    organisation: Mapped[Organisation] = relationship()
    tokens: Mapped[list[CheckedToken]] = relationship(back_populates="report", order_by="CheckedToken.position")


class CheckedToken(Model):
    """One token in a report, matched against the registries; never edited."""

    __tablename__ = "checked_token"
    __table_args__ = (Index("ix_checked_token_token_id_report_id", "token_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("check_report.id"), index=True)
    position: Mapped[int] = mapped_column()
    token_serial: Mapped[str] = mapped_column(String(64))
    token_label: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("token.id"))
    #: SHA-256 thumbprint (hex) of the certificate the report names on this token, if any.
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    status: Mapped[CheckStatus] = mapped_column(enum_column(CheckStatus))
    #: The checks that did not pass: ``[{"id", "status", "message", "hint"}, ...]``.
    failing_checks: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    #: The token's serial or its certificate is not in the registry, or they do not belong together (the token is
    #: then the certificate's, when the certificate is registered on one).
    flagged_unknown: Mapped[bool] = mapped_column(default=False)
    #: A test signature was in the report and verified here with the registered certificate's public key.
    test_signature_ok: Mapped[bool] = mapped_column(default=False)

    report: Mapped[CheckReport] = relationship(back_populates="tokens")
    token: Mapped[Token | None] = relationship()
    certificate: Mapped[Certificate | None] = relationship()

    @property
    def failing_ids(self) -> list[str]:
        return [check["id"] for check in self.failing_checks]


class AssistedVisit(Model):
    """A visitor's token checked and fixed at the focal office (seed 000 item 3)."""

    __tablename__ = "assisted_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    focal_officer_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    visitor_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: The visitor's name as said at the desk (the person's name when registered).
    visitor_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("token.id"))
    computer: Mapped[str | None] = mapped_column(String(200))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("check_report.id"))
    #: :class:`VisitAction` values, in their declared order.
    actions: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(Text)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    focal_officer: Mapped[Account] = relationship()
    visitor: Mapped[Person | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    token: Mapped[Token | None] = relationship()
    report: Mapped[CheckReport | None] = relationship()

    @property
    def action_labels(self) -> list[str]:
        return [VisitAction(value).label for value in self.actions]


class GoLive(Model):
    """The day a unit starts issuing documents signed digitally (its go-live), as planned."""

    __tablename__ = "go_live"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    go_live_on: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReadinessVersion(Model):
    """One row whose value names the current state of what decides the units' readiness.

    Database triggers (migration 0013) give it a new random value in the same transaction as any change of
    what a unit's state is worked out from: a token checked, a certificate issued, revoked, moved or entered
    in error, a token's state, a head's role or account. A server process keeps the units' states it worked
    out by this value (:func:`certsvc.readiness.board.readiness_board`); the passing of time is its own limit.
    """

    __tablename__ = "readiness_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(36))
