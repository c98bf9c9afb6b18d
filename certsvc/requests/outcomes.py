"""What a completed request does to the registries, through the registry's own services.

New certificates, renewals and information changes: the issued certificate file is parsed, checked against
the request (:func:`issued_problems`: issued by a configured CA, valid no longer than asked, its subject the
request's), and registered (a renewal or change as successor of the old one). A refused file changes nothing
and says every problem under the file field. Revocations mark the certificate revoked; recoveries put the
token back in service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldError, bounded_day
from certsvc.core.workdays import WorkCalendar
from certsvc.errors import ValidationFailed
from certsvc.people.models import Person
from certsvc.registry.certificates import ParsedCertificate, parse_certificate
from certsvc.registry.models import Certificate, TokenKind, TrustAnchor
from certsvc.registry.registration import register_certificate
from certsvc.registry.service import recover_token, revoke_certificate
from certsvc.requests.fields import RECOVERY_PROBLEMS, REVOCATION_REASONS, spec_of
from certsvc.requests.models import CertificateRequest, RequestType
from certsvc.timeutil import VIETNAM_TZ, to_vietnam, utcnow

__all__ = ["apply_to_registry", "issued_problems"]

_KIND = {
    RequestType.NEW_INDIVIDUAL: TokenKind.PERSONAL,
    RequestType.NEW_ORGANISATION: TokenKind.ORGANISATION,
    RequestType.NEW_DEVICE: TokenKind.DEVICE,
}


def _fold(text: str | None) -> str:
    """A name as compared: Unicode composed (a CA may decompose the diacritics), spaces collapsed, any case."""
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


def _numbers_of(uid: str | None) -> set[str]:
    """The numbers a subject's UID carries (``CCCD:001234567890``, ``MST:4900123456``)."""
    return set(re.findall(r"\d+", uid or ""))


#: The days a CA's validity may run past the years asked: it counts from its own clock and day boundaries.
_VALIDITY_GRACE = timedelta(days=1)


def _add_years(moment: datetime, years: int) -> datetime:
    """``moment`` ``years`` later; 29 February falls back to the 28th."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _day(moment: datetime) -> str:
    return to_vietnam(moment).strftime("%d/%m/%Y")


def _issuer_problems(session: Session, parsed: ParsedCertificate) -> list[str]:
    """The certificate must be signed by a CA certificate configured as trusted (the trust anchors page)."""
    anchors = session.scalars(select(TrustAnchor.der).where(TrustAnchor.removed_at.is_(None))).all()
    if not anchors:
        return [
            "Chưa cấu hình chứng thư của CA tin cậy nên không kiểm tra được nơi cấp: quản trị viên thêm chứng thư "
            "CA (trang «Chứng thư gốc tin cậy») rồi ghi nhận lại."
        ]
    issued = x509.load_der_x509_certificate(parsed.der)
    for der in anchors:
        anchor = x509.load_der_x509_certificate(der)
        if anchor.subject != issued.issuer:
            continue
        try:
            issued.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return []
    names = issued.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = str(names[0].value) if names else parsed.issuer_dn  # the CA's name reads better than its whole DN
    return [f"Chứng thư số do «{issuer}» cấp, không phải CA tin cậy đã cấu hình."]


def _validity_problems(request: CertificateRequest, parsed: ParsedCertificate, now: datetime) -> list[str]:
    """Valid now, and no longer than asked: a new certificate its years from its start; a renewal its years
    from the old certificate's end (or the new one's start, when later); a change of information no later than
    the certificate it replaces."""
    if parsed.not_after <= now:
        return [f"Chứng thư số đã hết hạn ngày {_day(parsed.not_after)}."]
    data, old = request.data, request.certificate
    if request.request_type is RequestType.RENEWAL and old is not None:
        years = int(data["extension_years"])
        limit, asked = _add_years(max(old.not_after, parsed.not_before), years), f"gia hạn {years} năm"
    elif request.request_type is RequestType.CHANGE and old is not None:
        limit, asked = old.not_after, f"hạn của chứng thư cũ ({_day(old.not_after)})"
    elif request.request_type in _KIND:
        years = int(data["validity_years"])
        limit, asked = _add_years(parsed.not_before, years), f"thời hạn đề nghị {years} năm"
    else:
        return []
    if parsed.not_after > limit + _VALIDITY_GRACE:
        return [
            f"Chứng thư số có hiệu lực từ {_day(parsed.not_before)} đến {_day(parsed.not_after)}, "
            f"quá {asked} của đề nghị."
        ]
    return []


def _name_problem(what: str, found: str | None, asked: str | None) -> list[str]:
    if _fold(found) == _fold(asked):
        return []
    return [f"{what} trong chứng thư số là «{found or ''}», đề nghị ghi «{asked or ''}»."]


def _number_problem(what: str, uid: str | None, asked: str) -> list[str]:
    if asked in _numbers_of(uid):
        return []
    return [f"Định danh trong chứng thư số (UID «{uid or 'không có'}») không có {what} {asked} của đề nghị."]


def _subject_problems(request: CertificateRequest, parsed: ParsedCertificate) -> list[str]:
    """The subject must be the request's: a person's name and CCCD; an organisation's name (as the common
    name or the organisation) and tax code; a device's identifier or name; for a renewal or a change, the old
    certificate's holder (with the new name or CCCD the change asks for)."""
    data, cn, uid = request.data, parsed.common_name, parsed.uid
    kind = request.request_type
    if kind is RequestType.NEW_INDIVIDUAL:
        return [*_name_problem("Họ tên", cn, data["full_name"]), *_number_problem("số CCCD", uid, data["cccd"])]
    if kind is RequestType.NEW_ORGANISATION:
        organisation = cn if _fold(cn) == _fold(data["org_name"]) else parsed.organisation
        return [
            *_name_problem("Tên cơ quan, tổ chức", organisation, data["org_name"]),
            *_number_problem("mã số thuế", uid, data["tax_code"]),
        ]
    if kind is RequestType.NEW_DEVICE:
        if _fold(data["identifier"]) in (_fold(cn), _fold(uid)) or _fold(cn) == _fold(data["device_name"]):
            return []
        return [
            f"Chứng thư số cấp cho «{cn}» (UID «{uid or 'không có'}»), không phải thiết bị «{data['device_name']}» "
            f"({data['identifier']}) của đề nghị."
        ]
    old = request.certificate
    if old is None:  # sending is refused while a renewal or change names no registered certificate
        return [f"Đề nghị số {request.id} không gắn với chứng thư số nào trong sổ."]
    new_name = data.get("new_full_name") if kind is RequestType.CHANGE else None
    new_cccd = data.get("new_cccd") if kind is RequestType.CHANGE else None
    problems = _name_problem("Họ tên", cn, new_name or old.subject_cn)
    if new_cccd:
        problems += _number_problem("số CCCD mới", uid, new_cccd)
    elif old.subject_uid and _fold(uid) != _fold(old.subject_uid):
        problems.append(
            f"Định danh trong chứng thư số (UID «{uid or 'không có'}») khác chứng thư cũ («{old.subject_uid}»)."
        )
    return problems


def issued_problems(
    session: Session, request: CertificateRequest, parsed: ParsedCertificate, now: datetime | None = None
) -> list[str]:
    """Why ``parsed`` is not the certificate ``request`` asked for, in Vietnamese; empty when it is."""
    return [
        *_issuer_problems(session, parsed),
        *_validity_problems(request, parsed, now or utcnow()),
        *_subject_problems(request, parsed),
    ]


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
    problems = issued_problems(session, request, parsed)
    if problems:
        intro = f"Chứng thư số «{parsed.common_name}» không khớp với đề nghị số {request.id}:"
        raise ValidationFailed({"certificate_file": " ".join([intro, *problems])})
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
