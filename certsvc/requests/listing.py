"""The lists of certificate requests and the focal office's queue: filters, counts and pages.

Paged in SQL (:mod:`certsvc.core.paging`); a slice is read by id from the index, then only its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Select, false, func, null, select
from sqlalchemy.orm import Session, selectinload

from certsvc.accounts.models import Account
from certsvc.core.paging import PER_PAGE, CountColumn, Page, count_rows, paginate
from certsvc.core.records import to_id
from certsvc.core.sql import inlined, one_of_ids
from certsvc.core.validation import FieldError, parse_count, text_problem
from certsvc.errors import ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.people.service import name_matches
from certsvc.policy import Permission, orgs_in_scope
from certsvc.registry.models import Certificate, Token
from certsvc.requests.fields import clean_serial, is_urgent_revocation
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType, SubjectLine, subject_line
from certsvc.timeutil import utcnow

__all__ = [
    "QUEUE_STATUSES",
    "ListedRequest",
    "RequestFilter",
    "count_requests",
    "find_requests",
    "page_listed",
    "page_requests",
    "review_scope",
]

#: What the focal office's queue shows: requests that have reached it.
QUEUE_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.RETURNED,
    RequestStatus.ACCEPTED,
    RequestStatus.IN_BATCH,
    RequestStatus.SENT,
    RequestStatus.DONE,
    RequestStatus.REJECTED,
    RequestStatus.CANCELLED,
)


#: The longest search, in characters: a name, a CCCD, a serial of 40 hexadecimal digits typed in pairs.
MAX_SEARCH = 100


@dataclass(frozen=True)
class RequestFilter:
    organisation_id: int | None = None
    request_type: RequestType | None = None
    status: RequestStatus | None = None
    #: Only requests that reached the focal office at least this many days ago.
    min_age_days: int | None = None
    #: Only requests whose subject's name, CCCD, certificate or token serial, or number contains this.
    text: str = ""

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
            age = parse_count(
                raw.get("min_age_days"), maximum=36500, message="Ghi số ngày (ví dụ 7), không phải ngày tháng."
            )
        except FieldError as error:
            errors["min_age_days"] = str(error)
        text = " ".join(str(raw.get("q") or "").split())
        if len(text) > MAX_SEARCH:
            errors["q"] = f"Nhập tối đa {MAX_SEARCH} ký tự: họ tên, số CCCD hoặc số hiệu chứng thư số."
        elif problem := text_problem(text):
            errors["q"] = problem
        if errors:
            raise ValidationFailed(errors)
        return cls(org_id, kind, status, age, text)


def _requests_query(
    session: Session, scope: Iterable[int], filters: RequestFilter, statuses: Sequence[RequestStatus] | None
) -> Select:
    units = set(scope)
    if filters.organisation_id is not None:
        units &= {filters.organisation_id}
    # The type and status are written into the SQL, like the slice (see ``inlined``).
    r = CertificateRequest
    query = select(r).where(one_of_ids(r.organisation_id, units))
    if filters.request_type is not None:
        query = query.where(r.request_type == inlined(filters.request_type, r.request_type.type))
    if filters.status is not None:
        # A status the list does not show selects nothing; one it shows needs no other condition.
        shown = statuses is None or filters.status in statuses
        query = query.where(r.status == inlined(filters.status, r.status.type) if shown else false())
    elif statuses is not None:
        query = query.where(r.status.in_([inlined(status, r.status.type) for status in statuses]))
    if filters.min_age_days is not None:
        cutoff = utcnow() - timedelta(days=filters.min_age_days)
        query = query.where(r.submitted_at <= cutoff)
    return _searched(session, query, filters.text) if filters.text else query


#: The keys of a request's data that name its subject, or a person of it, and those holding a CCCD.
_NAMES = ("full_name", "new_full_name", "org_name", "device_name", "receiver_name", "manager_name", "holder_name")
_CCCDS = ("cccd", "new_cccd", "receiver_cccd", "manager_cccd")


def _searched(session: Session, query: Select, text: str) -> Select:
    """``query`` narrowed to the requests ``text`` finds: by the name of their subject (case and, when typed
    without them, diacritics ignored: "nguyen" finds "Nguyễn"), a CCCD, the certificate's serial in any
    format the forms accept (``2E:F1:6F``, ``2e f1 6f``), the token's serial, or the request's number.

    Matched in Python, like the registry's search (SQL's lower() knows no diacritics), on the few columns
    it reads of the requests the other filters leave."""
    r = CertificateRequest
    candidates = (
        select(r.id, r.data, Certificate.subject_cn, Certificate.serial_hex, Token.serial, Person.full_name)
        .outerjoin(Certificate, r.certificate_id == Certificate.id)
        .outerjoin(Token, r.token_id == Token.id)
        .outerjoin(Person, Token.holder_id == Person.id)
        .where(r.id.in_(query.with_only_columns(r.id).order_by(None).scalar_subquery()))
    )
    try:
        serial = clean_serial(text)
    except FieldError:  # not hexadecimal: not a serial
        serial = None
    if serial is not None and serial.isalpha():  # "bac" is a name typed without its marks, not a serial
        serial = None
    digits = text if text.isdigit() else None
    token = text.replace(" ", "").casefold()

    def found(row) -> bool:
        request_id, data, cn, serial_hex, token_serial, token_user = row
        names = [*(data.get(key) for key in _NAMES), cn, token_user]
        serials = [data.get("certificate_serial"), (serial_hex or "").lower()]
        return (
            any(isinstance(name, str) and name_matches(text, name) for name in names)
            or (
                digits is not None
                and (digits == str(request_id) or any(digits in str(data.get(key) or "") for key in _CCCDS))
            )
            or (serial is not None and any(serial in str(value or "") for value in serials))
            or token in str(data.get("token_serial") or token_serial or "").casefold()
        )

    return query.where(one_of_ids(r.id, [row.id for row in session.execute(candidates) if found(row)]))


#: The ``total`` of a slice read without the count of its list.
_NOT_COUNTED = null()

#: Oldest submission first; drafts (never submitted) last, the newest first. Served by the indexes.
_LIST_ORDER = (CertificateRequest.submitted_at.asc().nulls_last(), CertificateRequest.id.desc())


def _slice_ids(query: Select, limit: int, offset: int) -> Select:
    """The ids of a slice of ``query`` in list order, read from the index alone: a deep OFFSET skips
    index entries, not rows, and only the slice's requests are read afterwards."""
    return (
        query.with_only_columns(CertificateRequest.id)
        .order_by(*_LIST_ORDER)
        .limit(inlined(limit))
        .offset(inlined(offset))
    )


def _rows(
    session: Session, query: Select, limit: int, offset: int, total: CountColumn = _NOT_COUNTED
) -> list[tuple[CertificateRequest, int | None]]:
    """A slice of ``query`` in list order, whole requests with their unit, certificate and token; each
    with the value of ``total`` (see :data:`certsvc.core.paging.Fetch`)."""
    token = selectinload(CertificateRequest.token)
    rows = (
        select(CertificateRequest, total)
        .where(CertificateRequest.id.in_(_slice_ids(query, limit, offset).scalar_subquery()))
        .order_by(*_LIST_ORDER)
        .options(
            selectinload(CertificateRequest.organisation),
            selectinload(CertificateRequest.certificate),
            token.selectinload(Token.holder),
            token.selectinload(Token.organisation),
        )
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
    #: An urgent revocation (lost token, key compromise), sent to the CA outside a batch.
    urgent: bool = False


def _listed(
    session: Session, query: Select, limit: int, offset: int, total: CountColumn
) -> list[tuple[ListedRequest, int | None]]:
    """The lines of a slice of ``query`` in list order, each with the value of ``total``.

    One plain query for the requests; the units' names come from the organisation tree, and the
    registry records that some requests name are read afterwards, only when there are any. A single
    query joining all of them costs the database more to plan than to run.
    """
    r = CertificateRequest
    rows = session.execute(
        select(
            r.id,
            r.request_type,
            r.status,
            r.organisation_id,
            r.data,
            r.certificate_id,
            r.token_id,
            r.submitted_at,
            r.updated_at,
            total,
        )
        .where(r.id.in_(_slice_ids(query, limit, offset).scalar_subquery()))
        .order_by(*_LIST_ORDER)
    ).all()
    certificate_ids = {row.certificate_id for row in rows if row.certificate_id is not None}
    token_ids = {row.token_id for row in rows if row.token_id is not None}
    certificates = (
        {
            cert_id: (cn, serial)
            for cert_id, cn, serial in session.execute(
                select(Certificate.id, Certificate.subject_cn, Certificate.serial_hex).where(
                    Certificate.id.in_(certificate_ids)
                )
            )
        }
        if certificate_ids
        else {}
    )
    tokens = (
        {
            token_id: (serial, user)
            for token_id, serial, user in session.execute(
                select(Token.id, Token.serial, func.coalesce(Person.full_name, Organisation.name))
                .join(Organisation, Token.organisation_id == Organisation.id)
                .outerjoin(Person, Token.holder_id == Person.id)
                .where(Token.id.in_(token_ids))
            )
        }
        if token_ids
        else {}
    )
    unit_names = OrgTree.load(session).name

    def line(row) -> ListedRequest:
        request_id, kind, status, unit_id, data, certificate_id, token_id, submitted_at, updated_at, _ = row
        cn, serial_hex = certificates.get(certificate_id, (None, None))
        token_serial, token_user = tokens.get(token_id, (None, None))
        return ListedRequest(
            id=request_id,
            request_type=kind,
            status=status,
            unit_name=unit_names.get(unit_id, ""),
            submitted_at=submitted_at,
            updated_at=updated_at,
            subject_line=subject_line(
                data, certificate_cn=cn, certificate_serial=serial_hex, token_serial=token_serial, token_user=token_user
            ),
            urgent=is_urgent_revocation(kind, data),
        )

    return [(line(row), row[-1]) for row in rows]


def find_requests(
    session: Session,
    scope: Iterable[int],
    filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[CertificateRequest]:
    """Requests of the units in ``scope`` matching ``filters``, oldest submission first.

    ``limit`` and ``offset`` select a slice; :func:`count_requests` says how many there are in all,
    :func:`page_requests` gives both for a numbered page.
    """
    return [request for request, _ in _rows(session, _requests_query(session, scope, filters, statuses), limit, offset)]


def count_requests(
    session: Session,
    scope: Iterable[int],
    filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None,
) -> int:
    """How many requests :func:`find_requests` would list with no limit."""
    return count_rows(session, _requests_query(session, scope, filters, statuses))


def page_requests(
    session: Session,
    scope: Iterable[int],
    filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[CertificateRequest]:
    """Page ``page`` (from 1) of the requests :func:`find_requests` lists, with their total count."""
    query = _requests_query(session, scope, filters, statuses)
    return paginate(session, query, page, per_page, partial(_rows, session, query), count_limit=None)


def page_listed(
    session: Session,
    scope: Iterable[int],
    filters: RequestFilter = RequestFilter(),
    statuses: Sequence[RequestStatus] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[ListedRequest]:
    """Page ``page`` of the lines a request list shows, with their total count (the pages' lists;
    :func:`page_requests` gives whole requests)."""
    query = _requests_query(session, scope, filters, statuses)
    return paginate(session, query, page, per_page, partial(_listed, session, query))


def review_scope(session: Session, by: Account) -> set[int]:
    """The units whose requests ``by`` reviews: those its focal office serves."""
    return orgs_in_scope(session, by, Permission.REVIEW_REQUESTS)
