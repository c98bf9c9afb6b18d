"""The request lifecycle: one table of allowed transitions and the one function that applies them.

Each :class:`Transition` says from which status an action leads to which, who may
take it (a permission at the request's unit), whether a comment is required and
whether the actor must not be the drafter. :func:`apply_transition` is the only
code that changes a request's status: it checks the table, moves the status only if
nobody moved it meanwhile, records a :class:`RequestEvent` for the timeline and
exactly one audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.transitions import clean_comment, compare_and_set
from certsvc.errors import Conflict, PermissionDenied
from certsvc.policy import Permission, can
from certsvc.requests.models import CertificateRequest, RequestEvent, RequestStatus
from certsvc.timeutil import utcnow

__all__ = [
    "Action",
    "Transition",
    "TRANSITIONS",
    "SUBMITTING",
    "find_transition",
    "apply_transition",
    "may_take",
    "ACTION_LABELS",
    "PAGE_ACTIONS",
    "action_permissions",
]


class Action:
    """Action names, as stored on events and used in URLs."""

    CREATE = "create"
    EDIT = "edit"
    VOID_APPROVAL = "void_approval"
    RECORD_LETTER = "record_letter"
    APPROVE = "approve"
    SUBMIT = "submit"
    APPROVE_SUBMIT = "approve_submit"
    RESUBMIT = "resubmit"
    ACCEPT = "accept"
    RETURN = "return"
    CANCEL = "cancel"
    ADD_TO_BATCH = "add_to_batch"
    REMOVE_FROM_BATCH = "remove_from_batch"
    MARK_SENT = "mark_sent"
    SEND_URGENT = "send_urgent"
    COMPLETE = "complete"
    REJECT = "reject"


@dataclass(frozen=True)
class Transition:
    action: str
    source: RequestStatus | None
    target: RequestStatus
    #: Any one of these, held at the request's unit, allows the transition.
    permissions: frozenset[Permission]
    #: Vietnamese button text and timeline wording.
    label: str
    comment_required: bool = False
    #: Neither the drafter nor whoever last changed the content may take it ("four eyes").
    not_drafter: bool = False
    #: Offered as a button on the request page (batch and outcome steps have their own pages).
    on_request_page: bool = True


_UNIT = frozenset({Permission.DRAFT_REQUESTS, Permission.APPROVE_REQUESTS})
_HEAD = frozenset({Permission.APPROVE_REQUESTS})
_FOCAL = frozenset({Permission.REVIEW_REQUESTS})
_BATCH = frozenset({Permission.MANAGE_BATCHES})

TRANSITIONS: tuple[Transition, ...] = (
    # The keeper of a MẬT token who reports it lost drafts its revocation (see
    # certsvc.requests.service.draft_lost_token_revocation); other drafts are the unit officer's.
    Transition(
        Action.CREATE,
        None,
        RequestStatus.DRAFT,
        frozenset({Permission.DRAFT_REQUESTS, Permission.RECORD_CUSTODY}),
        "Tạo dự thảo",
        on_request_page=False,
    ),
    Transition(Action.EDIT, RequestStatus.DRAFT, RequestStatus.DRAFT, _UNIT, "Sửa nội dung", on_request_page=False),
    Transition(
        Action.VOID_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.DRAFT,
        _UNIT,
        "Sửa nội dung, hủy phê duyệt",
        on_request_page=False,
    ),
    Transition(
        Action.EDIT, RequestStatus.RETURNED, RequestStatus.RETURNED, _UNIT, "Sửa nội dung", on_request_page=False
    ),
    # The unit's own letter (its number, date, signer) says how the request was sent, not what it asks: recording
    # it keeps an approval and makes no author, so the head who signed the letter may type it in and still send.
    *(
        Transition(
            Action.RECORD_LETTER, status, status, _UNIT, "Ghi công văn đề nghị của đơn vị", on_request_page=False
        )
        for status in (RequestStatus.DRAFT, RequestStatus.APPROVED, RequestStatus.RETURNED)
    ),
    Transition(Action.APPROVE, RequestStatus.DRAFT, RequestStatus.APPROVED, _HEAD, "Phê duyệt", not_drafter=True),
    Transition(
        Action.APPROVE_SUBMIT,
        RequestStatus.DRAFT,
        RequestStatus.SUBMITTED,
        _HEAD,
        "Phê duyệt và gửi đầu mối",
        not_drafter=True,
    ),
    Transition(Action.SUBMIT, RequestStatus.APPROVED, RequestStatus.SUBMITTED, _HEAD, "Gửi đầu mối"),
    Transition(
        Action.RESUBMIT, RequestStatus.RETURNED, RequestStatus.SUBMITTED, _HEAD, "Gửi lại đầu mối", not_drafter=True
    ),
    Transition(Action.ACCEPT, RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, _FOCAL, "Tiếp nhận"),
    Transition(
        Action.RETURN, RequestStatus.SUBMITTED, RequestStatus.RETURNED, _FOCAL, "Trả lại", comment_required=True
    ),
    Transition(
        Action.CANCEL, RequestStatus.DRAFT, RequestStatus.CANCELLED, _UNIT, "Hủy đề nghị", comment_required=True
    ),
    Transition(
        Action.CANCEL, RequestStatus.APPROVED, RequestStatus.CANCELLED, _UNIT, "Hủy đề nghị", comment_required=True
    ),
    Transition(
        Action.CANCEL, RequestStatus.SUBMITTED, RequestStatus.CANCELLED, _UNIT, "Hủy đề nghị", comment_required=True
    ),
    Transition(
        Action.CANCEL, RequestStatus.RETURNED, RequestStatus.CANCELLED, _UNIT, "Hủy đề nghị", comment_required=True
    ),
    Transition(
        Action.CANCEL, RequestStatus.ACCEPTED, RequestStatus.CANCELLED, _UNIT, "Hủy đề nghị", comment_required=True
    ),
    Transition(
        Action.ADD_TO_BATCH,
        RequestStatus.ACCEPTED,
        RequestStatus.IN_BATCH,
        _BATCH,
        "Đưa vào đợt tổng hợp",
        on_request_page=False,
    ),
    Transition(
        Action.REMOVE_FROM_BATCH,
        RequestStatus.IN_BATCH,
        RequestStatus.ACCEPTED,
        _BATCH,
        "Rút khỏi đợt tổng hợp",
        on_request_page=False,
    ),
    Transition(
        Action.MARK_SENT,
        RequestStatus.IN_BATCH,
        RequestStatus.SENT,
        _BATCH,
        "Gửi cơ quan cấp chứng thư số",
        on_request_page=False,
    ),
    # An urgent revocation (lost token, compromised key) goes to the CA at once, outside any batch; only
    # such requests offer it (certsvc.requests.service.is_urgent).
    Transition(
        Action.SEND_URGENT,
        RequestStatus.ACCEPTED,
        RequestStatus.SENT,
        _BATCH,
        "Gửi khẩn cơ quan cấp (ngoài đợt tổng hợp)",
        comment_required=True,
    ),
    Transition(
        Action.COMPLETE, RequestStatus.SENT, RequestStatus.DONE, _BATCH, "Ghi nhận hoàn thành", on_request_page=False
    ),
    Transition(
        Action.REJECT,
        RequestStatus.SENT,
        RequestStatus.REJECTED,
        _BATCH,
        "Ghi nhận bị từ chối",
        comment_required=True,
        on_request_page=False,
    ),
)

#: Actions that send a request to the focal office: the submission checks (certsvc.requests.checks) run before them.
SUBMITTING = frozenset({Action.APPROVE_SUBMIT, Action.SUBMIT, Action.RESUBMIT})

_ACTIONS = {t.action for t in TRANSITIONS}
#: Actions that change what the request says; the timeline records who took them.
_CONTENT_ACTIONS = frozenset({Action.CREATE, Action.EDIT, Action.VOID_APPROVAL})
#: What the timeline calls each action.
ACTION_LABELS = {t.action: t.label for t in reversed(TRANSITIONS)}


def find_transition(action: str, source: RequestStatus | None) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and t.source == source), None)


def _permitted(session: Session, by: Account, request: CertificateRequest, permissions: frozenset[Permission]) -> bool:
    return any(can(session, by, permission, request.organisation_id) for permission in permissions)


#: Actions a person takes with a button on the request page or the queue; the others (edit, batch
#: membership, sending, outcomes) are consequences of their own pages and services.
PAGE_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.on_request_page)


def action_permissions(action: str) -> frozenset[Permission]:
    """Every permission that allows ``action`` from some status (for checking before the status)."""
    return frozenset(p for t in TRANSITIONS if t.action == action for p in t.permissions)


def _authors(request: CertificateRequest) -> set[int | None]:
    """Who wrote what the request says: its creator and whoever last changed the content.

    Read from the timeline, which records every content change with its actor: one source of truth,
    and no column to keep in step with it.
    """
    last = next((event.actor_id for event in reversed(request.events) if event.action in _CONTENT_ACTIONS), None)
    return {request.created_by_id, last}


def _four_eyes_refused(by: Account, request: CertificateRequest, transition: Transition) -> bool:
    return transition.not_drafter and by.id in _authors(request)


def may_take(session: Session, by: Account, request: CertificateRequest, transition: Transition) -> bool:
    """Whether ``by`` may take ``transition`` now (status, permission, four eyes); no side effect."""
    if transition.source != request.status or not _permitted(session, by, request, transition.permissions):
        return False
    return not _four_eyes_refused(by, request, transition)


def apply_transition(
    session: Session,
    by: Account | Actor,
    request: CertificateRequest,
    action: str,
    comment: str | None = None,
    *,
    details: dict | None = None,
) -> RequestEvent:
    """Take ``action`` on ``request``: check the table, move the status, write the event and one audit entry.

    ``by`` is normally the account acting, whose permissions are checked. An :class:`Actor` skips those
    checks: the step is a consequence of something already allowed, taken in the name of who did it (the
    cancellation of recoveries when a revocation is recorded, see
    :func:`certsvc.requests.batches.record_outcome`). The caller commits, or rolls back on any error.

    The status moves with one compare-and-set UPDATE (``WHERE status = <source>``): of simultaneous
    transitions from one status exactly one wins, whatever the database; the others, which read the
    request before it moved, get Conflict ``already_changed`` and write nothing.
    """
    if action not in _ACTIONS:
        raise Conflict("Thao tác không tồn tại.", code="unknown_action")
    account, actor = (by, Actor.of(by)) if isinstance(by, Account) else (None, by)
    if account is not None and not _permitted(session, account, request, action_permissions(action)):
        raise PermissionDenied()
    transition = find_transition(action, request.status)
    if transition is None:
        raise Conflict(
            f"Không thể thực hiện thao tác này khi đề nghị đang ở trạng thái «{request.status.label}».",
            code="transition_refused",
        )
    if account is not None and not _permitted(session, account, request, transition.permissions):
        raise PermissionDenied()
    if account is not None and _four_eyes_refused(account, request, transition):
        raise PermissionDenied(
            "Người soạn đề nghị và người sửa nội dung sau cùng không được tự phê duyệt, gửi đề nghị này."
        )
    text = clean_comment(comment, transition.comment_required)
    now = utcnow()
    if transition.source is not None and not compare_and_set(
        session,
        CertificateRequest,
        request.id,
        "status",
        transition.source,
        transition.target,
        busy_message="Đề nghị đang được người khác xử lý. Thử lại sau giây lát.",
    ):
        raise Conflict(
            "Đề nghị vừa được người khác xử lý, trạng thái đã thay đổi. Xem lại đề nghị để biết trạng thái hiện tại.",
            code="already_changed",
        )
    event = RequestEvent(
        request=request,
        action=action,
        from_status=request.status,
        to_status=transition.target,
        comment=text,
        actor_id=actor.account_id,
        actor_label=actor.label,
        occurred_at=now,
    )
    request.status = transition.target
    request.updated_at = now
    if transition.target is RequestStatus.APPROVED or action == Action.APPROVE_SUBMIT:
        request.approved_by_id = actor.account_id
    if transition.target is RequestStatus.DRAFT:
        request.approved_by_id = None
    if transition.target is RequestStatus.SUBMITTED:
        request.submitted_at = now
    session.add(event)
    session.flush()
    audit: dict[str, object] = {
        "type": request.request_type.value,
        "from": event.from_status and event.from_status.value,
        "to": transition.target.value,
        "organisation_id": request.organisation_id,
    }
    if text is not None:
        audit["comment"] = text
    audit.update(details or {})
    record(session, actor, f"request.{action}", "certificate_request", request.id, audit)
    return event
