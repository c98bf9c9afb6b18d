"""What a completed request does to the registries, through the registry's own services.

New certificates, renewals and information changes: the issued certificate file is parsed,
matched to the request, and registered (a renewal or change as successor of the old one).
Revocations mark the certificate revoked; recoveries put the token back in service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldError, bounded_day
from certsvc.core.workdays import WorkCalendar
from certsvc.errors import ValidationFailed
from certsvc.people.models import Person
from certsvc.registry.certificates import ParsedCertificate, parse_certificate
from certsvc.registry.models import Certificate, TokenKind
from certsvc.registry.registration import register_certificate
from certsvc.registry.service import recover_token, revoke_certificate
from certsvc.requests.fields import RECOVERY_PROBLEMS, REVOCATION_REASONS, spec_of
from certsvc.requests.models import CertificateRequest, RequestType
from certsvc.timeutil import VIETNAM_TZ, utcnow

__all__ = ["apply_to_registry", "matches_request"]

_KIND = {
    RequestType.NEW_INDIVIDUAL: TokenKind.PERSONAL,
    RequestType.NEW_ORGANISATION: TokenKind.ORGANISATION,
    RequestType.NEW_DEVICE: TokenKind.DEVICE,
}


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def matches_request(request: CertificateRequest, parsed: ParsedCertificate) -> bool:
    """Whether the issued certificate is the one this request asked for."""
    data, uid, name = request.data, _fold(parsed.uid), _fold(parsed.common_name)
    if request.request_type is RequestType.NEW_INDIVIDUAL:
        return data["cccd"] in uid or (not uid and name == _fold(data["full_name"]))
    if request.request_type is RequestType.NEW_ORGANISATION:
        return data["tax_code"] in uid or (not uid and name == _fold(data["org_name"]))
    if request.request_type is RequestType.NEW_DEVICE:
        return _fold(data["identifier"]) in (name, uid) or name == _fold(data["device_name"])
    old = request.certificate
    if old is None:
        return False
    if old.subject_uid:
        return _fold(old.subject_uid) == uid
    new_name = data.get("new_full_name")
    return name in {_fold(old.subject_cn), _fold(new_name)}


def _holder(session: Session, by: Account, request: CertificateRequest) -> int | None:
    """The person the certificate is for: known by CCCD, or recorded now from the request."""
    if request.request_type is not RequestType.NEW_INDIVIDUAL:
        return request.certificate.holder_id if request.certificate is not None else None
    data = request.data
    person = session.scalar(select(Person).where(Person.cccd == data["cccd"]))
    if person is None:
        person = Person(
            full_name=data["full_name"],
            position=data["position"],
            cccd=data["cccd"],
            email=data["email"],
            phone=data["phone"],
            organisation_id=request.organisation_id,
        )
        session.add(person)
        session.flush()
        record(
            session,
            Actor.of(by),
            "person.created",
            "person",
            person.id,
            {"full_name": person.full_name, "organisation_id": person.organisation_id, "from_request": request.id},
        )
    request.subject_person_id = person.id
    return person.id


def _issue(
    session: Session,
    by: Account,
    request: CertificateRequest,
    raw: Mapping[str, object],
    certificate_file: bytes | None,
) -> Certificate:
    if not certificate_file:
        raise ValidationFailed({"certificate_file": "Tải lên tệp chứng thư số do cơ quan cấp gửi về."})
    parsed = parse_certificate(certificate_file)
    if not matches_request(request, parsed):
        raise ValidationFailed(
            {
                "certificate_file": (
                    f"Chứng thư số «{parsed.common_name}» ({parsed.uid or 'không có UID'}) không khớp với đề nghị số "
                    f"{request.id}: kiểm tra lại tệp."
                )
            }
        )
    predecessor = request.certificate if request.request_type in (RequestType.RENEWAL, RequestType.CHANGE) else None
    kind = predecessor.kind if predecessor is not None else _KIND[request.request_type]
    token_serial = str(raw.get("token_serial") or "").strip() or None
    return register_certificate(
        session,
        by,
        parsed,
        kind=kind,
        organisation_id=request.organisation_id,
        holder_id=_holder(session, by, request),
        token_serial=token_serial,
        predecessor=predecessor,
    )


def apply_to_registry(
    session: Session,
    by: Account,
    request: CertificateRequest,
    raw: Mapping[str, object],
    certificate_file: bytes | None,
    *,
    calendar: WorkCalendar,
) -> Certificate | None:
    """Update the registries for a request the CA completed; the new certificate when one was issued.
    A revocation counts the token's return deadline in working days on ``calendar``."""
    kind = request.request_type
    if kind is RequestType.REVOCATION:
        data = request.data
        when = data.get("invalid_from")
        revoked_at = _start_of(_revocation_day(when)) if when else utcnow()
        reason = dict(REVOCATION_REASONS).get(data.get("reason", ""), "Thu hồi")
        if data.get("reason_detail"):
            reason = f"{reason}: {data['reason_detail']}"
        # Sending is refused while the request names no certificate in the registry (certsvc.requests.checks).
        if request.certificate is None:
            raise RuntimeError(f"Revocation request {request.id} names no certificate.")
        revoke_certificate(
            session, by, request.certificate, revoked_at=revoked_at, reason=reason[:255], calendar=calendar
        )
        return None
    if kind is RequestType.RECOVERY:
        problem = dict(RECOVERY_PROBLEMS).get(request.data.get("problem", ""), "")
        # Sending is refused while the request names no token in the registry (certsvc.requests.checks).
        if request.token is None:
            raise RuntimeError(f"Recovery request {request.id} names no token.")
        recover_token(
            session, by, request.token, f"Khôi phục theo đề nghị số {request.id} ({spec_of(kind).form_no}): {problem}."
        )
        return None
    return _issue(session, by, request, raw, certificate_file)


def _revocation_day(when: str) -> date:
    """The day a revocation request asked for; one stored before dates were bounded is refused clearly."""
    try:
        return bounded_day(date.fromisoformat(when))
    except FieldError:
        raise ValidationFailed(
            {
                "invalid_from": (
                    f"Ngày đề nghị chứng thư số hết hiệu lực ({when}) không hợp lý: ghi nhận CA từ chối đề nghị này "
                    "rồi lập đề nghị mới."
                )
            }
        ) from None


def _start_of(day: date) -> datetime:
    """The start of ``day`` in Vietnam, as a UTC time."""
    return datetime.combine(day, time(), VIETNAM_TZ).astimezone(UTC)
