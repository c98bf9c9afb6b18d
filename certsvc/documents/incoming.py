"""Incoming documents (văn bản đến, seed 003 Điều 10–11): arrival, "Kiểm tra ký số", the incoming register,
return to the sender, the head's direction, and the recipient's confirmation of a recall.

A document issued inside the service arrives by itself when its clerk sends it (:func:`deliver`); one from
outside is uploaded by the receiving body's clerk (:func:`receive_outside`). Either way the server checks its
signatures once, on arrival, and keeps the report (schema ``token-agent.verify/1``) on the record: the clerk
registers it (:func:`register`, an arrival number of the body's year) only when the report is valid, and
otherwise returns it with the reason (:func:`return_to_sender`). When the sender is inside the service, its
document's timeline shows the answer (:data:`SENDER_ACTIONS`). A document received outside working hours
counts as received at the start of the next working session (:func:`counted_at`).

No Flask here: the functions take the acting account and check its permission at the receiving body; each
change writes one :class:`IncomingEvent` and exactly one audit entry (object type ``incoming_document``) in
the caller's transaction, except :func:`deliver`, which is part of the sender's ``send`` step and its audit.
Files from outside are hostile: a file that is not a PDF, is encrypted or broken is a ValidationFailed with a
clear reason, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import cast

from sqlalchemy import Select, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import get_record, to_id
from certsvc.core.transitions import MAX_COMMENT, clean_comment, compare_and_set
from certsvc.core.validation import FieldCollector, FieldError, clean_day, clean_text, validated
from certsvc.documents import files
from certsvc.documents.models import (
    DocumentEvent,
    DocumentStatus,
    FileKind,
    IncomingDocument,
    IncomingEvent,
    IncomingStatus,
    OutgoingDocument,
    Series,
    Urgency,
    urgent_first,
)
from certsvc.documents.register import next_number
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.signature_report import check_signatures, refusal_reason
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, can, orgs_in_scope
from certsvc.timeutil import VIETNAM_TZ, to_vietnam, utcnow

__all__ = [
    "OBJECT_TYPE",
    "MISSING",
    "Action",
    "ACTION_LABELS",
    "SENDER_ACTIONS",
    "counted_at",
    "registrable",
    "get_incoming",
    "incoming_list",
    "deliver",
    "receive_outside",
    "register",
    "return_to_sender",
    "direct",
    "confirm_recall",
]

#: The audit log's object type of an incoming document.
OBJECT_TYPE = "incoming_document"
#: What anyone who may not see an incoming document reads, the same as for an id that names none.
MISSING = "Không có văn bản đến này."


class Action:
    """Action names of an incoming document's events (``incoming.<action>`` in the audit log)."""

    RECEIVE = "receive"
    REGISTER = "register"
    RETURN = "return"
    DIRECT = "direct"
    CONFIRM_RECALL = "confirm_recall"


#: What the incoming document's timeline calls each action.
ACTION_LABELS = {
    Action.RECEIVE: "Nhận văn bản, kiểm tra ký số",
    Action.REGISTER: "Vào sổ văn bản đến",
    Action.RETURN: "Trả lại nơi gửi",
    Action.DIRECT: "Cho ý kiến chỉ đạo, giao xử lý",
    Action.CONFIRM_RECALL: "Xác nhận đã biết văn bản bị thu hồi",
}

#: Events written on the SENDER's document (an outgoing document of the service) when a recipient answers;
#: its status does not change. Action name → what its timeline calls it.
SENDER_ACTIONS = {
    "recipient_registered": "Nơi nhận đã tiếp nhận, vào sổ văn bản đến",
    "recipient_returned": "Nơi nhận trả lại văn bản",
    "recipient_confirmed_recall": "Nơi nhận xác nhận đã biết văn bản bị thu hồi",
}

#: The sender's name, the sender's number and the summary as an outside document carries them.
_MAX_SENDER, _MAX_NUMBER, _MAX_SUMMARY = 255, 60, 500


# -- when a document counts as received -----------------------------------------------------------------


def counted_at(arrived_at: datetime, settings: DocumentSettings) -> datetime:
    """When a document that arrived at ``arrived_at`` counts as received (UTC): then, within working hours
    of a working day; otherwise the start of the next working session (the same day before the hours
    begin, else the next working day of the calendar)."""
    local = to_vietnam(arrived_at)
    day, moment = local.date(), local.time()
    if settings.calendar.is_working_day(day):
        if moment < settings.work_day_start:
            return _session_start(day, settings.work_day_start)
        if moment < settings.work_day_end:
            return arrived_at
    return _session_start(settings.calendar.add_working_days(day, 1), settings.work_day_start)


def _session_start(day: date, start: time) -> datetime:
    return datetime.combine(day, start, VIETNAM_TZ).astimezone(UTC)


def registrable(incoming: IncomingDocument) -> bool:
    """Whether the clerk may register it now: waiting, with a valid report."""
    return incoming.status is IncomingStatus.RECEIVED and refusal_reason(incoming.verification) is None


# -- finding and listing ------------------------------------------------------------------------------


def _is_handler(account: Account, incoming: IncomingDocument) -> bool:
    return incoming.handler_id is not None and account.person_id == incoming.handler_id


def get_incoming(
    session: Session, account: Account, incoming_id: object, permission: Permission = Permission.VIEW_DOCUMENTS
) -> IncomingDocument:
    """The incoming document ``incoming_id`` names, if ``account`` may see it and holds ``permission`` at its
    receiving body. Seen by whoever holds VIEW_DOCUMENTS there and by the person directed to handle it;
    404 otherwise (and for an id that names none), 403 when seen without ``permission``."""
    incoming = get_record(session, IncomingDocument, incoming_id, MISSING)
    body = incoming.receiving_body_id
    if not (can(session, account, Permission.VIEW_DOCUMENTS, body) or _is_handler(account, incoming)):
        raise NotFound(MISSING)
    if permission is not Permission.VIEW_DOCUMENTS and not can(session, account, permission, body):
        raise PermissionDenied()
    return incoming


def incoming_list(
    session: Session,
    account: Account,
    *,
    receiving_body_id: int | None = None,
    status: IncomingStatus | None = None,
) -> Select[IncomingDocument]:
    """The incoming documents ``account`` sees (of ``receiving_body_id`` when given, with ``status`` when
    given): urgent ones first, then the newest. A statement, for the list pages to count and page."""
    bodies = orgs_in_scope(session, account, Permission.VIEW_DOCUMENTS)
    seen = IncomingDocument.receiving_body_id.in_(bodies) | (IncomingDocument.handler_id == account.person_id)
    query = select(IncomingDocument).where(seen)
    if receiving_body_id is not None:
        query = query.where(IncomingDocument.receiving_body_id == receiving_body_id)
    if status is not None:
        query = query.where(IncomingDocument.status == status)
    return query.order_by(
        urgent_first(IncomingDocument.urgency), IncomingDocument.arrived_at.desc(), IncomingDocument.id.desc()
    )


# -- arrival ------------------------------------------------------------------------------------------


def _event(incoming: IncomingDocument, action: str, actor: Actor, comment: str | None, at: datetime) -> None:
    incoming.events.append(
        IncomingEvent(action=action, comment=comment, actor_id=actor.account_id, actor_label=actor.label, at=at)
    )


def _audit(session: Session, by: Account, incoming: IncomingDocument, action: str, details: dict) -> None:
    details = {"receiving_body_id": incoming.receiving_body_id, "status": incoming.status.value, **details}
    record(session, Actor.of(by), f"incoming.{action}", OBJECT_TYPE, incoming.id, details)


def deliver(session: Session, by: Account, doc: OutgoingDocument, settings: DocumentSettings) -> list[IncomingDocument]:
    """One incoming document per recipient of ``doc``, which its clerk is sending: the issued version, the
    server's report of it and the arrival time (counted per working hours). Part of the sender's ``send``
    step, whose permission and audit entry cover it."""
    issued = files.latest(doc, FileKind.ISSUED)
    if issued is None or doc.number_entry is None:
        raise Conflict("Văn bản chưa được ký phát hành nên chưa gửi được.", code="not_issued")
    verification = check_signatures(session, files.content(issued))
    actor, now = Actor.of(by), utcnow()
    delivered = []
    for recipient in doc.recipients:
        incoming = IncomingDocument(
            status=IncomingStatus.RECEIVED,
            receiving_body_id=recipient.organisation_id,
            outgoing_id=doc.id,
            sender_name=doc.issuing_body.name,
            original_number=doc.number_entry.symbol,
            original_date=doc.number_entry.issue_date,
            summary=doc.summary,
            urgency=doc.urgency,
            sha256=issued.sha256,
            filename=issued.filename,
            verification=verification,
            arrived_at=now,
            counted_at=counted_at(now, settings),
        )
        _event(incoming, Action.RECEIVE, actor, None, now)
        session.add(incoming)
        delivered.append(incoming)
    session.flush()
    return delivered


def _as_text(value: object) -> str | None:
    """A text field's raw value: a string, or None when absent; anything else (a number in JSON) is refused."""
    if value is not None and not isinstance(value, str):
        raise FieldError("Phải là chuỗi ký tự.")
    return value


def _outside_values(values: Mapping[str, object]) -> dict:
    fields = FieldCollector(values)
    fields.take("sender_name", lambda v: clean_text(_as_text(v), required=True, max_length=_MAX_SENDER))
    fields.take("original_number", lambda v: clean_text(_as_text(v), max_length=_MAX_NUMBER))
    fields.take("original_date", clean_day)
    fields.take("summary", lambda v: clean_text(_as_text(v), required=True, max_length=_MAX_SUMMARY))
    fields.take("urgency", _urgency)
    fields.raise_if_failed()
    return fields.values


def _urgency(value: object) -> Urgency:
    if value is None or value == "":
        return Urgency.NORMAL
    try:
        return Urgency(str(value))
    except ValueError:
        raise FieldError("Độ khẩn không hợp lệ.") from None


def receive_outside(
    session: Session,
    by: Account,
    receiving_body_id: int,
    values: Mapping[str, object],
    upload: files.Upload | bytes | None,
    filename: str | None,
    settings: DocumentSettings,
) -> IncomingDocument:
    """Register the arrival of a document from outside the service: the clerk of ``receiving_body_id`` uploads
    its PDF with what it carries (``sender_name``, ``original_number``, ``original_date``, ``summary``,
    ``urgency``); the server checks its signatures and keeps the report. It waits for the clerk to register
    or return it. ``upload`` is the uploaded file or its bytes (see :func:`files.read_pdf_upload`)."""
    if session.get(Organisation, receiving_body_id) is None:
        raise NotFound("Không có đơn vị này.")
    if not can(session, by, Permission.RECEIVE_DOCUMENTS, receiving_body_id):
        raise PermissionDenied()
    cleaned = _outside_values(values)
    name = files.clean_filename(filename, default="van-ban-den.pdf")
    content = files.read_pdf_upload(upload, "file")
    verification = check_signatures(session, content)
    sha256 = files.store(session, content)
    now = utcnow()
    incoming = IncomingDocument(
        status=IncomingStatus.RECEIVED,
        receiving_body_id=receiving_body_id,
        sha256=sha256,
        filename=name,
        verification=verification,
        arrived_at=now,
        counted_at=counted_at(now, settings),
        **cleaned,
    )
    _event(incoming, Action.RECEIVE, Actor.of(by), refusal_reason(verification), now)
    session.add(incoming)
    session.flush()
    _audit(session, by, incoming, Action.RECEIVE, {"sha256": sha256, "verdict": verification.get("verdict")})
    return incoming


# -- the clerk's answer: register or return ----------------------------------------------------------


def _move(session: Session, incoming: IncomingDocument, target: IncomingStatus) -> None:
    """From RECEIVED to ``target`` with one compare-and-set: of two clerks at once, one wins."""
    if incoming.status is not IncomingStatus.RECEIVED or not compare_and_set(
        session, IncomingDocument, incoming.id, "status", IncomingStatus.RECEIVED, target
    ):
        raise Conflict(
            "Văn bản đến đã được xử lý (vào sổ hoặc trả lại). Xem lại văn bản để biết trạng thái hiện tại.",
            code="already_changed",
        )
    incoming.status = target


def _tell_sender(session: Session, by: Account, incoming: IncomingDocument, action: str, comment: str) -> None:
    """The answer on the sender's timeline, when the sender is a document of the service."""
    doc = incoming.outgoing
    if doc is None:
        return
    actor = Actor.of(by)
    session.add(
        DocumentEvent(
            document=doc,
            action=action,
            from_status=doc.status,
            to_status=doc.status,
            comment=comment,
            details={"incoming_id": incoming.id, "receiving_body_id": incoming.receiving_body_id},
            actor_id=actor.account_id,
            actor_label=actor.label,
            at=utcnow(),
        )
    )


def register(session: Session, by: Account, incoming: IncomingDocument) -> IncomingDocument:
    """Register ``incoming`` in its body's incoming register: the next arrival number of the year it counts
    as received in. Refused (nothing changes) unless its signatures were found valid."""
    if not can(session, by, Permission.RECEIVE_DOCUMENTS, incoming.receiving_body_id):
        raise PermissionDenied()
    if incoming.status is IncomingStatus.RECEIVED and (reason := refusal_reason(incoming.verification)):
        raise Conflict(f"{reason} Trả lại nơi gửi, ghi rõ lý do.", code="signature_invalid")
    _move(session, incoming, IncomingStatus.REGISTERED)
    year = to_vietnam(incoming.counted_at or incoming.arrived_at).year
    incoming.arrival_year = year
    incoming.arrival_number = next_number(session, incoming.receiving_body_id, year, Series.INCOMING)
    incoming.registered_by_id = by.id
    now = utcnow()
    text = f"Số đến {incoming.arrival_number}/{year}"
    _event(incoming, Action.REGISTER, Actor.of(by), text, now)
    _tell_sender(
        session, by, incoming, "recipient_registered", f"{incoming.receiving_body.name} đã vào sổ: {text.lower()}."
    )
    session.flush()
    _audit(session, by, incoming, Action.REGISTER, {"year": year, "number": incoming.arrival_number})
    return incoming


def return_to_sender(session: Session, by: Account, incoming: IncomingDocument, reason: str | None) -> IncomingDocument:
    """Return ``incoming`` to its sender, not registered, with ``reason`` (required)."""
    if not can(session, by, Permission.RECEIVE_DOCUMENTS, incoming.receiving_body_id):
        raise PermissionDenied()
    text = clean_comment(reason, required=True)
    assert text is not None  # required: clean_comment refused an empty reason
    if len(text) > _MAX_SUMMARY:
        raise ValidationFailed({"comment": f"Lý do dài quá {_MAX_SUMMARY} ký tự."})
    _move(session, incoming, IncomingStatus.RETURNED)
    incoming.return_reason = text
    _event(incoming, Action.RETURN, Actor.of(by), text, utcnow())
    _tell_sender(session, by, incoming, "recipient_returned", f"{incoming.receiving_body.name} trả lại: {text}")
    session.flush()
    _audit(session, by, incoming, Action.RETURN, {"reason": text})
    return incoming


# -- the head's direction, the recall -------------------------------------------------------------------


def direct(
    session: Session,
    by: Account,
    incoming: IncomingDocument,
    handler_id: object,
    handle_by: object,
    direction: str | None,
) -> IncomingDocument:
    """The head's direction of a registered document: who handles it (a person of the receiving body or of
    a unit under it), by when (not before today), and what to do. A later direction replaces it; the
    timeline keeps each."""
    if not can(session, by, Permission.DIRECT_DOCUMENTS, incoming.receiving_body_id):
        raise PermissionDenied()
    if incoming.status is not IncomingStatus.REGISTERED:
        raise Conflict("Chỉ cho ý kiến chỉ đạo văn bản đã vào sổ.", code="not_registered")
    fields = FieldCollector({"handler_id": handler_id, "handle_by": handle_by, "direction": direction})
    handler = fields.take("handler_id", lambda v: _handler(session, incoming, v))
    deadline = fields.take("handle_by", _deadline)
    text = fields.take("direction", lambda v: clean_text(_as_text(v), max_length=MAX_COMMENT))
    fields.raise_if_failed()
    handler = validated(handler, "handler_id")
    now = utcnow()
    incoming.handler_id = handler.id
    incoming.handle_by = deadline
    incoming.direction = text
    incoming.directed_at = now
    shown = f"Giao {handler.full_name}" + (f", hạn {deadline:%d/%m/%Y}" if deadline else "")
    shown += f": {text}" if text else ""
    _event(incoming, Action.DIRECT, Actor.of(by), shown, now)
    session.flush()
    _audit(
        session,
        by,
        incoming,
        Action.DIRECT,
        {"handler_id": handler.id, "handle_by": deadline and deadline.isoformat(), "direction": text},
    )
    return incoming


def _handler(session: Session, incoming: IncomingDocument, handler_id: object) -> Person:
    person_id = to_id(handler_id)
    person = session.get(Person, person_id) if person_id is not None else None
    reach = OrgTree.load(session).subtree(incoming.receiving_body_id)
    if person is None or not person.is_active or person.organisation_id not in reach:
        raise FieldError("Chọn người xử lý thuộc cơ quan nhận văn bản hoặc đơn vị trực thuộc.")
    return person


def _deadline(value: object) -> date | None:
    deadline = clean_day(value)
    if deadline is not None and deadline < to_vietnam(utcnow()).date():
        raise FieldError("Hạn xử lý không được trước hôm nay.")
    return deadline


def confirm_recall(session: Session, by: Account, incoming: IncomingDocument) -> IncomingDocument:
    """The receiving clerk confirms seeing that the sender recalled the document (nothing is deleted)."""
    if not can(session, by, Permission.RECEIVE_DOCUMENTS, incoming.receiving_body_id):
        raise PermissionDenied()
    doc = incoming.outgoing
    if doc is None or doc.status is not DocumentStatus.RECALLED:
        raise Conflict("Nơi gửi không thu hồi văn bản này.", code="not_recalled")
    now = utcnow()
    confirmed = cast(
        CursorResult,
        session.execute(
            update(IncomingDocument)
            .where(IncomingDocument.id == incoming.id, IncomingDocument.recall_confirmed_at.is_(None))
            .values(recall_confirmed_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if incoming.recall_confirmed_at is not None or confirmed.rowcount != 1:
        raise Conflict("Đã xác nhận việc thu hồi văn bản này.", code="already_changed")
    incoming.recall_confirmed_at = now
    _event(incoming, Action.CONFIRM_RECALL, Actor.of(by), None, now)
    _tell_sender(session, by, incoming, "recipient_confirmed_recall", f"{incoming.receiving_body.name} đã biết.")
    session.flush()
    _audit(session, by, incoming, Action.CONFIRM_RECALL, {"outgoing_id": doc.id})
    return incoming
