"""The checks a certificate request must pass before it goes to the focal office: the rules of submission
(limits, duplicates, what the registry says), not permissions, which are :mod:`certsvc.policy`.

:func:`submission_problems` lists what blocks sending a request; :class:`SubmissionRefused` carries them when
the send is refused (see :func:`certsvc.requests.service.take_action`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.errors import CertsvcError
from certsvc.policy import Permission, can, request_subject_units
from certsvc.registry.models import Certificate, Token, TokenState
from certsvc.registry.service import due_back_message, open_returns
from certsvc.requests.fields import DEFAULT_LIMITS, SubmissionLimits, display_serial, refused_sending
from certsvc.requests.models import CLOSED_STATUSES, CertificateRequest, RequestStatus, RequestType
from certsvc.timeutil import utcnow

__all__ = [
    "UNIT_LETTER_MISSING",
    "SubmissionProblem",
    "SubmissionRefused",
    "current_information",
    "nameable",
    "submission_problems",
]

_CERTIFICATE_TYPES = {RequestType.RENEWAL, RequestType.CHANGE, RequestType.REVOCATION}
_NEW_TYPES = {RequestType.NEW_INDIVIDUAL, RequestType.NEW_ORGANISATION, RequestType.NEW_DEVICE}


#: The problem of a request whose unit's letter is missing or out of date (:func:`refused_sending`).
UNIT_LETTER_MISSING = "unit_letter_missing"


@dataclass(frozen=True)
class SubmissionProblem:
    """Why a request cannot be submitted: a stable code and a Vietnamese message."""

    code: str
    message: str


class SubmissionRefused(CertsvcError):
    # The code clients already match on, kept from when these checks were called the submission policy.
    code = "policy_refused"
    http_status = 400

    def __init__(self, problems: Sequence[SubmissionProblem]):
        super().__init__("Đề nghị chưa thể gửi: " + " ".join(p.message for p in problems))
        self.problems = tuple(problems)


R = TypeVar("R", Certificate, Token)


def nameable(units: frozenset[int], record: R | None) -> R | None:
    """``record`` when a request may name it, else None (as if it did not exist).

    A request names only certificates and tokens of the units in ``units`` (see
    :func:`certsvc.policy.request_subject_units`): a unit learns nothing of another unit's registry
    through requests."""
    return record if record is not None and record.organisation_id in units else None


def submission_problems(
    session: Session,
    request: CertificateRequest,
    limits: SubmissionLimits = DEFAULT_LIMITS,
    by: Account | None = None,
) -> list[SubmissionProblem]:
    """Everything that blocks sending ``request`` to the focal office (empty when it may go).

    Another open request is named (number, type, status) only to ``by`` when ``by`` may view it.
    """
    problems: list[SubmissionProblem] = []
    data = request.data or {}
    kind = request.request_type
    if (unsendable := refused_sending(kind, data)) is not None:
        problems.append(SubmissionProblem(UNIT_LETTER_MISSING, unsendable.message))
    # A record the request may no longer name (moved to another unit since) counts as unknown.
    units = request_subject_units(session, request.organisation_id)
    certificate, token = nameable(units, request.certificate), nameable(units, request.token)
    other = _open_other(session, request, CertificateRequest.subject_key == request.subject_key)
    if other is not None:
        named = (
            f"đề nghị số {other.id} ({other.request_type.label}, {other.status.label.lower()})"
            if _may_view(session, by, other)
            else "một đề nghị khác"
        )
        problems.append(
            SubmissionProblem(
                "duplicate_open", f"Đã có {named} đang mở cho cùng người, chứng thư số hoặc thiết bị này."
            )
        )
    if kind in _NEW_TYPES and data.get("validity_years", 0) > limits.max_new_years:
        problems.append(
            SubmissionProblem("validity_too_long", f"Thời hạn chứng thư số cấp mới tối đa {limits.max_new_years} năm.")
        )
    if kind is RequestType.RENEWAL and data.get("extension_years", 0) > limits.max_extension_years:
        problems.append(
            SubmissionProblem("extension_too_long", f"Thời gian gia hạn tối đa {limits.max_extension_years} năm.")
        )
    if kind in _CERTIFICATE_TYPES:
        problems.extend(_certificate_problems(request, certificate, limits))
    if kind is RequestType.REVOCATION:
        if not data.get("reason"):
            problems.append(SubmissionProblem("revocation_without_reason", "Chọn lý do thu hồi chứng thư số."))
        elif data["reason"] == "other" and not data.get("reason_detail"):
            problems.append(SubmissionProblem("revocation_without_reason", "Ghi rõ nội dung lý do thu hồi khác."))
    if kind is RequestType.CHANGE and certificate is not None and not _changes_something(request, certificate):
        problems.append(
            SubmissionProblem(
                "change_changes_nothing",
                "Đề nghị thay đổi thông tin không thay đổi nội dung nào so với thông tin hiện tại của chứng thư số.",
            )
        )
    if kind is RequestType.RECOVERY:
        if token is None:
            problems.append(
                SubmissionProblem(
                    "unknown_token",
                    f"Thiết bị số hiệu «{data.get('token_serial')}» không có trong sổ thiết bị lưu khóa bí mật.",
                )
            )
        elif token.state in (TokenState.RETURNED, TokenState.DESTROYED, TokenState.LOST):
            problems.append(
                SubmissionProblem(
                    "token_not_recoverable",
                    f"Thiết bị «{token.serial}» đang ở trạng thái «{token.state.label}», không thể khôi phục.",
                )
            )
        else:
            problems.extend(_token_going_back(session, request, token, by))
            problems.extend(_certificate_not_on_token(session, request, token))
    return problems


def _certificate_not_on_token(session: Session, request: CertificateRequest, token: Token) -> list[SubmissionProblem]:
    """The certificate a recovery (Mẫu 06) names must be one the registry has on that token."""
    serial = request.data.get("certificate_serial")
    if not serial:
        return []
    on_token = session.scalars(select(Certificate.serial_hex).where(Certificate.token_id == token.id)).all()
    if any(serial == known.replace(":", "").lower() for known in on_token):
        return []
    return [
        SubmissionProblem(
            "certificate_not_on_token",
            f"Chứng thư số «{display_serial(str(serial))}» không nằm trên thiết bị «{token.serial}» "
            "theo sổ chứng thư số.",
        )
    ]


def _may_view(session: Session, by: Account | None, other: CertificateRequest) -> bool:
    """Whether a problem may name ``other`` to ``by``: another unit's requests are not disclosed."""
    return by is not None and can(session, by, Permission.VIEW_REQUESTS, other.organisation_id)


def _open_other(session: Session, request: CertificateRequest, *conditions) -> CertificateRequest | None:
    """The first other open request that meets ``conditions`` and goes before ``request``: a later
    draft does not block an earlier request; anything already sent does."""
    return session.scalars(
        select(CertificateRequest)
        .where(
            *conditions,
            CertificateRequest.id != request.id,
            CertificateRequest.status.not_in(list(CLOSED_STATUSES)),
            or_(
                CertificateRequest.id < request.id,
                CertificateRequest.status.not_in([RequestStatus.DRAFT, RequestStatus.APPROVED]),
            ),
        )
        .order_by(CertificateRequest.id)
    ).first()


def _token_going_back(
    session: Session, request: CertificateRequest, token: Token, by: Account | None
) -> list[SubmissionProblem]:
    """A token whose certificate is revoked, or is being revoked, goes back to the CA: it is not recovered."""
    if open_returns(session, [token.id]):
        return [SubmissionProblem("token_being_returned", due_back_message(token))]
    revocation = _open_other(
        session,
        request,
        CertificateRequest.request_type == RequestType.REVOCATION,
        CertificateRequest.token_id == token.id,
    )
    if revocation is not None:
        named = f"Đề nghị thu hồi số {revocation.id}" if _may_view(session, by, revocation) else "Một đề nghị thu hồi"
        return [
            SubmissionProblem(
                "token_being_revoked",
                f"{named} đang mở cho chứng thư số trên thiết bị «{token.serial}»: "
                "thiết bị sẽ nộp lại cơ quan cấp, không khôi phục.",
            )
        ]
    return []


def _certificate_problems(
    request: CertificateRequest, certificate: Certificate | None, limits: SubmissionLimits
) -> list[SubmissionProblem]:
    if certificate is None:
        serial = display_serial(str(request.data.get("certificate_serial") or ""))
        return [
            SubmissionProblem(
                "certificate_not_registered", f"Chứng thư số số hiệu «{serial}» không có trong sổ chứng thư số."
            )
        ]
    if certificate.revoked_at is not None:
        return [SubmissionProblem("certificate_revoked", "Chứng thư số này đã bị thu hồi.")]
    if request.request_type is RequestType.RENEWAL:
        expired_for = utcnow() - certificate.not_after
        if expired_for > timedelta(days=limits.renewal_grace_days):
            return [
                SubmissionProblem(
                    "certificate_expired_too_long",
                    f"Chứng thư số đã hết hạn {expired_for.days} ngày (quá {limits.renewal_grace_days} ngày): "
                    "không gia hạn được, cần đề nghị cấp mới.",
                )
            ]
    return []


def current_information(certificate: Certificate) -> dict[str, str | None]:
    """What an information change (Mẫu 04) would change, as the registry knows it now: by the name of the
    field that carries the new value. The form shows them beside the new ones."""
    holder = certificate.holder
    return {
        "new_full_name": holder.full_name if holder else certificate.subject_cn,
        "new_cccd": holder.cccd if holder else None,
        "new_position": holder.position if holder else None,
        # The unit the certificate was issued for, not the holder's unit now: a person moved to another
        # body (the people record already says so) keeps the certificate, which the change then corrects.
        "new_unit_name": certificate.organisation.name,
        "new_email": holder.email if holder else None,
        "new_phone": holder.phone if holder else None,
    }


def _changes_something(request: CertificateRequest, certificate: Certificate) -> bool:
    return any(
        request.data.get(name) and str(request.data[name]).casefold() != str(value or "").casefold()
        for name, value in current_information(certificate).items()
    )
