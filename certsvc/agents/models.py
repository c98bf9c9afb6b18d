"""Signing agents paired with an account, the one-time codes that pair them, and the jobs they carry out.

Only SHA-256 digests of the pairing codes and the agents' credentials are kept; the secrets themselves are shown
once (the code on the page, the credential in the answer to the agent's pairing call).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.accounts.models import Account
from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.documents.models import OutgoingDocument
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["JobRole", "JobStatus", "PairingCode", "SigningAgent", "AgentJob"]


class JobRole(LabelledEnum):
    """What an agent job asks the agent to do."""

    APPROVE = "approve", "Ký duyệt"
    ISSUE = "issue", "Ký phát hành"
    APPENDIX = "appendix", "Ký phụ lục"
    CHECK = "check", "Kiểm tra thiết bị ký số"


class JobStatus(LabelledEnum):
    """Where a job stands: waiting for its agent, then done or failed (at most once)."""

    PENDING = "pending", "Chờ phần mềm ký số"
    DONE = "done", "Đã xong"
    FAILED = "failed", "Không thành công"


class PairingCode(Model):
    """A one-time code an account's user gives a new agent; at most one unused code per account counts."""

    __tablename__ = "pairing_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When an agent paired with it, or when a newer code voided it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()


class SigningAgent(Model):
    """A ``token-agent`` on one PC, acting for one account with its own credential until revoked."""

    __tablename__ = "signing_agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    #: The PC's name, as the agent reported it when pairing.
    device_name: Mapped[str] = mapped_column(String(100))
    credential_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the credential, to recognise it in the agent's pairing file.
    credential_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    revoked_by: Mapped[Account | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AgentJob(Model):
    """One signature (or token check) an account asked an agent for, on one document file, used at most once."""

    __tablename__ = "agent_job"

    #: A random, unguessable id (the page hands it to the agent).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    #: The agent that uploaded the job's result or cancelled it (NULL while pending).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("signing_agent.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_document.id"), index=True)
    role: Mapped[JobRole] = mapped_column(enum_column(JobRole))
    appendix_no: Mapped[int | None] = mapped_column(Integer)
    #: The SHA-256 of the file the agent is to sign (NULL for a check).
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 digests of the certificates whose signature the server will accept.
    accepted_certificates: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: For an issue: the full number ("06/UBND-VP"), the issuing date and the place printed beside it.
    number: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.PENDING)
    #: For a failed job: the refusal's stable code and its Vietnamese message.
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(1000))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()
    agent: Mapped[SigningAgent | None] = relationship()
    document: Mapped[OutgoingDocument | None] = relationship()
