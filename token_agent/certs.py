"""Certificates, trust anchors and CRLs as the agent reads them (files given with --trust and --crl).

Only offline material: the agent never fetches a CRL or an OCSP response itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from .errors import TokenAgentError

__all__ = [
    "SubjectSummary",
    "load_certificates",
    "load_crls",
    "summarise_subject",
    "is_ca",
    "build_chain",
    "revocation_entry",
    "utc_now",
    "to_asn1",
]

_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_CRL = b"-----BEGIN X509 CRL-----"


@dataclass(frozen=True)
class SubjectSummary:
    """Who a certificate names: common name, UID (e.g. ``CCCD:001234567890`` or ``MST:...``), organisation."""

    common_name: str
    uid: str | None
    organisation: str | None
    serial: str
    issuer: str


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TokenAgentError(f"Không đọc được tệp {what} {path}: {exc.strerror}", code="file_unreadable") from exc


def load_certificates(paths: Iterable[Path]) -> list[x509.Certificate]:
    """Every certificate in the files (PEM bundles or single DER certificates)."""
    found: list[x509.Certificate] = []
    for path in paths:
        data = _read(path, "chứng thư số")
        try:
            found.extend(
                x509.load_pem_x509_certificates(data) if _PEM_CERT in data else [x509.load_der_x509_certificate(data)]
            )
        except ValueError as exc:
            raise TokenAgentError(f"Tệp {path} không phải chứng thư số X.509.", code="bad_certificate_file") from exc
    return found


def load_crls(paths: Iterable[Path]) -> list[x509.CertificateRevocationList]:
    """The CRLs in the files (PEM or DER), one per file."""
    found = []
    for path in paths:
        data = _read(path, "danh sách thu hồi (CRL)")
        try:
            found.append(x509.load_pem_x509_crl(data) if _PEM_CRL in data else x509.load_der_x509_crl(data))
        except ValueError as exc:
            raise TokenAgentError(f"Tệp {path} không phải danh sách thu hồi (CRL).", code="bad_crl_file") from exc
    return found


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def summarise_subject(cert: x509.Certificate) -> SubjectSummary:
    return SubjectSummary(
        common_name=_attribute(cert.subject, NameOID.COMMON_NAME) or cert.subject.rfc4514_string(),
        uid=_attribute(cert.subject, NameOID.USER_ID),
        organisation=_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
        serial=format(cert.serial_number, "x"),
        issuer=_attribute(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string(),
    )


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def build_chain(
    cert: x509.Certificate, intermediates: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> list[x509.Certificate] | None:
    """The path cert → ... → anchor, checking each signature and the CA flag, or None when there is none.

    Validity periods are not judged here: the health check reports them separately.
    """
    path = [cert]
    current = cert
    for _ in range(len(intermediates) + 1):
        anchor = next((a for a in anchors if a.subject == current.issuer and _issued_by(current, a)), None)
        if anchor is not None:
            return [*path, anchor] if anchor != current else path
        issuer = next(
            (
                c
                for c in intermediates
                if c.subject == current.issuer and c not in path and is_ca(c) and _issued_by(current, c)
            ),
            None,
        )
        if issuer is None:
            return None
        path.append(issuer)
        current = issuer
    return None


def revocation_entry(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList],
) -> tuple[x509.CertificateRevocationList, x509.RevokedCertificate | None] | None:
    """The issuer's CRL among ``crls`` (signature checked) and the certificate's entry in it, if any.

    None when no CRL of that issuer was given.
    """
    for crl in crls:
        if crl.issuer == cert.issuer and crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return crl, crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    return None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as asn1crypto (pyHanko's type)."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
