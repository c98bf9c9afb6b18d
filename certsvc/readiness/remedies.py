"""From a failed check to the request that fixes it, in one click, through the normal request services.

PIN locked or token damaged → recovery of the token (Mẫu 06); certificate expired or expiring → renewal (Mẫu 04);
certificate revoked, key missing or not matching the certificate → revocation (Mẫu 05) drafted here, then a new
certificate (Mẫu 01/02), whose form asks for the holder's identity papers and so is filled on the requests page.
The draft names the token or certificate, and a reason naming the check and its report; it then goes through the
usual approval. While a request of that type for that token or certificate is open, the click shows it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.policy import Permission, can
from certsvc.readiness.models import CheckedToken
from certsvc.registry.models import Token, TokenKind
from certsvc.requests.models import CLOSED_STATUSES, CertificateRequest, RequestType
from certsvc.requests.service import create_draft
from certsvc.timeutil import to_vietnam

__all__ = ["Remedy", "REMEDIES", "Drafted", "remedy_for", "open_request_for", "draft_from_check"]


@dataclass(frozen=True)
class Remedy:
    """The request a failed check calls for, with the fields the check decides."""

    request_type: RequestType
    fields: tuple[tuple[str, str], ...] = ()
    #: A new certificate is needed as well (after the revocation): the unit fills that form itself.
    then_new: bool = False


_RECOVER_PIN = Remedy(RequestType.RECOVERY, (("problem", "pin_locked"),))
_RECOVER_DEVICE = Remedy(RequestType.RECOVERY, (("problem", "device_fault"),))
_REPLACE = Remedy(RequestType.REVOCATION, (("reason", "other"),), then_new=True)

#: By token_agent check id (see :mod:`token_agent.health`).
REMEDIES: dict[str, Remedy] = {
    "pin.locked": _RECOVER_PIN,
    "pin.final_try": _RECOVER_PIN,
    "token.login": _RECOVER_PIN,
    "token.initialized": _RECOVER_DEVICE,
    "pin.user_initialized": _RECOVER_DEVICE,
    "cert.present": _RECOVER_DEVICE,
    "cert.test_pdf": _RECOVER_DEVICE,
    "cert.validity": Remedy(RequestType.RENEWAL, (("extension_years", "1"),)),
    "cert.revocation": Remedy(RequestType.REVOCATION, (("reason", "other"),), then_new=True),
    "cert.private_key": _REPLACE,
    "cert.test_signature": _REPLACE,
}


@dataclass(frozen=True)
class Drafted:
    request: CertificateRequest
    #: False when an open request was already there (the click shows it).
    created: bool
    remedy: Remedy

    @property
    def new_type(self) -> RequestType | None:
        """The new-certificate request the unit should fill next, if the remedy calls for one."""
        if not self.remedy.then_new:
            return None
        organisation = self.request.certificate is not None and self.request.certificate.kind is TokenKind.ORGANISATION
        return RequestType.NEW_ORGANISATION if organisation else RequestType.NEW_INDIVIDUAL


def remedy_for(check_id: str) -> Remedy | None:
    return REMEDIES.get(check_id)


def _subject_filter(checked: CheckedToken, remedy: Remedy):
    if remedy.request_type is RequestType.RECOVERY:
        return CertificateRequest.token_id == checked.token_id
    return CertificateRequest.certificate_id == checked.certificate_id


def open_request_for(session: Session, checked: CheckedToken, check_id: str) -> CertificateRequest | None:
    """The open request of the remedy's type for the checked token (or its certificate), if any."""
    remedy = remedy_for(check_id)
    if remedy is None or checked.token_id is None:
        return None
    return session.scalars(
        select(CertificateRequest)
        .where(
            CertificateRequest.request_type == remedy.request_type,
            CertificateRequest.status.not_in(CLOSED_STATUSES),
            _subject_filter(checked, remedy),
        )
        .order_by(CertificateRequest.id.desc())
    ).first()


def _reason(checked: CheckedToken, check_id: str) -> str:
    failed = next(check for check in checked.failing_checks if check["id"] == check_id)
    day = to_vietnam(checked.report.checked_at)
    return (
        f"Kiểm tra thiết bị {checked.token_serial} ngày {day:%d/%m/%Y} (kết quả kiểm tra số {checked.report_id}): "
        f"{failed['message']}"
    )[:1000]


def draft_from_check(session: Session, by: Account, checked_token_id: int, check_id: str) -> Drafted:
    """The request the failed check ``check_id`` of a checked token calls for: drafted by ``by`` (who must be
    allowed to draft the unit's requests), or the one already open. The caller commits.

    404 to whoever may not see the unit's readiness, 403 to whoever may see it but not draft its requests."""
    checked = session.get(CheckedToken, checked_token_id)
    token = session.get(Token, checked.token_id) if checked is not None and checked.token_id is not None else None
    if checked is None or token is None or not can(session, by, Permission.VIEW_READINESS, token.organisation_id):
        raise NotFound("Không có kết quả kiểm tra này.")
    if not can(session, by, Permission.DRAFT_REQUESTS, token.organisation_id):
        raise PermissionDenied("Chỉ cán bộ của đơn vị được lập đề nghị cho thiết bị này.")
    remedy = remedy_for(check_id)
    if remedy is None or check_id not in checked.failing_ids:
        raise ValidationFailed({"check": "Kiểm tra này không đạt nên không có đề nghị tương ứng."})
    if remedy.request_type is not RequestType.RECOVERY and checked.certificate_id is None:
        raise ValidationFailed({"check": "Chứng thư số trên thiết bị chưa có trong sổ chứng thư số."})
    existing = open_request_for(session, checked, check_id)
    if existing is not None:
        return Drafted(existing, False, remedy)
    reason = _reason(checked, check_id)
    fields: dict[str, object] = dict(remedy.fields)
    if remedy.request_type is RequestType.RECOVERY:
        fields |= {"token_id": token.id, "description": reason}
    elif remedy.request_type is RequestType.REVOCATION:
        fields |= {"certificate_id": checked.certificate_id, "reason_detail": reason}
    else:
        fields |= {"certificate_id": checked.certificate_id, "note": reason}
    request = create_draft(session, by, token.organisation_id, remedy.request_type, fields)
    session.flush()
    record(
        session,
        Actor.of(by),
        "readiness.request_drafted",
        "certificate_request",
        request.id,
        {"checked_token_id": checked.id, "report_id": checked.report_id, "check": check_id},
    )
    return Drafted(request, True, remedy)
