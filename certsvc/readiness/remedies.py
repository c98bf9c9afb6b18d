"""From a failed check to the request that fixes it, in one click, through the normal request services.

PIN locked or token damaged → recovery of the token (Mẫu 06); certificate expired or expiring → renewal (Mẫu 04);
key missing or not matching the certificate → revocation (Mẫu 05) and a new certificate; certificate revoked (the
CA already did it) → a new certificate only; the holder's details on the certificate differ from the registry's
person record → information change (Mẫu 04). The new certificate's request (Mẫu 01 personal, 02 organisation,
03 device) is drafted from what the registry knows of the holder or the unit, and saved only if the request
service accepts it: what only the unit knows (the CCCD's date and place of issue, the budget code, the validity)
is left for the drafter, on the form prefilled from the certificate.

Every draft names the token or certificate, and a reason naming the check and its report; it then goes through the
usual approval. While a request of that type for that token or certificate is open, the click shows it instead:
the token's row is held for the transaction, so two clicks at once draft once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.transitions import busy_as_conflict
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.policy import Permission, can
from certsvc.readiness.models import CheckedToken
from certsvc.registry.models import Certificate, Token, TokenKind
from certsvc.requests.models import CLOSED_STATUSES, CertificateRequest, RequestType
from certsvc.requests.replacement import new_certificate_type, replacement_fields
from certsvc.requests.service import create_draft
from certsvc.timeutil import to_vietnam

__all__ = [
    "HOLDER_CHECK",
    "Remedy",
    "REMEDIES",
    "HolderMismatch",
    "Drafted",
    "remedy_for",
    "holder_mismatch",
    "open_request_for",
    "draft_from_check",
]

#: Not a check token_agent runs: the certificate on the token names its holder otherwise than the registry's
#: person record (see :func:`holder_mismatch`).
HOLDER_CHECK = "holder.details"


@dataclass(frozen=True)
class Remedy:
    """The requests a failed check calls for, with the fields the check decides."""

    #: The request about the checked token or its certificate; None when only a new certificate helps (the CA
    #: already revoked the certificate: nothing left to revoke).
    request_type: RequestType | None
    fields: tuple[tuple[str, str], ...] = ()
    #: A new certificate is needed as well, drafted from the registry (see :func:`new_certificate_type`).
    new_certificate: bool = False

    @property
    def label(self) -> str:
        """What the one-click button says."""
        asked = [self.request_type.label] if self.request_type is not None else []
        if self.new_certificate:
            asked.append("Cấp mới chứng thư số")
        return ", ".join([asked[0]] + [name[0].lower() + name[1:] for name in asked[1:]])


_RECOVER_PIN = Remedy(RequestType.RECOVERY, (("problem", "pin_locked"),))
_RECOVER_DEVICE = Remedy(RequestType.RECOVERY, (("problem", "device_fault"),))
_REPLACE = Remedy(RequestType.REVOCATION, (("reason", "other"),), new_certificate=True)

#: By token_agent check id (see :mod:`token_agent.health`), and :data:`HOLDER_CHECK`.
REMEDIES: dict[str, Remedy] = {
    "pin.locked": _RECOVER_PIN,
    "pin.final_try": _RECOVER_PIN,
    "token.login": _RECOVER_PIN,
    "token.initialized": _RECOVER_DEVICE,
    "pin.user_initialized": _RECOVER_DEVICE,
    "cert.present": _RECOVER_DEVICE,
    "cert.test_pdf": _RECOVER_DEVICE,
    "cert.validity": Remedy(RequestType.RENEWAL, (("extension_years", "1"),)),
    "cert.revocation": Remedy(None, new_certificate=True),
    "cert.private_key": _REPLACE,
    "cert.test_signature": _REPLACE,
    HOLDER_CHECK: Remedy(RequestType.CHANGE),
}

#: The new-certificate request of each kind of certificate.
_CCCD_PREFIX = "CCCD:"


def remedy_for(check_id: str) -> Remedy | None:
    return REMEDIES.get(check_id)


def _same_name(first: str, second: str) -> bool:
    """Equal as names are read: Unicode composition, letter case and spacing aside."""

    def folded(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).casefold().split())

    return folded(first) == folded(second)


@dataclass(frozen=True)
class HolderMismatch:
    """The registered personal certificate on a checked token names its holder (subject CN, UID ``CCCD:…``)
    otherwise than the registry's record of the person it is registered to: the CA certified details that are no
    longer, or never were, the holder's. Only what both sides state is compared."""

    certificate_name: str
    registered_name: str
    certificate_cccd: str | None
    registered_cccd: str | None

    @property
    def name_differs(self) -> bool:
        return not _same_name(self.certificate_name, self.registered_name)

    @property
    def cccd_differs(self) -> bool:
        return (
            None not in (self.certificate_cccd, self.registered_cccd) and self.certificate_cccd != self.registered_cccd
        )

    @property
    def message(self) -> str:
        """The difference in Vietnamese, as the board and the request's reason say it."""
        parts = []
        if self.name_differs:
            parts.append(f"họ tên «{self.certificate_name}», sổ ghi «{self.registered_name}»")
        if self.cccd_differs:
            parts.append(f"số CCCD {self.certificate_cccd}, sổ ghi {self.registered_cccd}")
        return "Thông tin người sử dụng trên chứng thư số khác với sổ: " + "; ".join(parts) + "."


def holder_mismatch(checked: CheckedToken) -> HolderMismatch | None:
    """How the certificate the check found on the token names its holder otherwise than the registry, if it does.

    The report's thumbprint matched the registered certificate, so its subject is the registry's copy of what is
    on the token. Organisation and device certificates, and certificates registered to nobody, are not compared."""
    certificate = checked.certificate
    holder = certificate.holder if certificate is not None else None
    if certificate is None or holder is None or certificate.kind is not TokenKind.PERSONAL:
        return None
    uid = certificate.subject_uid or ""
    found = HolderMismatch(
        certificate_name=certificate.subject_cn,
        registered_name=holder.full_name,
        certificate_cccd=uid.removeprefix(_CCCD_PREFIX) if uid.startswith(_CCCD_PREFIX) else None,
        registered_cccd=holder.cccd,
    )
    return found if found.name_differs or found.cccd_differs else None


def _open(session: Session, request_type: RequestType, *subject) -> CertificateRequest | None:
    return session.scalars(
        select(CertificateRequest)
        .where(
            CertificateRequest.request_type == request_type,
            CertificateRequest.status.not_in(CLOSED_STATUSES),
            *subject,
        )
        .order_by(CertificateRequest.id.desc())
    ).first()


def open_request_for(session: Session, checked: CheckedToken, check_id: str) -> CertificateRequest | None:
    """The open request of the remedy's own type (not the new certificate's) for the checked token (recovery)
    or its certificate, if any."""
    remedy = remedy_for(check_id)
    if remedy is None or remedy.request_type is None or checked.token_id is None:
        return None
    if remedy.request_type is RequestType.RECOVERY:
        return _open(session, remedy.request_type, CertificateRequest.token_id == checked.token_id)
    return _open(session, remedy.request_type, CertificateRequest.certificate_id == checked.certificate_id)


def _open_new_request(session: Session, certificate: Certificate) -> CertificateRequest | None:
    """The open new-certificate request for the holder of ``certificate`` (personal), or of its unit (otherwise)."""
    kind = new_certificate_type(certificate)
    if kind is RequestType.NEW_INDIVIDUAL:
        if certificate.holder_id is None:
            return None
        return _open(session, kind, CertificateRequest.subject_person_id == certificate.holder_id)
    return _open(session, kind, CertificateRequest.organisation_id == certificate.organisation_id)


def _hold(session: Session, token_id: int) -> None:
    """Hold the token's row until the transaction ends, so that clicks about it are decided one at a time: on
    PostgreSQL with SELECT … FOR UPDATE; on SQLite, whose writers queue on one lock, by beginning the write (an
    UPDATE that changes nothing) before anything is read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Token.id).where(Token.id == token_id).with_for_update())
        return
    with busy_as_conflict("Đang có người lập đề nghị cho thiết bị này. Thử lại sau giây lát."):
        session.execute(
            update(Token).where(Token.id == token_id).values(id=Token.id).execution_options(synchronize_session=False)
        )


def _failure(checked: CheckedToken, check_id: str) -> str | None:
    """What the check ``check_id`` found wrong with the checked token, or None when it did not fail."""
    if check_id == HOLDER_CHECK:
        mismatch = holder_mismatch(checked)
        return mismatch.message if mismatch is not None else None
    return next((check["message"] for check in checked.failing_checks if check["id"] == check_id), None)


def _reason(checked: CheckedToken, failure: str) -> str:
    day = to_vietnam(checked.report.checked_at)
    return (
        f"Kiểm tra thiết bị {checked.token_serial} ngày {day:%d/%m/%Y} (kết quả kiểm tra số {checked.report_id}): "
        f"{failure}"
    )[:1000]


@dataclass(frozen=True)
class Drafted:
    """What one click did."""

    remedy: Remedy
    #: The request about the token or its certificate, drafted now or already open; None when the remedy has none.
    request: CertificateRequest | None
    created: bool
    #: The certificate the check found on the token (registered), if any.
    certificate_id: int | None = None
    #: The new certificate's request type, when the remedy calls for one.
    new_type: RequestType | None = None
    #: That request, drafted now or already open; None when the request service refused what the registry knows:
    #: the unit then fills the form, prefilled from the certificate.
    new_request: CertificateRequest | None = None
    new_created: bool = False


def _draft(session: Session, by: Account, unit_id: int, kind: RequestType, fields: dict[str, object]):
    """``create_draft``, or None when the request service refuses ``fields`` (nothing of it is written)."""
    try:
        with session.begin_nested():
            return create_draft(session, by, unit_id, kind, fields)
    except ValidationFailed:
        return None


def _request_fields(remedy: Remedy, checked: CheckedToken, reason: str) -> dict[str, object]:
    assert remedy.request_type is not None
    fields: dict[str, object] = dict(remedy.fields)
    if remedy.request_type is RequestType.RECOVERY:
        return fields | {"token_id": checked.token_id, "description": reason}
    fields["certificate_id"] = checked.certificate_id
    if remedy.request_type is RequestType.REVOCATION:
        return fields | {"reason_detail": reason}
    mismatch = holder_mismatch(checked) if remedy.request_type is RequestType.CHANGE else None
    if mismatch is not None and mismatch.name_differs:
        fields["new_full_name"] = mismatch.registered_name
    return fields | {"note": reason}


def draft_from_check(session: Session, by: Account, checked_token_id: int, check_id: str) -> Drafted:
    """The requests the failed check ``check_id`` of a checked token calls for: drafted by ``by`` (who must be
    allowed to draft the unit's requests), or those already open. The caller commits.

    404 to whoever may not see the unit's readiness, 403 to whoever may see it but not draft its requests."""
    checked = session.get(CheckedToken, checked_token_id)
    token = session.get(Token, checked.token_id) if checked is not None and checked.token_id is not None else None
    if checked is None or token is None or not can(session, by, Permission.VIEW_READINESS, token.organisation_id):
        raise NotFound("Không có kết quả kiểm tra này.")
    if not can(session, by, Permission.DRAFT_REQUESTS, token.organisation_id):
        raise PermissionDenied("Chỉ cán bộ của đơn vị được lập đề nghị cho thiết bị này.")
    remedy = remedy_for(check_id)
    failure = _failure(checked, check_id) if remedy is not None else None
    if remedy is None or failure is None:
        raise ValidationFailed({"check": "Kết quả kiểm tra này không có lỗi nào ở mục này cần lập đề nghị."})
    certificate = checked.certificate
    if remedy.request_type is not RequestType.RECOVERY and certificate is None:
        raise ValidationFailed({"check": "Chứng thư số trên thiết bị chưa có trong sổ chứng thư số."})
    _hold(session, token.id)
    reason = _reason(checked, failure)
    request, created = None, False
    if remedy.request_type is not None:
        request = open_request_for(session, checked, check_id)
        if request is None:
            request = create_draft(
                session, by, token.organisation_id, remedy.request_type, _request_fields(remedy, checked, reason)
            )
            created = True
    new_type, new_request, new_created = None, None, False
    if remedy.new_certificate and certificate is not None:
        new_type = new_certificate_type(certificate)
        new_request = _open_new_request(session, certificate)
        if new_request is None:
            new_request = _draft(session, by, token.organisation_id, new_type, replacement_fields(certificate))
            new_created = new_request is not None
    drafted = Drafted(remedy, request, created, checked.certificate_id, new_type, new_request, new_created)
    drafted_now = [found for found, made in ((request, created), (new_request, new_created)) if made and found]
    if drafted_now:
        session.flush()
        record(
            session,
            Actor.of(by),
            "readiness.request_drafted",
            "certificate_request",
            drafted_now[0].id,
            {
                "checked_token_id": checked.id,
                "report_id": checked.report_id,
                "check": check_id,
                "request_ids": [found.id for found in drafted_now],
            },
        )
    return drafted
