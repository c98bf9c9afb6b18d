"""Rules for certificate requests: drafting, editing, the policy checks at submission, the queues.

No Flask here. Every state change goes through :func:`certsvc.requests.transitions.apply_transition`
(one event, one audit entry); the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, false, func, null, or_, select
from sqlalchemy.orm import Session, selectinload

from certsvc.accounts.models import Account
from certsvc.core.paging import PER_PAGE, Page, count_rows, paginate
from certsvc.core.records import get_record, to_id
from certsvc.core.sql import one_of_ids, written
from certsvc.core.validation import FieldError, parse_count
from certsvc.errors import CertsvcError, Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, can, ensure, orgs_in_scope, request_subject_units
from certsvc.registry.models import Certificate, Token, TokenState
from certsvc.registry.service import due_back_message, in_register, open_returns
from certsvc.requests.fields import DEFAULT_POLICY, RequestPolicy, clean_fields, written_serial
from certsvc.requests.models import (
    CLOSED_STATUSES,
    CertificateRequest,
    RequestEvent,
    RequestStatus,
    RequestType,
    SubjectLine,
    subject_line,
)
from certsvc.requests.transitions import (
    PAGE_ACTIONS,
    SUBMITTING,
    TRANSITIONS,
    Action,
    Transition,
    apply_transition,
    may_take,
)
from certsvc.timeutil import utcnow

__all__ = [
    "PolicyProblem",
    "PolicyRefused",
    "RequestFilter",
    "BulkFailed",
    "create_draft",
    "update_request",
    "get_request",
    "ensure_can_view",
    "policy_problems",
    "take_action",
    "available_transitions",
    "can_edit",
    "ensure_can_change",
    "find_requests",
    "count_requests",
    "page_requests",
    "page_listed",
    "ListedRequest",
    "review_scope",
    "bulk_review",
    "parse_type",
]

S = RequestStatus
_CERTIFICATE_TYPES = {RequestType.RENEWAL, RequestType.CHANGE, RequestType.REVOCATION}
_NEW_TYPES = {RequestType.NEW_INDIVIDUAL, RequestType.NEW_ORGANISATION, RequestType.NEW_DEVICE}
#: Statuses in which the unit may still change what the request says.
EDITABLE = {S.DRAFT: Action.EDIT, S.APPROVED: Action.VOID_APPROVAL, S.RETURNED: Action.EDIT}
#: What the focal office's queue shows: requests that have reached it.
QUEUE_STATUSES = (S.SUBMITTED, S.RETURNED, S.ACCEPTED, S.IN_BATCH, S.SENT, S.DONE, S.REJECTED, S.CANCELLED)


@dataclass(frozen=True)
class PolicyProblem:
    """Why a request cannot be submitted: a stable code and a Vietnamese message."""

    code: str
    message: str


class PolicyRefused(CertsvcError):
    code = "policy_refused"
    http_status = 400

    def __init__(self, problems: Sequence[PolicyProblem]):
        super().__init__("Đề nghị chưa thể gửi: " + " ".join(p.message for p in problems))
        self.problems = tuple(problems)


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

R = TypeVar("R", Certificate, Token)


def _nameable(units: frozenset[int], record: R | None) -> R | None:
    """``record`` when a request may name it, else None (as if it did not exist)."""
    return record if record is not None and record.organisation_id in units else None


def _find_certificate(session: Session, units: frozenset[int], serial: str) -> Certificate | None:
    normalised = func.replace(func.lower(Certificate.serial_hex), ":", "")
    return session.scalars(
        select(Certificate).where(normalised == serial, one_of_ids(Certificate.organisation_id, units),
                                  in_register())
        .order_by(Certificate.not_after.desc())
    ).first()


def _find_token(session: Session, units: frozenset[int], serial: str) -> Token | None:
    return session.scalar(select(Token).where(
        func.lower(Token.serial) == serial.lower(), one_of_ids(Token.organisation_id, units)))


@dataclass(frozen=True)
class _Subject:
    key: str
    person_id: int | None = None
    certificate_id: int | None = None
    token_id: int | None = None


def _subject(session: Session, request_type: RequestType, organisation_id: int, units: frozenset[int],
             values: dict) -> _Subject:
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
    return _Subject(f"certificate:{certificate.id}", person_id=certificate.holder_id,
                    certificate_id=certificate.id, token_id=certificate.token_id)


def _with_references(session: Session, units: frozenset[int], raw: Mapping[str, object]) -> dict:
    """Let callers name the certificate or token by id (``certificate_id``, ``token_id``) instead of serial;
    an id of a record outside ``units`` names nothing, and its serial is not disclosed."""
    values = dict(raw)
    if not values.get("certificate_serial") and values.get("certificate_id") is not None:
        certificate = _nameable(units, session.get(Certificate, to_id(values["certificate_id"]) or 0))
        if certificate is not None:
            values["certificate_serial"] = certificate.serial_hex
    if not values.get("token_serial") and values.get("token_id") is not None:
        token = _nameable(units, session.get(Token, to_id(values["token_id"]) or 0))
        if token is not None:
            values["token_serial"] = token.serial
    return values


def _clean(session: Session, request_type: RequestType, organisation_id: int, raw: Mapping[str, object]):
    units = request_subject_units(session, organisation_id)
    values, collector = clean_fields(request_type, _with_references(session, units, raw))
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
    session: Session, by: Account, organisation_id: int, request_type: RequestType | str,
    fields: Mapping[str, object],
) -> CertificateRequest:
    """A new draft request of ``organisation_id``, validated as the form is; the caller commits.

    ``fields`` are keyed like :mod:`certsvc.requests.fields` (a certificate may be named by
    ``certificate_id`` instead of ``certificate_serial``, a token by ``token_id``). Raises
    PermissionDenied without DRAFT_REQUESTS at the organisation, ValidationFailed on bad fields.
    """
    return _new_draft(session, by, organisation_id, RequestType(request_type), fields, Permission.DRAFT_REQUESTS)


def draft_lost_token_revocation(
    session: Session, by: Account, organisation_id: int, fields: Mapping[str, object]
) -> CertificateRequest:
    """The revocation request (Mẫu 05) drafted when a MẬT token is reported lost.

    The reporter is the unit's clerk or head, who may record custody events but not draft
    other requests; the unit head then approves and submits it as usual.
    """
    return _new_draft(session, by, organisation_id, RequestType.REVOCATION, fields, Permission.RECORD_CUSTODY)


def _new_draft(
    session: Session, by: Account, organisation_id: int, kind: RequestType, fields: Mapping[str, object],
    permission: Permission,
) -> CertificateRequest:
    org_id = to_id(organisation_id)
    if org_id is None or session.get(Organisation, org_id) is None:
        raise ValidationFailed({"organisation_id": "Chọn đơn vị đề nghị."})
    ensure(session, by, permission, org_id)
    values, subject = _clean(session, kind, org_id, fields)
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


def ensure_can_change(session: Session, by: Account, request: CertificateRequest) -> None:
    """Only the unit (its officers and its head) changes what its request says."""
    if not any(can(session, by, p, request.organisation_id)
               for p in (Permission.DRAFT_REQUESTS, Permission.APPROVE_REQUESTS)):
        raise PermissionDenied()


def update_request(
    session: Session, by: Account, request: CertificateRequest, fields: Mapping[str, object]
) -> CertificateRequest:
    """Change what the request says. Editing an approved request voids the approval (back to draft)."""
    ensure_can_change(session, by, request)
    action = EDITABLE.get(request.status)
    if action is None:
        raise Conflict(f"Không thể sửa đề nghị ở trạng thái «{request.status.label}».", code="not_editable")
    values, subject = _clean(session, request.request_type, request.organisation_id, fields)
    changes = {name: [request.data.get(name), values.get(name)]
               for name in set(request.data) | set(values) if request.data.get(name) != values.get(name)}
    if not changes:
        return request
    _apply_subject(request, values, subject)
    comment = "Phê duyệt bị hủy do sửa nội dung sau khi phê duyệt." if action == Action.VOID_APPROVAL else None
    apply_transition(session, by, request, action, comment, details={"changes": changes})
    return request


# --- policy at submission -------------------------------------------------------------------------

def policy_problems(
    session: Session, request: CertificateRequest, policy: RequestPolicy = DEFAULT_POLICY,
    by: Account | None = None,
) -> list[PolicyProblem]:
    """Everything that blocks sending ``request`` to the focal office (empty when it may go).

    Another open request is named (number, type, status) only to ``by`` when ``by`` may view it.
    """
    problems: list[PolicyProblem] = []
    data = request.data or {}
    kind = request.request_type
    # A record the request may no longer name (moved to another unit since) counts as unknown.
    units = request_subject_units(session, request.organisation_id)
    certificate, token = _nameable(units, request.certificate), _nameable(units, request.token)
    other = _open_other(session, request, CertificateRequest.subject_key == request.subject_key)
    if other is not None:
        named = (f"đề nghị số {other.id} ({other.request_type.label}, {other.status.label.lower()})"
                 if _may_view(session, by, other) else "một đề nghị khác")
        problems.append(PolicyProblem(
            "duplicate_open", f"Đã có {named} đang mở cho cùng người, chứng thư số hoặc thiết bị này."))
    if kind in _NEW_TYPES and data.get("validity_years", 0) > policy.max_new_years:
        problems.append(PolicyProblem(
            "validity_too_long", f"Thời hạn chứng thư số cấp mới tối đa {policy.max_new_years} năm."))
    if kind is RequestType.RENEWAL and data.get("extension_years", 0) > policy.max_extension_years:
        problems.append(PolicyProblem(
            "extension_too_long", f"Thời gian gia hạn tối đa {policy.max_extension_years} năm."))
    if kind in _CERTIFICATE_TYPES:
        problems.extend(_certificate_problems(request, certificate, policy))
    if kind is RequestType.REVOCATION:
        if not data.get("reason"):
            problems.append(PolicyProblem("revocation_without_reason", "Chọn lý do thu hồi chứng thư số."))
        elif data["reason"] == "other" and not data.get("reason_detail"):
            problems.append(PolicyProblem("revocation_without_reason", "Ghi rõ nội dung lý do thu hồi khác."))
    if kind is RequestType.CHANGE and certificate is not None and not _changes_something(request, certificate):
        problems.append(PolicyProblem(
            "change_changes_nothing",
            "Đề nghị thay đổi thông tin không thay đổi nội dung nào so với thông tin hiện tại của chứng thư số."))
    if kind is RequestType.RECOVERY:
        if token is None:
            problems.append(PolicyProblem(
                "unknown_token",
                f"Thiết bị số hiệu «{data.get('token_serial')}» không có trong sổ thiết bị lưu khóa bí mật."))
        elif token.state in (TokenState.RETURNED, TokenState.DESTROYED, TokenState.LOST):
            problems.append(PolicyProblem(
                "token_not_recoverable",
                f"Thiết bị «{token.serial}» đang ở trạng thái «{token.state.label}», không thể khôi phục."))
        else:
            problems.extend(_token_going_back(session, request, token, by))
    return problems


def _may_view(session: Session, by: Account | None, other: CertificateRequest) -> bool:
    """Whether a problem may name ``other`` to ``by``: another unit's requests are not disclosed."""
    return by is not None and can(session, by, Permission.VIEW_REQUESTS, other.organisation_id)


def _open_other(session: Session, request: CertificateRequest, *conditions) -> CertificateRequest | None:
    """The first other open request that meets ``conditions`` and goes before ``request``: a later
    draft does not block an earlier request; anything already sent does."""
    return session.scalars(select(CertificateRequest).where(
        *conditions,
        CertificateRequest.id != request.id,
        CertificateRequest.status.not_in(list(CLOSED_STATUSES)),
        or_(CertificateRequest.id < request.id, CertificateRequest.status.not_in([S.DRAFT, S.APPROVED])),
    ).order_by(CertificateRequest.id)).first()


def _token_going_back(
    session: Session, request: CertificateRequest, token: Token, by: Account | None
) -> list[PolicyProblem]:
    """A token whose certificate is revoked, or is being revoked, goes back to the CA: it is not recovered."""
    if open_returns(session, [token.id]):
        return [PolicyProblem("token_being_returned", due_back_message(token))]
    revocation = _open_other(session, request, CertificateRequest.request_type == RequestType.REVOCATION,
                             CertificateRequest.token_id == token.id)
    if revocation is not None:
        named = f"Đề nghị thu hồi số {revocation.id}" if _may_view(session, by, revocation) else "Một đề nghị thu hồi"
        return [PolicyProblem(
            "token_being_revoked",
            f"{named} đang mở cho chứng thư số trên thiết bị «{token.serial}»: "
            "thiết bị sẽ nộp lại cơ quan cấp, không khôi phục.")]
    return []


def _certificate_problems(
    request: CertificateRequest, certificate: Certificate | None, policy: RequestPolicy
) -> list[PolicyProblem]:
    if certificate is None:
        return [PolicyProblem(
            "certificate_not_registered",
            f"Chứng thư số số hiệu «{written_serial(str(request.data.get('certificate_serial') or ''))}» không có trong sổ chứng thư số.")]
    if certificate.revoked_at is not None:
        return [PolicyProblem("certificate_revoked", "Chứng thư số này đã bị thu hồi.")]
    if request.request_type is RequestType.RENEWAL:
        expired_for = utcnow() - certificate.not_after
        if expired_for > timedelta(days=policy.renewal_grace_days):
            return [PolicyProblem(
                "certificate_expired_too_long",
                f"Chứng thư số đã hết hạn {expired_for.days} ngày (quá {policy.renewal_grace_days} ngày): "
                "không gia hạn được, cần đề nghị cấp mới.")]
    return []


def _changes_something(request: CertificateRequest, certificate: Certificate) -> bool:
    holder = certificate.holder
    current = {
        "new_full_name": holder.full_name if holder else certificate.subject_cn,
        "new_position": holder.position if holder else None,
        "new_unit_name": holder.organisation.name if holder else certificate.organisation.name,
        "new_email": holder.email if holder else None,
        "new_phone": holder.phone if holder else None,
    }
    return any(
        request.data.get(name) and str(request.data[name]).casefold() != str(value or "").casefold()
        for name, value in current.items()
    )


# --- actions ----------------------------------------------------------------------------------------

def take_action(
    session: Session, by: Account, request: CertificateRequest, action: str, comment: str | None = None,
    policy: RequestPolicy = DEFAULT_POLICY,
) -> RequestEvent:
    """A lifecycle step from the request page or the queue; sending runs the policy checks first.

    Only :data:`PAGE_ACTIONS`: completing a request, for one, goes through its outcome (the registries).
    """
    if action not in PAGE_ACTIONS:
        raise NotFound("Không có thao tác này.")
    if action in SUBMITTING:
        # Permission and status first, so an outsider learns nothing from the policy messages.
        transition = next((t for t in TRANSITIONS if t.action == action and t.source == request.status), None)
        if transition is not None and may_take(session, by, request, transition):
            problems = policy_problems(session, request, policy, by)
            if problems:
                raise PolicyRefused(problems)
    return apply_transition(session, by, request, action, comment)


def available_transitions(session: Session, by: Account, request: CertificateRequest) -> list[Transition]:
    """The buttons the request page shows this account: allowed now, and offered there."""
    return [t for t in TRANSITIONS if t.on_request_page and may_take(session, by, request, t)]


# --- lists and the focal office's queue -------------------------------------------------------------

@dataclass(frozen=True)
class RequestFilter:
    organisation_id: int | None = None
    request_type: RequestType | None = None
    status: RequestStatus | None = None
    #: Only requests that reached the focal office at least this many days ago.
    min_age_days: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, object], scope: set[int], default_status: RequestStatus | None = None):
        """Read the filter from the query string; refuse what names nothing or lies outside ``scope``."""
        errors: dict[str, str] = {}
        org_id = None
        if raw.get("organisation_id"):
            org_id = to_id(raw["organisation_id"])
            if org_id not in scope:
                errors["organisation_id"] = "Đơn vị không có trong danh sách bạn được xem."
        kind = status = age = None
        if raw.get("request_type"):
            try:
                kind = RequestType(str(raw["request_type"]))
            except ValueError:
                errors["request_type"] = "Loại đề nghị không hợp lệ."
        status_raw = raw.get("status", None if default_status is None else default_status.value)
        if status_raw:
            try:
                status = RequestStatus(str(status_raw))
            except ValueError:
                errors["status"] = "Trạng thái không hợp lệ."
        try:
            age = parse_count(raw.get("min_age_days"), maximum=36500, message="Số ngày là số nguyên không âm.")
        except FieldError as error:
            errors["min_age_days"] = str(error)
        if errors:
            raise ValidationFailed(errors)
        return cls(org_id, kind, status, age)


def _requests_query(scope: Iterable[int], filters: RequestFilter, statuses: Sequence[RequestStatus] | None) -> Select:
    units = set(scope)
    if filters.organisation_id is not None:
        units &= {filters.organisation_id}
    # The type and status are written into the SQL, like the slice (see ``written``).
    r = CertificateRequest
    query = select(r).where(one_of_ids(r.organisation_id, units))
    if filters.request_type is not None:
        query = query.where(r.request_type == written(filters.request_type, r.request_type.type))
    if filters.status is not None:
        # A status the list does not show selects nothing; one it shows needs no other condition.
        shown = statuses is None or filters.status in statuses
        query = query.where(r.status == written(filters.status, r.status.type) if shown else false())
    elif statuses is not None:
        query = query.where(r.status.in_([written(status, r.status.type) for status in statuses]))
    if filters.min_age_days is not None:
        cutoff = utcnow() - timedelta(days=filters.min_age_days)
        query = query.where(r.submitted_at <= cutoff)
    return query


#: Oldest submission first; drafts (never submitted) last, the newest first. Served by the indexes.
_LIST_ORDER = (CertificateRequest.submitted_at.asc().nulls_last(), CertificateRequest.id.desc())


def _slice_ids(query: Select, limit: int, offset: int) -> Select:
    """The ids of a slice of ``query`` in list order, read from the index alone: a deep OFFSET skips
    index entries, not rows, and only the slice's requests are read afterwards."""
    return query.with_only_columns(CertificateRequest.id).order_by(*_LIST_ORDER).limit(written(limit)).offset(
        written(offset))


def _rows(session: Session, query: Select, limit: int, offset: int,
          total: ColumnElement[int | None] = null()) -> list[tuple[CertificateRequest, int | None]]:
    """A slice of ``query`` in list order, whole requests with their unit, certificate and token; each
    with the value of ``total`` (see :data:`certsvc.core.paging.Fetch`)."""
    token = selectinload(CertificateRequest.token)
    rows = select(CertificateRequest, total).where(
        CertificateRequest.id.in_(_slice_ids(query, limit, offset).scalar_subquery())
    ).order_by(*_LIST_ORDER).options(
        selectinload(CertificateRequest.organisation), selectinload(CertificateRequest.certificate),
        token.selectinload(Token.holder), token.selectinload(Token.organisation),
    )
    return [(request, counted) for request, counted in session.execute(rows)]


@dataclass(frozen=True, slots=True)
class ListedRequest:
    """A line of a request list: what the lists show, read in one query without loading whole requests."""

    id: int
    request_type: RequestType
    status: RequestStatus
    unit_name: str
    subject_line: SubjectLine
    submitted_at: datetime | None
    updated_at: datetime


def _listed(session: Session, query: Select, limit: int, offset: int,
            total: ColumnElement[int | None]) -> list[tuple[ListedRequest, int | None]]:
    """The lines of a slice of ``query`` in list order, each with the value of ``total``.

    One plain query for the requests; the units' names come from the organisation tree, and the
    registry records that some requests name are read afterwards, only when there are any. A single
    query joining all of them costs the database more to plan than to run.
    """
    r = CertificateRequest
    rows = session.execute(select(
        r.id, r.request_type, r.status, r.organisation_id, r.data, r.certificate_id, r.token_id, r.submitted_at,
        r.updated_at, total,
    ).where(r.id.in_(_slice_ids(query, limit, offset).scalar_subquery())).order_by(*_LIST_ORDER)).all()
    certificate_ids = {row.certificate_id for row in rows if row.certificate_id is not None}
    token_ids = {row.token_id for row in rows if row.token_id is not None}
    certificates = {cert_id: (cn, serial) for cert_id, cn, serial in session.execute(
        select(Certificate.id, Certificate.subject_cn, Certificate.serial_hex).where(Certificate.id.in_(certificate_ids))
    )} if certificate_ids else {}
    tokens = {token_id: (serial, user) for token_id, serial, user in session.execute(
        select(Token.id, Token.serial, func.coalesce(Person.full_name, Organisation.name))
        .join(Organisation, Token.organisation_id == Organisation.id)
        .outerjoin(Person, Token.holder_id == Person.id).where(Token.id.in_(token_ids))
    )} if token_ids else {}
    unit_names = OrgTree.load(session).name

    def line(row) -> ListedRequest:
        request_id, kind, status, unit_id, data, certificate_id, token_id, submitted_at, updated_at, _ = row
        cn, serial_hex = certificates.get(certificate_id, (None, None))
        token_serial, token_user = tokens.get(token_id, (None, None))
        return ListedRequest(
            id=request_id, request_type=kind, status=status, unit_name=unit_names.get(unit_id, ""),
            submitted_at=submitted_at, updated_at=updated_at, subject_line=subject_line(
                data, certificate_cn=cn, certificate_serial=serial_hex, token_serial=token_serial,
                token_user=token_user),
        )

    return [(line(row), row[-1]) for row in rows]


def find_requests(
    session: Session, scope: Iterable[int], filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None, limit: int = 500, offset: int = 0,
) -> list[CertificateRequest]:
    """Requests of the units in ``scope`` matching ``filters``, oldest submission first.

    ``limit`` and ``offset`` select a slice; :func:`count_requests` says how many there are in all,
    :func:`page_requests` gives both for a numbered page.
    """
    return [request for request, _ in _rows(session, _requests_query(scope, filters, statuses), limit, offset)]


def count_requests(
    session: Session, scope: Iterable[int], filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None,
) -> int:
    """How many requests :func:`find_requests` would list with no limit."""
    return count_rows(session, _requests_query(scope, filters, statuses))


def page_requests(
    session: Session, scope: Iterable[int], filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None, page: int = 1, per_page: int = PER_PAGE,
) -> Page[CertificateRequest]:
    """Page ``page`` (from 1) of the requests :func:`find_requests` lists, with their total count."""
    query = _requests_query(scope, filters, statuses)
    return paginate(session, query, page, per_page, partial(_rows, session, query), count_limit=None)


def page_listed(
    session: Session, scope: Iterable[int], filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None, page: int = 1, per_page: int = PER_PAGE,
) -> Page[ListedRequest]:
    """Page ``page`` of the lines a request list shows, with their total count (the pages' lists;
    :func:`page_requests` gives whole requests)."""
    query = _requests_query(scope, filters, statuses)
    return paginate(session, query, page, per_page, partial(_listed, session, query))


def review_scope(session: Session, by: Account) -> set[int]:
    """The units whose requests ``by`` reviews: those its focal office serves."""
    return orgs_in_scope(session, by, Permission.REVIEW_REQUESTS)


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
