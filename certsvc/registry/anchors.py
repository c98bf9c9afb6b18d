"""The trust anchors and revocation lists the server checks received signatures against.

In production an administrator adds the root and issuing CA certificates of the government-specialised
signature service, and the CAs' CRLs as they are published; the verifier of
:mod:`certsvc.documents.verification` picks every change up at the next check.

Who: the anchors hold for every organisation of the service, so only an administrator of the whole tree
(the ADMINISTRATOR role at every root organisation, i.e. MANAGE_ORGS there) changes them, or the command
line (an :class:`~certsvc.audit.service.Actor`). A focal officer's MANAGE_REGISTRY reaches the units it
serves only, which is not enough to decide whom the whole service trusts.

Files are bounded and parsed with ``cryptography``; a certificate that is not a CA's is refused, and a CRL
is accepted only when an anchor in force issued and signed it. Removed anchors stay listed (``removed_at``).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import get_record
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.policy import Permission, can
from certsvc.registry.certificates import MAX_DN, readable_dn
from certsvc.registry.models import RevocationList, TrustAnchor
from certsvc.timeutil import utcnow

__all__ = [
    "MAX_ANCHOR_BYTES",
    "MAX_CRL_BYTES",
    "authorise",
    "active_anchors",
    "add_anchors",
    "remove_anchor",
    "add_revocation_list",
]

#: A CA certificate file (PEM with a few certificates, or DER) is a few kilobytes.
MAX_ANCHOR_BYTES = 256 * 1024
#: A CA's CRL grows with its revocations; a national CA's stays below this.
MAX_CRL_BYTES = 20 * 1024 * 1024

_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_CRL = b"-----BEGIN X509 CRL-----"
_SIGNING_KEYS = (
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
)


def authorise(session: Session, by: Account | Actor) -> Actor:
    """The audit actor, once ``by`` is found to administer the whole organisation tree (or is the command line)."""
    if isinstance(by, Actor):
        return by
    roots = session.scalars(select(Organisation.id).where(Organisation.parent_id.is_(None))).all()
    if not roots or not all(can(session, by, Permission.MANAGE_ORGS, root) for root in roots):
        raise PermissionDenied("Chỉ quản trị viên toàn hệ thống mới thay đổi chứng thư gốc tin cậy.")
    return Actor.of(by)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message}, message)


def _bounded(data: bytes, limit: int) -> None:
    if not data:
        raise _refuse("Tệp rỗng.")
    if len(data) > limit:
        raise _refuse(f"Tệp quá lớn (giới hạn {limit // 1024} KB).")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _load_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        if _PEM_CERT in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise _refuse("Tệp không phải chứng thư số (PEM hoặc DER).") from None


def _subject(name: x509.Name) -> str:
    text = readable_dn(name)
    if len(text) > MAX_DN:
        raise _refuse(f"Tên chủ thể dài quá {MAX_DN} ký tự.")
    return text


def _issued_by(crl: x509.CertificateRevocationList, anchor: TrustAnchor) -> bool:
    cert = x509.load_der_x509_certificate(anchor.der)
    key = cert.public_key()
    # The CAs of the government-specialised service sign with RSA or EC keys; a key that cannot sign is no issuer.
    if not isinstance(key, _SIGNING_KEYS):
        return False
    return cert.subject == crl.issuer and crl.is_signature_valid(key)


def active_anchors(session: Session) -> list[TrustAnchor]:
    return list(session.scalars(select(TrustAnchor).where(TrustAnchor.removed_at.is_(None)).order_by(TrustAnchor.id)))


def add_anchors(session: Session, by: Account | Actor, data: bytes) -> list[TrustAnchor]:
    """Trust the CA certificates of ``data`` (PEM, one or more, or DER); one audit entry per anchor.

    Every certificate must be a CA's (basic constraints CA); one already trusted is refused, one removed
    before is trusted again.
    """
    actor = authorise(session, by)
    _bounded(data, MAX_ANCHOR_BYTES)
    certificates = _load_certificates(data)
    try:
        if not all(_is_ca(cert) for cert in certificates):
            raise _refuse(
                "Chỉ nhận chứng thư của tổ chức cung cấp dịch vụ chứng thực (CA), không nhận chứng thư thuê bao."
            )
        parsed = [
            (cert, cert.public_bytes(serialization.Encoding.DER), _subject(cert.subject), cert.not_valid_after_utc)
            for cert in certificates
        ]
    except (ValueError, x509.DuplicateExtension):  # a malformed extension is only noticed when read
        raise _refuse("Chứng thư trong tệp bị lỗi định dạng, không đọc được.") from None
    added = []
    for _cert, der, subject, not_after in parsed:
        sha256 = hashlib.sha256(der).hexdigest()
        anchor = session.scalar(select(TrustAnchor).where(TrustAnchor.sha256 == sha256))
        if anchor is not None and anchor.removed_at is None:
            raise _refuse(f"Chứng thư «{subject}» đã là chứng thư gốc tin cậy.")
        if anchor is None:
            anchor = TrustAnchor(subject_dn=subject, sha256=sha256, der=der, not_after=not_after)
            session.add(anchor)
        anchor.removed_at, anchor.added_by_id, anchor.added_at = None, actor.account_id, utcnow()
        session.flush()
        record(session, actor, "trust_anchor.added", "trust_anchor", anchor.id, {"subject": subject, "sha256": sha256})
        added.append(anchor)
    return added


def remove_anchor(session: Session, by: Account | Actor, anchor_id: object) -> TrustAnchor:
    """Stop trusting an anchor; it stays listed with the time it was removed."""
    actor = authorise(session, by)
    anchor = get_record(session, TrustAnchor, anchor_id, "Không có chứng thư gốc này.")
    if anchor.removed_at is not None:
        raise _refuse("Chứng thư gốc này đã được gỡ.")
    anchor.removed_at = utcnow()
    record(
        session,
        actor,
        "trust_anchor.removed",
        "trust_anchor",
        anchor.id,
        {"subject": anchor.subject_dn, "sha256": anchor.sha256},
    )
    return anchor


def add_revocation_list(session: Session, by: Account | Actor, data: bytes) -> RevocationList:
    """Keep a CRL (PEM or DER) that an anchor in force issued and signed; the newest of an issuer counts."""
    actor = authorise(session, by)
    _bounded(data, MAX_CRL_BYTES)
    try:
        crl = x509.load_pem_x509_crl(data) if _PEM_CRL in data else x509.load_der_x509_crl(data)
    except ValueError:
        raise _refuse("Tệp không phải danh sách chứng thư bị thu hồi (CRL, PEM hoặc DER).") from None
    issuer = next((anchor for anchor in active_anchors(session) if _issued_by(crl, anchor)), None)
    if issuer is None:
        raise _refuse("Danh sách thu hồi không do một chứng thư gốc tin cậy đang dùng cấp và ký.")
    der = crl.public_bytes(serialization.Encoding.DER)
    sha256 = hashlib.sha256(der).hexdigest()
    if session.scalar(select(RevocationList.id).where(RevocationList.sha256 == sha256)) is not None:
        raise _refuse("Danh sách thu hồi này đã được nạp.")
    revocation_list = RevocationList(
        issuer_dn=issuer.subject_dn,
        sha256=sha256,
        der=der,
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,
        added_by_id=actor.account_id,
    )
    session.add(revocation_list)
    session.flush()
    record(
        session,
        actor,
        "revocation_list.added",
        "revocation_list",
        revocation_list.id,
        {"issuer": issuer.subject_dn, "sha256": sha256, "this_update": crl.last_update_utc.isoformat()},
    )
    return revocation_list
