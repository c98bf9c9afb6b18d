"""The outgoing document's lifecycle: one table of allowed transitions and the one function that applies them.

Each :class:`Transition` says from which status an action leads to which, which permission allows it and
where it must be held (the drafting unit or the issuing body), whether a comment is required, whether the
document's authors may not take it ("four eyes") and whether only the proposed signer may.
:func:`apply_transition` is the only code that changes a document's status: it checks the table, moves the
status only if nobody moved it meanwhile, records a :class:`DocumentEvent` for the timeline and exactly one
audit entry (action ``document.<action>``, object type ``outgoing_document``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.transitions import clean_comment, compare_and_set
from certsvc.documents.access import ensure, is_proposed_signer
from certsvc.documents.models import DocumentEvent, DocumentStatus, OutgoingDocument
from certsvc.errors import Conflict, PermissionDenied
from certsvc.policy import Permission, can
from certsvc.timeutil import utcnow

__all__ = [
    "Action",
    "At",
    "Transition",
    "TRANSITIONS",
    "ACTION_LABELS",
    "OBJECT_TYPE",
    "find_transition",
    "may_take",
    "available_transitions",
    "check_transition",
    "apply_transition",
]

#: The audit log's object type of an outgoing document.
OBJECT_TYPE = "outgoing_document"


class Action:
    """Action names, as stored on events (and ``document.<action>`` in the audit log)."""

    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    FORWARD = "forward"
    RETURN = "return"
    APPROVE = "approve"
    TAKE_NUMBER = "take_number"
    ABANDON_NUMBER = "abandon_number"
    ISSUE = "issue"
    SIGN_APPENDIX = "sign_appendix"
    SEND = "send"
    RECALL = "recall"
    CANCEL = "cancel"
    REGISTER_PAPER = "register_paper"


class At(enum.Enum):
    """Where a transition's permission must be held."""

    DRAFTING = "drafting"
    ISSUING = "issuing"

    def organisation_id(self, doc: OutgoingDocument) -> int:
        return doc.drafting_unit_id if self is At.DRAFTING else doc.issuing_body_id


@dataclass(frozen=True)
class Transition:
    action: str
    source: DocumentStatus | None
    target: DocumentStatus
    permission: Permission
    at: At
    #: Vietnamese button text and timeline wording.
    label: str
    comment_required: bool = False
    #: Neither the creator nor whoever last changed the content may take it ("four eyes").
    not_author: bool = False
    #: Only the proposed signer (:func:`certsvc.documents.access.is_proposed_signer`).
    signer_only: bool = False


_DRAFT, _REVIEW, _SIGN, _ISSUE = (
    Permission.DRAFT_DOCUMENTS,
    Permission.REVIEW_DOCUMENTS,
    Permission.SIGN_DOCUMENTS,
    Permission.ISSUE_DOCUMENTS,
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.CREATE, None, DocumentStatus.DRAFT, _DRAFT, At.DRAFTING, "Tạo dự thảo"),
    Transition(Action.EDIT, DocumentStatus.DRAFT, DocumentStatus.DRAFT, _DRAFT, At.DRAFTING, "Sửa dự thảo"),
    Transition(Action.EDIT, DocumentStatus.RETURNED, DocumentStatus.RETURNED, _DRAFT, At.DRAFTING, "Sửa dự thảo"),
    Transition(Action.SUBMIT, DocumentStatus.DRAFT, DocumentStatus.IN_REVIEW, _DRAFT, At.DRAFTING, "Trình thẩm định"),
    Transition(
        Action.SUBMIT, DocumentStatus.RETURNED, DocumentStatus.IN_REVIEW, _DRAFT, At.DRAFTING, "Trình thẩm định lại"
    ),
    Transition(
        Action.FORWARD,
        DocumentStatus.IN_REVIEW,
        DocumentStatus.AWAITING_SIGNATURE,
        _REVIEW,
        At.DRAFTING,
        "Trình ký",
        not_author=True,
    ),
    Transition(
        Action.RETURN,
        DocumentStatus.IN_REVIEW,
        DocumentStatus.RETURNED,
        _REVIEW,
        At.DRAFTING,
        "Trả lại",
        comment_required=True,
    ),
    Transition(
        Action.RETURN,
        DocumentStatus.AWAITING_SIGNATURE,
        DocumentStatus.RETURNED,
        _SIGN,
        At.ISSUING,
        "Trả lại",
        comment_required=True,
        signer_only=True,
    ),
    Transition(
        Action.RETURN,
        DocumentStatus.SIGNED,
        DocumentStatus.RETURNED,
        _ISSUE,
        At.ISSUING,
        "Trả lại, hủy ký duyệt",
        comment_required=True,
    ),
    Transition(
        Action.APPROVE,
        DocumentStatus.AWAITING_SIGNATURE,
        DocumentStatus.SIGNED,
        _SIGN,
        At.ISSUING,
        "Ký duyệt",
        signer_only=True,
    ),
    Transition(Action.TAKE_NUMBER, DocumentStatus.SIGNED, DocumentStatus.NUMBERED, _ISSUE, At.ISSUING, "Lấy số"),
    Transition(
        Action.ABANDON_NUMBER,
        DocumentStatus.NUMBERED,
        DocumentStatus.SIGNED,
        _ISSUE,
        At.ISSUING,
        "Hủy số đã lấy",
        comment_required=True,
    ),
    Transition(Action.ISSUE, DocumentStatus.NUMBERED, DocumentStatus.ISSUED, _ISSUE, At.ISSUING, "Ký phát hành"),
    # An appendix in a separate file shows the document's number: signed once numbered, until sent.
    *(
        Transition(Action.SIGN_APPENDIX, status, status, _ISSUE, At.ISSUING, "Ký số phụ lục")
        for status in (DocumentStatus.NUMBERED, DocumentStatus.ISSUED)
    ),
    Transition(Action.SEND, DocumentStatus.ISSUED, DocumentStatus.SENT, _ISSUE, At.ISSUING, "Phát hành"),
    Transition(
        Action.RECALL,
        DocumentStatus.SENT,
        DocumentStatus.RECALLED,
        _ISSUE,
        At.ISSUING,
        "Thu hồi",
        comment_required=True,
    ),
    *(
        Transition(
            Action.CANCEL, source, DocumentStatus.CANCELLED, _DRAFT, At.DRAFTING, "Hủy văn bản", comment_required=True
        )
        for source in (DocumentStatus.DRAFT, DocumentStatus.RETURNED, DocumentStatus.IN_REVIEW)
    ),
    Transition(Action.REGISTER_PAPER, None, DocumentStatus.PAPER, _ISSUE, At.ISSUING, "Vào sổ văn bản giấy (mật)"),
)

_ACTIONS = {t.action for t in TRANSITIONS}
#: Actions that change what the document says; the four-eyes rule reads who took them from the timeline.
_CONTENT_ACTIONS = frozenset({Action.CREATE, Action.EDIT})
#: What the timeline calls each action (the first wording of an action that has several).
ACTION_LABELS = {t.action: t.label for t in reversed(TRANSITIONS)}


def find_transition(action: str, source: DocumentStatus | None) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and t.source == source), None)


def _authors(doc: OutgoingDocument) -> set[int | None]:
    """The creator and whoever last changed the content, read from the timeline."""
    last = next((event.actor_id for event in reversed(doc.events) if event.action in _CONTENT_ACTIONS), None)
    return {doc.created_by_id, last}


def _refusal(session: Session, by: Account, doc: OutgoingDocument, transition: Transition) -> str | None:
    """Why ``by`` may not take ``transition`` (given the status fits), or None."""
    if not can(session, by, transition.permission, transition.at.organisation_id(doc)):
        return PermissionDenied().message
    if transition.signer_only and not is_proposed_signer(by, doc):
        return "Chỉ người được đề xuất ký văn bản này mới được ký duyệt hoặc trả lại ở bước ký."
    if transition.not_author and by.id in _authors(doc):
        return "Người soạn và người sửa dự thảo sau cùng không được tự thẩm định, trình ký văn bản này."
    return None


def may_take(session: Session, by: Account, doc: OutgoingDocument, transition: Transition) -> bool:
    """Whether ``by`` may take ``transition`` now (status, permission, signer, four eyes); no side effect."""
    return transition.source == doc.status and _refusal(session, by, doc, transition) is None


def available_transitions(session: Session, by: Account, doc: OutgoingDocument) -> list[Transition]:
    """The transitions ``by`` may take on ``doc`` now, in table order."""
    return [t for t in TRANSITIONS if may_take(session, by, doc, t)]


def check_transition(session: Session, by: Account, doc: OutgoingDocument | None, action: str) -> Transition:
    """The transition ``action`` takes from the document's status, if ``by`` may take it; raises otherwise.

    ``doc`` is None for the actions that create a document: the caller checks the permission at the
    organisation the new document names. For a document: NotFound when ``by`` cannot see it, Conflict when the
    status does not allow the action, PermissionDenied when ``by`` may not take it. Changes nothing.
    """
    if action not in _ACTIONS:
        raise Conflict("Thao tác không tồn tại.", code="unknown_action")
    if doc is not None:
        ensure(session, by, Permission.VIEW_DOCUMENTS, doc)
    status = None if doc is None else doc.status
    transition = find_transition(action, status)
    if transition is None:
        shown = "chưa có" if doc is None else f"«{doc.status.label}»"
        raise Conflict(
            f"Không thể thực hiện thao tác này khi văn bản đang ở trạng thái {shown}.", code="transition_refused"
        )
    if doc is not None and (refusal := _refusal(session, by, doc, transition)):
        raise PermissionDenied(refusal)
    return transition


def apply_transition(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    action: str,
    comment: str | None = None,
    *,
    details: dict | None = None,
) -> DocumentEvent:
    """Take ``action`` on ``doc``: check the table, move the status, write the event and one audit entry.

    For the creating actions (create, register_paper) ``doc`` is the new, unsaved document, whose
    organisations the caller already checked: it is added to the session here. The caller commits, or rolls
    back on any error.

    The status moves with one compare-and-set UPDATE (``WHERE id = ? AND status = <source>``): of
    simultaneous transitions from one status exactly one wins, whatever the database; the others, which
    read the document before it moved, get Conflict ``already_changed`` and write nothing.
    """
    creating = doc.id is None
    transition = check_transition(session, by, None if creating else doc, action)
    if creating and not can(session, by, transition.permission, transition.at.organisation_id(doc)):
        raise PermissionDenied()
    text = clean_comment(comment, transition.comment_required)
    now = utcnow()
    if transition.source is not None and not compare_and_set(
        session,
        OutgoingDocument,
        doc.id,
        "status",
        transition.source,
        transition.target,
        busy_message="Văn bản đang được người khác xử lý. Thử lại sau giây lát.",
    ):
        raise Conflict(
            "Văn bản vừa được người khác xử lý, trạng thái đã thay đổi. Xem lại văn bản để biết trạng thái hiện tại.",
            code="already_changed",
        )
    actor = Actor.of(by)
    event = DocumentEvent(
        document=doc,
        action=action,
        from_status=transition.source,
        to_status=transition.target,
        comment=text,
        details=details,
        actor_id=actor.account_id,
        actor_label=actor.label,
        at=now,
    )
    doc.status = transition.target
    doc.updated_at = now
    if creating:
        doc.created_by_id = by.id
        doc.created_at = now
        session.add(doc)
    if action == Action.RETURN:
        _void_approval(doc)
    session.add(event)
    if creating:  # the audit entry names the new document's id; otherwise record's flush writes it all
        session.flush()
    audit: dict[str, object] = {
        "from": transition.source and transition.source.value,
        "to": transition.target.value,
        "issuing_body_id": doc.issuing_body_id,
        "drafting_unit_id": doc.drafting_unit_id,
    }
    if text is not None:
        audit["comment"] = text
    audit.update(details or {})
    record(session, actor, f"document.{action}", OBJECT_TYPE, doc.id, audit)
    return event


def _void_approval(doc: OutgoingDocument) -> None:
    """A returned document must be signed again: the approval it had no longer counts (its file stays)."""
    doc.personal_certificate_id = None
    doc.approved_at = None
