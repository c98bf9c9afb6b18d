"""Agent jobs: one signature an account asks its signing agent for, on one document file, used at most once.

The document page creates the job (:func:`create_job`) after the checks of the manual step; the agent fetches
it and the file with its credential (:func:`job_for_agent`, :func:`job_file`) and uploads the signed file
(:func:`upload_result`), which runs the manual step's service as the job's account; or it cancels the job
(:func:`cancel_job`). The page polls :func:`job_status`. See docs/agent-protocol.md.
"""

from __future__ import annotations

import base64
import re
import secrets
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from certsvc.accounts.models import Account
from certsvc.agents.errors import Gone, JobOfAnotherAccount
from certsvc.agents.models import AgentJob, JobRole, JobStatus, SigningAgent
from certsvc.audit.service import Actor, record
from certsvc.core.transactions import commit_without_waiting_for_the_disk
from certsvc.core.transitions import busy_as_conflict
from certsvc.core.validation import FieldCollector, FieldError, parse_count, validated
from certsvc.documents import files, signing
from certsvc.documents.models import FileKind, OutgoingDocument
from certsvc.documents.transitions import Action, check_transition
from certsvc.errors import CertsvcError, Conflict, NotFound, ValidationFailed
from certsvc.orgs.names import place_name
from certsvc.policy import Permission, ensure
from certsvc.readiness.models import ReportSource
from certsvc.readiness.reports import store_report
from certsvc.registry.anchors import active_anchors
from certsvc.registry.models import Certificate, TokenKind
from certsvc.registry.tokens import custody_keeper_id, kept_in_custody_register
from certsvc.timeutil import utcnow
from token_agent.signing import format_number

__all__ = [
    "INLINE_FILE_BYTES",
    "JOB_LIFETIME",
    "OBJECT_TYPE",
    "JobState",
    "create_job",
    "accepted_certificates",
    "job_for_agent",
    "job_file",
    "describe",
    "upload_result",
    "cancel_job",
    "job_status",
]

JOB_LIFETIME = timedelta(minutes=5)
#: The largest file sent inside the job's description (base64 in the JSON, which an agent reads up to 1 MiB).
INLINE_FILE_BYTES = 512 * 1024
#: The audit log's object type of a job.
OBJECT_TYPE = "agent_job"
#: The most appendices a document may have, for bounding ``appendix_no``.
_MAX_APPENDIX = 99
#: The document step each signing role takes.
_ACTIONS = {JobRole.APPROVE: Action.APPROVE, JobRole.ISSUE: Action.ISSUE, JobRole.APPENDIX: Action.SIGN_APPENDIX}
#: The stored file each signing role signs.
_SIGNED_KIND = {
    JobRole.APPROVE: FileKind.PREPARED,
    JobRole.ISSUE: FileKind.APPROVED,
    JobRole.APPENDIX: FileKind.APPENDIX_DRAFT,
}
#: A reason an agent gives when it stops a job: a stable code of the protocol.
_REASON = re.compile(r"[a-z][a-z_]{0,63}")
_REASON_MESSAGES = {
    "user_cancelled": "Người dùng đã hủy việc ký trên phần mềm ký số.",
    "file_changed": "Tệp của văn bản đã thay đổi sau khi tạo yêu cầu ký; hãy bấm «Ký số» lại.",
}
_USED = "Yêu cầu ký này đã được dùng; hãy bấm «Ký số» trên trang văn bản để tạo yêu cầu mới."
_EXPIRED = "Yêu cầu ký đã hết hạn; hãy bấm «Ký số» trên trang văn bản để tạo yêu cầu mới."


@dataclass(frozen=True)
class JobState:
    """What the page reads while it waits: the job's status (``expired`` for one whose time ran out unused),
    the refusal's code and message for a failed job, and the document's status now."""

    status: str
    code: str | None
    message: str | None
    document_status: str | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "document_status": self.document_status,
        }


# --- creating a job (the page) ----------------------------------------------------------------------------


def _role(value: object) -> JobRole:
    try:
        return JobRole(str(value or ""))
    except ValueError:
        raise FieldError("Vai trò ký không hợp lệ.") from None


def _sha256_to_sign(session: Session, doc: OutgoingDocument, role: JobRole, appendix_no: int | None) -> str:
    """The SHA-256 of the stored version the role signs: the prepared file, the approved one, or the appendix's
    draft."""
    kind = _SIGNED_KIND[role]
    sha256 = files.latest_sha256(session, doc.id, kind, appendix_no)
    if sha256 is None:
        if role is JobRole.APPENDIX:
            raise NotFound("Không có phụ lục này.")
        raise Conflict(f"Văn bản chưa có tệp «{kind.label}».", code="file_missing")
    return sha256


def accepted_certificates(session: Session, by: Account, doc: OutgoingDocument, role: JobRole) -> list[str]:
    """SHA-256 of the registry's certificates in force whose signature the step accepts: the proposed signer's
    personal ones to approve; the issuing body's organisation ones to issue or sign an appendix, a token in the
    custody register only when ``by`` keeps it now (as :mod:`certsvc.documents.signing` checks on upload)."""
    now = utcnow()
    query = select(Certificate).where(
        Certificate.revoked_at.is_(None),
        Certificate.entered_in_error_at.is_(None),
        Certificate.not_before <= now,
        Certificate.not_after >= now,
    )
    if role is JobRole.APPROVE:
        query = query.where(Certificate.kind == TokenKind.PERSONAL, Certificate.holder_id == doc.signer_id)
    else:
        query = query.where(
            Certificate.kind == TokenKind.ORGANISATION, Certificate.organisation_id == doc.issuing_body_id
        )
    found = session.scalars(query.order_by(Certificate.id))
    return [
        cert.sha256
        for cert in found
        if role is JobRole.APPROVE
        or cert.token is None
        or not kept_in_custody_register(session, cert.token)
        or custody_keeper_id(session, cert.token) == by.person_id
    ]


def create_job(session: Session, by: Account, doc: OutgoingDocument | None, raw: Mapping[str, object]) -> AgentJob:
    """A new job of ``by`` (``raw``: ``role``, and ``appendix_no`` for an appendix), after exactly the checks the
    manual step makes first (NotFound, Conflict, PermissionDenied as the step raises them). A ``check`` job
    names no document; every other role names ``doc``."""
    fields = FieldCollector(raw)
    role = fields.take("role", _role)
    appendix_no = None
    if role is JobRole.APPENDIX:
        appendix_no = fields.take(
            "appendix_no",
            lambda value: parse_count(value, minimum=1, maximum=_MAX_APPENDIX, message="Số phụ lục không hợp lệ."),
        )
        if appendix_no is None and "appendix_no" not in fields.errors:
            fields.fail("appendix_no", "Chọn phụ lục để ký.")
    if role is JobRole.CHECK and doc is not None:
        fields.fail("role", "Kiểm tra thiết bị ký số không gắn với văn bản.")
    elif role is not None and role is not JobRole.CHECK and doc is None:
        fields.fail("role", "Chọn văn bản để ký.")
    fields.raise_if_failed()
    role = validated(role, "role")
    now = utcnow()
    job = AgentJob(
        id=secrets.token_urlsafe(24),
        account_id=by.id,
        role=role,
        appendix_no=appendix_no,
        accepted_certificates=[],
        created_at=now,
        expires_at=now + JOB_LIFETIME,
        status=JobStatus.PENDING,
    )
    if role is JobRole.CHECK:
        ensure(session, by, Permission.RECORD_READINESS)  # who may send a report, as the upload checks
    if doc is not None:
        check_transition(session, by, doc, _ACTIONS[role])
        job.document_id = doc.id
        job.file_sha256 = _sha256_to_sign(session, doc, role, appendix_no)
        job.accepted_certificates = accepted_certificates(session, by, doc, role)
        entry = doc.number_entry
        if entry is not None and role in (JobRole.ISSUE, JobRole.APPENDIX):
            job.number = format_number(entry.symbol)
            job.issue_date = entry.issue_date
            job.place = place_name(doc.issuing_body)
    session.add(job)
    session.flush()
    commit_without_waiting_for_the_disk(session)  # a job lost in a crash is asked for again with one click
    return job


# --- the agent's side -------------------------------------------------------------------------------------

#: A job is read with its document and what the agent is told of it, in one statement.
_WITH_DOCUMENT = [
    joinedload(AgentJob.document).options(
        joinedload(OutgoingDocument.document_type), joinedload(OutgoingDocument.issuing_body)
    )
]


def job_for_agent(session: Session, agent: SigningAgent, job_id: str) -> AgentJob:
    """The job, if the agent's account asked for it and it may still be used; refusals as the protocol says.
    Reading it changes nothing: an agent is bound to the job when it uploads or cancels, and :func:`_claim` lets
    one of those through."""
    job = session.get(AgentJob, job_id, options=_WITH_DOCUMENT) if len(job_id) <= 64 else None
    if job is None:
        raise NotFound("Không có yêu cầu ký này.", code="job_unknown")
    if job.account_id != agent.account_id:
        raise JobOfAnotherAccount("Yêu cầu ký này là của tài khoản khác, không phải tài khoản đã ghép nối.")
    if job.finished_at is not None:
        raise Conflict(_USED, code="job_used")
    if job.expires_at <= utcnow():
        raise Gone(_EXPIRED, code="job_expired")
    return job


def job_file(session: Session, agent: SigningAgent, job_id: str) -> bytes:
    """The file the job signs, as the job named it (Conflict ``file_changed`` when the document moved on)."""
    job = job_for_agent(session, agent, job_id)
    if job.document_id is None:
        raise NotFound("Yêu cầu này không có tệp để ký.", code="no_file")
    found = files.latest_content(session, job.document_id, _SIGNED_KIND[job.role], job.appendix_no)
    if found is None or found[0] != job.file_sha256 or found[1] is None:
        raise Conflict(_REASON_MESSAGES["file_changed"], code="file_changed")
    return found[1]


def _inline_file(session: Session, job: AgentJob) -> dict[str, str]:
    """``file_base64``: the file to sign, when it is unchanged and at most :data:`INLINE_FILE_BYTES` (it then
    comes with the job, one request fewer; a larger one is fetched from ``file_url``)."""
    if job.document_id is None or job.role is JobRole.CHECK:
        return {}
    found = files.latest_content(
        session, job.document_id, _SIGNED_KIND[job.role], job.appendix_no, up_to=INLINE_FILE_BYTES
    )
    if found is None or found[0] != job.file_sha256 or found[1] is None:
        return {}  # changed: fetching file_url says so
    return {"file_base64": base64.b64encode(found[1]).decode("ascii")}


def describe(session: Session, job: AgentJob, urls: Mapping[str, str]) -> dict[str, object]:
    """The job as the agent reads it (docs/agent-protocol.md, §2.3); ``urls``: ``file_url`` and ``upload_url``."""
    doc = job.document
    # The agent checks signatures against them before it issues (the leader's) and in a token check.
    needs_anchors = job.role in (JobRole.ISSUE, JobRole.CHECK)
    anchors = "".join(ssl.DER_cert_to_PEM_cert(a.der) for a in active_anchors(session)) if needs_anchors else ""
    return {
        "id": job.id,
        "role": job.role.value,
        "status": job.status.value,
        "expires_at": job.expires_at.isoformat(),
        "document": None
        if doc is None
        else {
            "id": doc.id,
            "summary": doc.summary,
            "type": doc.document_type.name,
            "issuing_body": doc.issuing_body.name,
            "urgency": doc.urgency.label,
            "secrecy": doc.secrecy.label,
        },
        "appendix_no": job.appendix_no,
        "file_sha256": job.file_sha256,
        **urls,
        "accepted_certificates": list(job.accepted_certificates),
        "number": job.number,
        "issue_date": job.issue_date.isoformat() if job.issue_date else None,
        "place": job.place,
        "trust_anchors_pem": anchors,
        **_inline_file(session, job),
    }


def _claim(
    session: Session,
    job: AgentJob,
    agent: SigningAgent,
    status: JobStatus,
    code: str | None = None,
    message: str | None = None,
) -> None:
    """Mark the job used by ``agent``, with its outcome, in one compare-and-set UPDATE (``finished_at`` from
    NULL): of two uploads or cancels of one job at the same moment exactly one gets past here; the other gets
    Conflict ``job_used``."""
    values = {"finished_at": utcnow(), "agent_id": agent.id, "status": status, "code": code, "message": message}
    with busy_as_conflict("Yêu cầu ký đang được xử lý. Thử lại sau giây lát."):
        moved = cast(
            CursorResult,
            session.execute(
                update(AgentJob)
                .where(AgentJob.id == job.id, AgentJob.finished_at.is_(None))
                .values(**values)
                .execution_options(synchronize_session=False)
            ),
        )
    if moved.rowcount != 1:
        raise Conflict(_USED, code="job_used")
    for key, value in values.items():  # as written: nothing left for the flush to write again
        set_committed_value(job, key, value)


def _record_failure(session: Session, job: AgentJob) -> None:
    """The audit entry of a failed job. A done one has none of its own: the step it took records the job."""
    details = {
        "document_id": job.document_id,
        "role": job.role.value,
        "agent_id": job.agent_id,
        "code": job.code,
        "message": job.message,
    }
    record(session, Actor.of(job.account), "agent.job_failed", OBJECT_TYPE, job.id, details)


#: What each role's upload is (its content type) and the service that takes it, run as the job's account (the
#: manual step's for a signature, the readiness report's for a check); ``via`` names the job and the agent for
#: the step's audit entry.
_Take = Callable[[Session, AgentJob, bytes, str, Mapping[str, object]], object]
_UPLOADS: dict[JobRole, tuple[str, _Take]] = {
    JobRole.APPROVE: (
        "application/pdf",
        lambda session, job, data, name, via: signing.approve_upload(
            session, job.account, cast(OutgoingDocument, job.document), data, name, via=via
        ),
    ),
    JobRole.ISSUE: (
        "application/pdf",
        lambda session, job, data, name, via: signing.issue_upload(
            session, job.account, cast(OutgoingDocument, job.document), data, name, via=via
        ),
    ),
    JobRole.APPENDIX: (
        "application/pdf",
        lambda session, job, data, name, via: signing.appendix_upload(
            session,
            job.account,
            cast(OutgoingDocument, job.document),
            cast(int, job.appendix_no),
            data,
            name,
            via=via,
        ),
    ),
    JobRole.CHECK: (
        "application/json",
        lambda session, job, data, name, via: store_report(session, job.account, data, source=ReportSource.AGENT),
    ),
}


def upload_result(session: Session, agent: SigningAgent, job_id: str, content: bytes, content_type: str) -> JobState:
    """The agent's signed file for the job: the manual step's service runs as the job's account.

    Commits once. The job is marked done by a compare-and-set in the same transaction as the step, so of two
    uploads at the same moment the second waits for the first and then finds the job used. On a refusal (the
    service already rolled back its work, the claim with it, and audited the refused signature) the job is
    claimed again as failed with the refusal's code and message, committed, and the refusal raised.
    """
    job = job_for_agent(session, agent, job_id)
    expected, take = _UPLOADS[job.role]
    if content_type.split(";")[0].strip().lower() != expected:
        what = "Báo cáo kiểm tra" if job.role is JobRole.CHECK else "Tệp đã ký"
        raise ValidationFailed({"file": f"{what} phải có Content-Type: {expected}."})
    _claim(session, job, agent, JobStatus.DONE)
    name = f"van-ban-{job.document_id}-ky-so-{job.role.value}.pdf"
    try:
        take(session, job, content, name, {"agent_job": job.id, "agent_id": agent.id})
    except CertsvcError as refusal:
        session.rollback()
        try:
            _claim(session, job, agent, JobStatus.FAILED, refusal.code, refusal.message)
        except Conflict:  # another upload took the job meanwhile: it tells the outcome
            session.rollback()
            raise refusal from None
        _record_failure(session, job)
        session.commit()
        raise
    state = _state(job)  # before the commit, which would make it read the job and the document again
    session.commit()
    return state


def cancel_job(session: Session, agent: SigningAgent, job_id: str, raw: Mapping[str, object]) -> JobState:
    """The agent stops the job (``raw``: ``reason``, a stable code, ``user_cancelled`` by default): it fails
    with that code. The caller commits."""
    fields = FieldCollector(raw)
    reason = fields.take("reason", _reason)
    fields.raise_if_failed()
    code = reason or "user_cancelled"
    job = job_for_agent(session, agent, job_id)
    message = _REASON_MESSAGES.get(code, f"Phần mềm ký số đã dừng ({code}).")
    _claim(session, job, agent, JobStatus.FAILED, code, message)
    _record_failure(session, job)
    return _state(job)


def _reason(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _REASON.fullmatch(value):
        raise FieldError("Lý do phải là một mã (chữ thường và dấu gạch dưới).")
    return value


# --- the page's poll --------------------------------------------------------------------------------------


def _state(job: AgentJob) -> JobState:
    document_status = job.document.status.value if job.document is not None else None
    unused = job.status is JobStatus.PENDING and job.finished_at is None
    if unused and job.expires_at <= utcnow():
        return JobState("expired", "job_expired", _EXPIRED, document_status)
    return JobState(job.status.value, job.code, job.message, document_status)


def job_status(session: Session, by: Account, document_id: int | None, job_id: str) -> JobState:
    """Where ``by``'s job on the document (None: a check job) stands; NotFound for a job of another account
    or document."""
    job = session.get(AgentJob, job_id) if len(job_id) <= 64 else None
    if job is None or job.account_id != by.id or job.document_id != document_id:
        raise NotFound("Không có yêu cầu ký này.", code="job_unknown")
    return _state(job)
