"""Rules for certificate requests: drafting, editing and the lifecycle actions.

The checks at submission are :mod:`certsvc.requests.checks`; the lists and the focal office's queue
:mod:`certsvc.requests.listing`.

No Flask here. Every state change goes through :func:`certsvc.requests.transitions.apply_transition`
(one event, one audit entry); the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.records import get_record, to_id
from certsvc.core.sql import one_of_ids
from certsvc.core.validation import FieldError
from certsvc.errors import CertsvcError, Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, can, ensure, request_subject_units
from certsvc.registry.models import Certificate, Token
from certsvc.registry.service import in_register
from certsvc.requests.checks import SubmissionRefused, current_information, nameable, submission_problems
from certsvc.requests.fields import (
    DEFAULT_LIMITS,
    UNIT_LETTER,
    SubmissionLimits,
    clean_fields,
    clean_serial,
    is_urgent_revocation,
    refused_sending,
)
from certsvc.requests.models import CertificateRequest, RequestEvent, RequestStatus, RequestType
from certsvc.requests.transitions import (
    PAGE_ACTIONS,
    SUBMITTING,
    TRANSITIONS,
    Action,
    Transition,
    apply_transition,
    may_take,
)

__all__ = [
    "BulkFailed",
    "create_draft",
    "update_request",
    "get_request",
    "ensure_can_view",
    "take_action",
    "available_transitions",
    "can_edit",
    "may_change",
    "ensure_can_change",
    "bulk_review",
    "parse_type",
    "is_urgent",
    "urgent_revocation",
    "change_current_information",
]

#: Statuses in which the unit may still change what the request says.
#: The names of the unit's letter fields (:data:`UNIT_LETTER`).
_LETTER_FIELDS = frozenset(spec.name for spec in UNIT_LETTER)

EDITABLE = {
    RequestStatus.DRAFT: Action.EDIT,
    RequestStatus.APPROVED: Action.VOID_APPROVAL,
    RequestStatus.RETURNED: Action.EDIT,
}


class BulkFailed(CertsvcError):
    """One request of a bulk action failed: none changed."""

    code = "bulk_failed"

    def __init__(self, request_id: int, cause: CertsvcError):
        detail = cause.message
        if isinstance(cause, ValidationFailed):
            detail = " ".join(cause.field_errors.values()) or detail
        super().__init__(f"Không thay đổi đề nghị nào: đề nghị số {request_id} không thực hiện được ({detail})")
        self.http_status = cause.http_status if cause.http_status != 403 else 400
        self.request_id = request_id


def parse_type(value: object) -> RequestType:
    try:
        return RequestType(str(value))
    except ValueError:
        raise NotFound("Không có loại đề nghị này.") from None


def get_request(session: Session, request_id: object) -> CertificateRequest:
    return get_record(session, CertificateRequest, request_id, "Không tìm thấy đề nghị.")


def ensure_can_view(session: Session, by: Account, request: CertificateRequest) -> None:
    ensure(session, by, Permission.VIEW_REQUESTS, request.organisation_id)


# --- subjects -------------------------------------------------------------------------------------
# A request names only certificates and tokens of the units in ``units`` (see
# certsvc.policy.request_subject_units). Any other record is treated as one the registry does not
# hold, by serial and by id alike: a unit learns nothing of another unit's registry through requests.


def _find_certificate(session: Session, units: frozenset[int], serial: str) -> Certificate | None:
    normalised = func.replace(func.lower(Certificate.serial_hex), ":", "")
    return session.scalars(
        select(Certificate)
        .where(normalised == serial, one_of_ids(Certificate.organisation_id, units), in_register())
        .order_by(Certificate.not_after.desc())
    ).first()


def _find_token(session: Session, units: frozenset[int], serial: str) -> Token | None:
    return session.scalar(
        select(Token).where(func.lower(Token.serial) == serial.lower(), one_of_ids(Token.organisation_id, units))
    )


@dataclass(frozen=True)
class _Subject:
    key: str
    person_id: int | None = None
    certificate_id: int | None = None
    token_id: int | None = None


def _subject(
    session: Session, request_type: RequestType, organisation_id: int, units: frozenset[int], values: dict
) -> _Subject:
    """What the request is about: the key of the "one open request" rule and the registry records
    (those of ``units`` only)."""
    if request_type is RequestType.NEW_INDIVIDUAL:
        person = session.scalar(select(Person).where(Person.cccd == values["cccd"]))
        return _Subject(f"cccd:{values['cccd']}", person_id=person.id if person else None)
    if request_type is RequestType.NEW_ORGANISATION:
        return _Subject(f"tax:{values['tax_code']}")
    if request_type is RequestType.NEW_DEVICE:
        return _Subject(f"device:{organisation_id}:{values['identifier'].lower()}")
    if request_type is RequestType.RECOVERY:
        token = _find_token(session, units, values["token_serial"])
        if token is None:
            return _Subject(f"token-serial:{values['token_serial'].lower()}")
        return _Subject(f"token:{token.id}", person_id=token.holder_id, token_id=token.id)
    certificate = _find_certificate(session, units, values["certificate_serial"])
    if certificate is None:
        return _Subject(f"certificate-serial:{values['certificate_serial']}")
    return _Subject(
        f"certificate:{certificate.id}",
        person_id=certificate.holder_id,
        certificate_id=certificate.id,
        token_id=certificate.token_id,
    )


def _with_references(session: Session, units: frozenset[int], raw: Mapping[str, object]) -> dict:
    """Let callers name the certificate or token by id (``certificate_id``, ``token_id``) instead of serial;
    an id of a record outside ``units`` names nothing, and its serial is not disclosed."""
    values = dict(raw)
    if not values.get("certificate_serial") and values.get("certificate_id") is not None:
        certificate = nameable(units, session.get(Certificate, to_id(values["certificate_id"]) or 0))
        if certificate is not None:
            values["certificate_serial"] = certificate.serial_hex
    if not values.get("token_serial") and values.get("token_id") is not None:
        token = nameable(units, session.get(Token, to_id(values["token_id"]) or 0))
        if token is not None:
            values["token_serial"] = token.serial
    return values


def _clean(
    session: Session,
    request_type: RequestType,
    organisation_id: int,
    raw: Mapping[str, object],
    limits: SubmissionLimits,
):
    units = request_subject_units(session, organisation_id)
    values, collector = clean_fields(request_type, _with_references(session, units, raw), limits)
    collector.raise_if_failed()
    return values, _subject(session, request_type, organisation_id, units, values)


def _apply_subject(request: CertificateRequest, values: dict, subject: _Subject) -> None:
    request.data = values
    request.subject_key = subject.key
    request.subject_person_id = subject.person_id
    request.certificate_id = subject.certificate_id
    request.token_id = subject.token_id


# --- drafting and editing -------------------------------------------------------------------------


def create_draft(
    session: Session,
    by: Account,
    organisation_id: object,
    request_type: RequestType | str,
    fields: Mapping[str, object],
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> CertificateRequest:
    """A new draft request of ``organisation_id`` (an id, or its text as a form posts it), validated as the
    form is; the caller commits.

    ``fields`` are keyed like :mod:`certsvc.requests.fields` (a certificate may be named by
    ``certificate_id`` instead of ``certificate_serial``, a token by ``token_id``). Raises
    PermissionDenied without DRAFT_REQUESTS at the organisation, ValidationFailed on bad fields (e-mails
    off the official domain of ``limits`` too).
    """
    return _new_draft(
        session, by, organisation_id, RequestType(request_type), fields, Permission.DRAFT_REQUESTS, limits
    )


def draft_lost_token_revocation(
    session: Session, by: Account, organisation_id: int, fields: Mapping[str, object]
) -> CertificateRequest:
    """The revocation request (Mẫu 05) drafted when a MẬT token is reported lost.

    The reporter is the unit's clerk or head, who may record custody events but not draft
    other requests; the unit head then approves and submits it as usual. It is marked urgent: once the
    focal office accepts it, it goes to the CA at once, outside any batch.
    """
    urgent = {**fields, "urgent": True}
    return _new_draft(session, by, organisation_id, RequestType.REVOCATION, urgent, Permission.RECORD_CUSTODY)


def _new_draft(
    session: Session,
    by: Account,
    organisation_id: object,
    kind: RequestType,
    fields: Mapping[str, object],
    permission: Permission,
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> CertificateRequest:
    org_id = to_id(organisation_id)
    if org_id is None or session.get(Organisation, org_id) is None:
        raise ValidationFailed({"organisation_id": "Chọn đơn vị đề nghị."})
    ensure(session, by, permission, org_id)
    values, subject = _clean(session, kind, org_id, fields, limits)
    request = CertificateRequest(request_type=kind, organisation_id=org_id, created_by_id=by.id)
    _apply_subject(request, values, subject)
    # Not added before the transition: its status is unset until "create" gives it one.
    apply_transition(session, by, request, Action.CREATE, details={"data": values})
    return request


def can_edit(session: Session, by: Account, request: CertificateRequest) -> bool:
    action = EDITABLE.get(request.status)
    return action is not None and any(
        may_take(session, by, request, t) for t in TRANSITIONS if t.action == action and t.source == request.status
    )


def may_change(session: Session, by: Account, request: CertificateRequest) -> bool:
    """Only the unit (its officers and its head) changes what its request says, and what is attached to it."""
    return any(
        can(session, by, p, request.organisation_id) for p in (Permission.DRAFT_REQUESTS, Permission.APPROVE_REQUESTS)
    )


def ensure_can_change(session: Session, by: Account, request: CertificateRequest) -> None:
    if not may_change(session, by, request):
        raise PermissionDenied()


def update_request(
    session: Session,
    by: Account,
    request: CertificateRequest,
    fields: Mapping[str, object],
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> CertificateRequest:
    """Change what the request says. Editing an approved request voids the approval (back to draft); a change
    of the unit's letter alone is recorded as such (:data:`Action.RECORD_LETTER`) and voids nothing."""
    ensure_can_change(session, by, request)
    action = EDITABLE.get(request.status)
    if action is None:
        raise Conflict(f"Không thể sửa đề nghị ở trạng thái «{request.status.label}».", code="not_editable")
    values, subject = _clean(session, request.request_type, request.organisation_id, fields, limits)
    changes = {
        name: [request.data.get(name), values.get(name)]
        for name in set(request.data) | set(values)
        if request.data.get(name) != values.get(name)
    }
    if not changes:
        return request
    if changes.keys() <= _LETTER_FIELDS:
        action = Action.RECORD_LETTER
    _apply_subject(request, values, subject)
    comment = "Phê duyệt bị hủy do sửa nội dung sau khi phê duyệt." if action == Action.VOID_APPROVAL else None
    apply_transition(session, by, request, action, comment, details={"changes": changes})
    return request


# --- actions ----------------------------------------------------------------------------------------


def take_action(
    session: Session,
    by: Account,
    request: CertificateRequest,
    action: str,
    comment: str | None = None,
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> RequestEvent:
    """A lifecycle step from the request page or the queue; sending runs the submission checks first.

    Only :data:`PAGE_ACTIONS`: completing a request, for one, goes through its outcome (the registries).
    A request leaves the unit only with the fields it may be saved without but not sent without (the unit's
    letter, see :func:`certsvc.requests.fields.refused_sending`): ValidationFailed naming them, nothing changed.
    """
    if action not in PAGE_ACTIONS:
        raise NotFound("Không có thao tác này.")
    if action == Action.SEND_URGENT and not is_urgent(request):
        raise Conflict(
            "Chỉ đề nghị thu hồi khẩn (mất thiết bị, lộ khóa bí mật) được gửi ngoài đợt tổng hợp.", code="not_urgent"
        )
    if action in SUBMITTING:
        # Permission and status first, so an outsider learns nothing from the submission checks.
        transition = next((t for t in TRANSITIONS if t.action == action and t.source == request.status), None)
        if transition is not None and may_take(session, by, request, transition):
            if (refused := refused_sending(request.request_type, request.data)) is not None:
                raise refused
            problems = submission_problems(session, request, limits, by)
            if problems:
                raise SubmissionRefused(problems)
    return apply_transition(session, by, request, action, comment)


def urgent_revocation() -> ColumnElement[bool]:
    """The requests :func:`is_urgent` says are urgent, as a query's condition (the form lets the flag be set
    only with an urgent reason)."""
    return and_(
        CertificateRequest.request_type == RequestType.REVOCATION,
        CertificateRequest.data["urgent"].as_boolean().is_(True),
    )


def is_urgent(request: CertificateRequest) -> bool:
    """An urgent revocation: the CA is asked to act at once, without waiting for a batch."""
    return is_urgent_revocation(request.request_type, request.data)


def available_transitions(session: Session, by: Account, request: CertificateRequest) -> list[Transition]:
    """The buttons the request page shows this account: allowed now, and offered there."""
    return [
        t
        for t in TRANSITIONS
        if t.on_request_page
        and (t.action != Action.SEND_URGENT or is_urgent(request))
        and may_take(session, by, request, t)
    ]


def change_current_information(session: Session, organisation_id: int, serial: object) -> dict[str, str | None]:
    """For an information change (Mẫu 04) of ``organisation_id``: the registry's current values of the
    certificate ``serial`` names (see :func:`certsvc.requests.checks.current_information`), or nothing
    when the unit may not name it."""
    try:
        cleaned = clean_serial(serial)
    except FieldError:  # the form shows that error under the serial
        return {}
    if cleaned is None:
        return {}
    certificate = _find_certificate(session, request_subject_units(session, organisation_id), cleaned)
    return current_information(certificate) if certificate is not None else {}


def bulk_review(
    session: Session, by: Account, request_ids: Sequence[object], action: str, reason: str | None = None
) -> list[RequestEvent]:
    """Accept or return several requests: each transition audited separately, all or none.

    On the first failure raises :class:`BulkFailed` naming the request; the caller rolls back.
    """
    if action not in (Action.ACCEPT, Action.RETURN):
        raise ValidationFailed({"action": "Chọn tiếp nhận hoặc trả lại."})
    ids = sorted({to_id(value) or 0 for value in request_ids})
    if not ids:
        raise ValidationFailed({"request_ids": "Chọn ít nhất một đề nghị."})
    if action == Action.RETURN and not " ".join((reason or "").split()):
        raise ValidationFailed({"reason": "Trả lại đề nghị phải ghi rõ lý do."})
    found = {r.id: r for r in session.scalars(select(CertificateRequest).where(CertificateRequest.id.in_(ids)))}
    events = []
    for request_id in ids:
        request = found.get(request_id)
        if request is None:
            raise ValidationFailed({"request_ids": f"Không tìm thấy đề nghị số {request_id}."})
        try:
            events.append(apply_transition(session, by, request, action, reason))
        except CertsvcError as error:
            raise BulkFailed(request_id, error) from error
    return events
