"""Batches ("đợt tổng hợp"): the focal office collects accepted requests, locks the batch, has its proposal
letter issued as an outgoing document (:mod:`certsvc.requests.batch_letter`) and sends it with its annex, then
records the CA's answer to each request.

A batch moves open → locked → sent, each step conditional on the status it leaves (``UPDATE ...
WHERE status = ...``), so two officers acting at once cannot both win. Requests follow through
:func:`certsvc.requests.transitions.apply_transition`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import get_record, to_id
from certsvc.core.validation import FieldCollector, FieldError, clean_text
from certsvc.core.workdays import WorkCalendar
from certsvc.documents.drafting import MAX_LINE, clean_lines
from certsvc.documents.models import NumberEntry
from certsvc.errors import CertsvcError, Conflict, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation, office_recipient
from certsvc.orgs.tree import OrgTree
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.requests.batch_letter import awaits_letter, issued_letter_entry
from certsvc.requests.fields import clean_date
from certsvc.requests.letters import batch_recipient, dashed, distribution_of
from certsvc.requests.models import Batch, BatchStatus, CertificateRequest, RequestStatus, RequestType
from certsvc.requests.outcomes import apply_to_registry
from certsvc.requests.papers.letter import MAX_DISTRIBUTION_ROWS, distribution_rows
from certsvc.requests.service import BulkFailed
from certsvc.requests.transitions import TRANSITIONS, Action, apply_transition
from certsvc.timeutil import utcnow

__all__ = [
    "DOCUMENT_NUMBER",
    "Outcome",
    "OutcomeResult",
    "focal_offices_of",
    "get_batch",
    "batches_in_scope",
    "create_batch",
    "candidates",
    "add_requests",
    "remove_request",
    "lock_batch",
    "may_set_distribution",
    "set_distribution",
    "mark_sent",
    "record_outcome",
]

#: "Số và ký hiệu văn bản": a number, "/", then symbols joined by "-", e.g. ``12/UBND-VHTT``.
DOCUMENT_NUMBER = re.compile(r"^\d{1,6}/[A-ZĐ0-9&]+(?:-[A-ZĐ0-9&]+)*$")


def get_batch(
    session: Session, by: Account, batch_id: object, permission: Permission = Permission.VIEW_BATCHES
) -> Batch:
    """The batch, if ``by`` holds ``permission`` at its focal office (PermissionDenied otherwise)."""
    batch = get_record(session, Batch, batch_id, "Không tìm thấy đợt tổng hợp.")
    ensure(session, by, permission, batch.focal_office_id)
    return batch


def focal_offices_of(
    session: Session, by: Account, permission: Permission = Permission.MANAGE_BATCHES
) -> list[Organisation]:
    """The focal offices (organisations that serve some unit) where ``by`` holds ``permission``."""
    tree = OrgTree.load(session)
    offices = {office for office in tree.focal_office.values() if office is not None}
    ids = offices & orgs_in_scope(session, by, permission)
    if not ids:
        return []
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


def batches_in_scope(session: Session, by: Account) -> list[Batch]:
    """The batches of the focal offices where ``by`` may see batches; PermissionDenied when there is none."""
    offices = [o.id for o in focal_offices_of(session, by, Permission.VIEW_BATCHES)]
    if not offices:
        raise PermissionDenied()
    return list(session.scalars(select(Batch).where(Batch.focal_office_id.in_(offices)).order_by(Batch.id.desc())))


def create_batch(session: Session, by: Account, raw: Mapping[str, object]) -> Batch:
    """A new open batch of a focal office where ``by`` manages batches."""
    offices = {o.id for o in focal_offices_of(session, by)}
    fields = FieldCollector(raw)
    office_id = fields.take("focal_office_id", to_id)
    if office_id not in offices:
        fields.fail("focal_office_id", "Chọn cơ quan đầu mối bạn phụ trách.")
    fields.take("title", lambda v: clean_text(v, required=True, max_length=255))
    fields.take("signer_title", lambda v: _multiline(v, 200))
    fields.take("signer_name", lambda v: clean_text(v, required=True, max_length=200))
    fields.raise_if_failed()
    ensure(session, by, Permission.MANAGE_BATCHES, office_id)
    batch = Batch(
        focal_office_id=office_id,
        title=fields.values["title"],
        signer_title=fields.values["signer_title"],
        signer_name=fields.values["signer_name"],
        status=BatchStatus.OPEN,
        created_by_id=by.id,
    )
    session.add(batch)
    session.flush()
    record(
        session,
        Actor.of(by),
        "batch.created",
        "request_batch",
        batch.id,
        {"focal_office_id": office_id, "title": batch.title},
    )
    return batch


def _multiline(value: object, max_length: int) -> str:
    lines = [" ".join(line.split()) for line in str(value or "").splitlines()]
    text = "\n".join(line for line in lines if line)
    if not text:
        raise FieldError("Bắt buộc nhập.")
    if len(text) > max_length:
        raise FieldError(f"Dài quá {max_length} ký tự.")
    return text


def candidates(session: Session, batch: Batch) -> list[CertificateRequest]:
    """Accepted requests not in any batch, of the units the batch's focal office serves."""
    served = OrgTree.load(session).served_by(batch.focal_office_id)
    return list(
        session.scalars(
            select(CertificateRequest)
            .where(
                CertificateRequest.status == RequestStatus.ACCEPTED,
                CertificateRequest.batch_id.is_(None),
                CertificateRequest.organisation_id.in_(served),
            )
            .order_by(CertificateRequest.organisation_id, CertificateRequest.id)
        )
    )


def _ensure_open(batch: Batch) -> None:
    if batch.status is not BatchStatus.OPEN:
        raise Conflict(
            f"Đợt tổng hợp đang ở trạng thái «{batch.status.label}», không thay đổi danh sách được.",
            code="batch_not_open",
        )


def add_requests(session: Session, by: Account, batch: Batch, request_ids: Sequence[object]) -> int:
    """Put accepted requests into an open batch: all or none (BulkFailed names the first that cannot)."""
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    _ensure_open(batch)
    ids = sorted({to_id(value) or 0 for value in request_ids})
    if not ids:
        raise ValidationFailed({"request_ids": "Chọn ít nhất một đề nghị."})
    allowed = {r.id: r for r in candidates(session, batch)}
    for request_id in ids:
        request = allowed.get(request_id)
        if request is None:
            raise ValidationFailed(
                {
                    "request_ids": (
                        f"Đề nghị số {request_id} không phải đề nghị đã tiếp nhận, chưa vào đợt nào, "
                        "của đơn vị do cơ quan đầu mối này phụ trách."
                    )
                }
            )
        try:
            apply_transition(session, by, request, Action.ADD_TO_BATCH, details={"batch_id": batch.id})
        except CertsvcError as error:
            raise BulkFailed(request_id, error) from error
        request.batch_id = batch.id
    session.flush()
    return len(ids)


def remove_request(session: Session, by: Account, batch: Batch, request_id: object) -> None:
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    _ensure_open(batch)
    request = next((r for r in batch.requests if r.id == to_id(request_id)), None)
    if request is None:
        raise ValidationFailed({"request_id": "Đề nghị này không có trong đợt tổng hợp."})
    apply_transition(session, by, request, Action.REMOVE_FROM_BATCH, details={"batch_id": batch.id})
    request.batch_id = None
    session.flush()


def _changed() -> Conflict:
    return Conflict("Đợt tổng hợp vừa được người khác cập nhật. Vui lòng tải lại trang.", code="batch_changed")


def _compare_and_set(
    session: Session, batch: Batch, still: Sequence[ColumnElement[bool]], values: Mapping[str, object], lost: Conflict
) -> None:
    """Update the batch's row only while ``still`` holds, then read it again: of two officers acting on the
    same batch at once exactly one succeeds, the other gets ``lost``."""
    result = cast(
        CursorResult,
        session.execute(
            update(Batch)
            .where(Batch.id == batch.id, *still)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise lost
    session.refresh(batch)


def lock_batch(session: Session, by: Account, batch: Batch) -> None:
    """Close the batch's list and freeze whom its letter goes to (the batch's own "Kính gửi", or the focal
    office's setting now). Atomic: of two officers locking at once exactly one succeeds."""
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    _ensure_open(batch)
    if not batch.requests:
        raise ValidationFailed({"batch": "Đợt tổng hợp chưa có đề nghị nào."})
    _compare_and_set(
        session,
        batch,
        [Batch.status == BatchStatus.OPEN],
        {
            "status": BatchStatus.LOCKED,
            "locked_at": utcnow(),
            "locked_by_id": by.id,
            "letter_recipient": func.coalesce(Batch.letter_recipient, office_recipient(batch.focal_office)),
        },
        Conflict(
            "Đợt tổng hợp vừa được người khác chốt hoặc đã thay đổi. Vui lòng tải lại trang.", code="batch_lock_lost"
        ),
    )
    record(
        session,
        Actor.of(by),
        "batch.locked",
        "request_batch",
        batch.id,
        {"requests": [r.id for r in batch.requests], "letter_recipient": batch.letter_recipient},
    )


#: Each part of the letter's "Nơi nhận" (its lines, the "Bản điện tử:" lines): at most this many lines.
MAX_DISTRIBUTION_LINES = 20
_RECIPIENT = 255  # the column's length


def may_set_distribution(batch: Batch) -> bool:
    """Whether the letter's recipients can still change: the letter is not made yet (or was cancelled)."""
    return batch.status is BatchStatus.OPEN or awaits_letter(batch)


def set_distribution(session: Session, by: Account, batch: Batch, raw: Mapping[str, object]) -> None:
    """The batch's own "Kính gửi" and "Nơi nhận" (its lines and the "Bản điện tử:" part), until its letter is
    made. Empty fields go back to the focal office's: its recipient and its usual lines, no electronic part.
    Changed only while the batch and its letter are as read (compare-and-set on both)."""
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    if not may_set_distribution(batch):
        raise Conflict(
            "Công văn đề nghị của đợt đã được tạo: nơi nhận không đổi được nữa (hủy công văn để tạo lại).",
            code="letter_exists",
        )
    fields = FieldCollector(raw)
    recipient = fields.take("letter_recipient", lambda v: clean_text(str(v or ""), max_length=_RECIPIENT))
    paper = fields.take("distribution_lines", _distribution_lines)
    electronic = fields.take("electronic_distribution_lines", _distribution_lines)
    printed = distribution_rows(*map(dashed, distribution_of(batch.focal_office, paper, electronic)))
    if not fields.errors and len(printed) > MAX_DISTRIBUTION_ROWS:
        fields.fail(
            "electronic_distribution_lines" if electronic else "distribution_lines",
            f"«Nơi nhận» in ra dài quá {MAX_DISTRIBUTION_ROWS} dòng (kể cả phần bản điện tử): bớt hoặc gộp nơi nhận.",
        )
    fields.raise_if_failed()
    if recipient is None and batch.status is BatchStatus.LOCKED:
        recipient = office_recipient(batch.focal_office)  # a locked batch keeps a frozen recipient
    letter = Batch.letter_document_id
    _compare_and_set(
        session,
        batch,
        [
            Batch.status == batch.status,
            letter.is_(None) if batch.letter_document_id is None else letter == batch.letter_document_id,
        ],
        {"letter_recipient": recipient, "distribution_lines": paper, "electronic_distribution_lines": electronic},
        _changed(),
    )
    record(
        session,
        Actor.of(by),
        "batch.distribution_set",
        "request_batch",
        batch.id,
        {
            "letter_recipient": batch_recipient(batch),
            "distribution_lines": paper,
            "electronic_distribution_lines": electronic,
        },
    )


def _distribution_lines(value: object) -> str | None:
    """Lines as typed, one recipient a line; a leading dash is the letter's, not part of the line."""
    text = clean_lines(value, MAX_DISTRIBUTION_LINES, MAX_LINE)
    lines = [line.removeprefix("-").strip() for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line) or None


def _clean_number(value: object) -> str:
    number = str(value or "").strip().upper()
    if number.startswith("SỐ:"):
        number = number[3:].strip()
    if not DOCUMENT_NUMBER.match(number):
        raise FieldError("Số, ký hiệu văn bản có dạng số/ký hiệu, ví dụ 12/UBND-VHTT.")
    return number


def _check_given(raw: Mapping[str, object], entry: NumberEntry) -> None:
    """Clients written when the number and date were typed still send them: accepted when they are the
    register's, refused otherwise (the register is the only source)."""
    fields = FieldCollector(raw)
    expected = f"Công văn của đợt có số {entry.symbol} ngày {entry.issue_date.strftime('%d/%m/%Y')} (theo sổ đăng ký)."
    if raw.get("document_number") not in (None, ""):
        number = fields.take("document_number", _clean_number)
        if number is not None and number != entry.symbol:
            fields.fail("document_number", expected)
    if raw.get("document_date") not in (None, ""):
        day = fields.take("document_date", clean_date)
        if day is not None and day != entry.issue_date.isoformat():
            fields.fail("document_date", expected)
    fields.raise_if_failed()


def mark_sent(session: Session, by: Account, batch: Batch, raw: Mapping[str, object] | None = None) -> None:
    """The batch's issued proposal letter went out: the batch takes its number and date from the register,
    and every request in it is sent. Refused while the letter is not issued. ``raw`` may still carry
    ``document_number`` and ``document_date`` as typed before: they must be the register's."""
    ensure(session, by, Permission.MANAGE_BATCHES, batch.focal_office_id)
    if batch.status is not BatchStatus.LOCKED:
        raise Conflict("Chỉ đánh dấu đã gửi đợt tổng hợp đã chốt và chưa gửi.", code="batch_not_locked")
    entry = issued_letter_entry(batch)
    if entry is None:
        raise Conflict(
            "Công văn đề nghị của đợt chưa được ký phát hành: tạo công văn, trình ký, lấy số và ký phát hành trước.",
            code="letter_not_issued",
        )
    _check_given(raw or {}, entry)
    number, day = entry.symbol, entry.issue_date
    _compare_and_set(
        session,
        batch,
        [Batch.status == BatchStatus.LOCKED],
        {"status": BatchStatus.SENT, "document_number": number, "document_date": day, "sent_at": utcnow()},
        _changed(),
    )
    record(
        session,
        Actor.of(by),
        "batch.sent",
        "request_batch",
        batch.id,
        {"document_number": number, "document_date": day.isoformat(), "letter_document_id": batch.letter_document_id},
    )
    comment = f"Công văn số {number} ngày {day.strftime('%d/%m/%Y')}."
    for request in batch.requests:
        apply_transition(session, by, request, Action.MARK_SENT, comment, details={"batch_id": batch.id})


class Outcome:
    DONE = "done"
    REJECTED = "rejected"


@dataclass(frozen=True)
class OutcomeResult:
    request_id: int
    status: RequestStatus
    certificate_id: int | None = None
    #: Recovery requests of a revoked token that the revocation cancelled (the user must be told).
    cancelled_recoveries: tuple[int, ...] = ()


_ISSUING = {
    RequestType.NEW_INDIVIDUAL,
    RequestType.NEW_ORGANISATION,
    RequestType.NEW_DEVICE,
    RequestType.RENEWAL,
    RequestType.CHANGE,
}


def record_outcome(
    session: Session,
    by: Account,
    request: CertificateRequest,
    raw: Mapping[str, object],
    certificate_file: bytes | None = None,
    *,
    calendar: WorkCalendar,
) -> OutcomeResult:
    """The CA's answer to a sent request: ``done`` (with the issued certificate for new, renewal and
    change requests; the registry is updated, a revoked token's return due on ``calendar``) or
    ``rejected`` with a reason."""
    ensure(session, by, Permission.MANAGE_BATCHES, request.organisation_id)
    if request.status is not RequestStatus.SENT:
        raise Conflict(f"Chỉ ghi kết quả cho đề nghị đã gửi; đề nghị đang «{request.status.label}».", code="not_sent")
    outcome = str(raw.get("outcome") or "")
    try:
        comment = clean_text(str(raw.get("comment") or ""), max_length=2000)
    except FieldError as error:
        raise ValidationFailed({"comment": str(error)}) from None
    if outcome == Outcome.REJECTED:
        if comment is None:
            raise ValidationFailed({"comment": "Ghi rõ lý do cơ quan cấp từ chối."})
        apply_transition(session, by, request, Action.REJECT, comment)
        return OutcomeResult(request.id, request.status)
    if outcome != Outcome.DONE:
        raise ValidationFailed({"outcome": "Chọn kết quả: hoàn thành hoặc bị từ chối."})
    certificate = apply_to_registry(session, by, request, raw, certificate_file, calendar=calendar)
    if certificate is not None:
        request.issued_certificate_id = certificate.id
    apply_transition(
        session,
        by,
        request,
        Action.COMPLETE,
        comment,
        details={"certificate_id": certificate.id if certificate else None},
    )
    cancelled = (
        _cancel_recoveries_of_revoked_token(session, by, request)
        if request.request_type is RequestType.REVOCATION and request.token_id is not None
        else ()
    )
    return OutcomeResult(request.id, request.status, certificate.id if certificate else None, cancelled)


#: Where a request can still be cancelled: before it goes into a batch.
_CANCELLABLE = frozenset(t.source for t in TRANSITIONS if t.action == Action.CANCEL)


def _cancel_recoveries_of_revoked_token(
    session: Session, by: Account, revocation: CertificateRequest
) -> tuple[int, ...]:
    """A token whose certificate was revoked goes back to the CA: its open recovery requests lose their
    purpose. Those still before a batch are cancelled, in the name of the officer who recorded the
    revocation (a consequence of that act, whatever their own permissions at the unit), each with a note
    on its timeline. One already in a batch stays for the batch's officer; the registry refuses to
    recover the token when its answer comes."""
    recoveries = session.scalars(
        select(CertificateRequest)
        .where(
            CertificateRequest.request_type == RequestType.RECOVERY,
            CertificateRequest.token_id == revocation.token_id,
            CertificateRequest.status.in_(list(_CANCELLABLE)),
        )
        .order_by(CertificateRequest.id)
    )
    note = (
        f"Tự động hủy: chứng thư số trên thiết bị đã bị thu hồi theo đề nghị số {revocation.id}; "
        "thiết bị phải nộp lại cơ quan cấp."
    )
    cancelled = []
    for recovery in recoveries:
        apply_transition(
            session, Actor.of(by), recovery, Action.CANCEL, note, details={"revocation_request_id": revocation.id}
        )
        cancelled.append(recovery.id)
    return tuple(cancelled)
