"""Reading the certificate files a CA hands out: PEM (one or several), DER, ``.cer``, PKCS#7.

No Flask here. :func:`parse_certificates` returns the end-entity certificates of a file
(CA certificates that come along in a chain or a PKCS#7 bundle are left out); anything
that is not a certificate file raises :class:`certsvc.errors.ValidationFailed` with a
Vietnamese message on the field ``file``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from certsvc.core.validation import text_problem
from certsvc.errors import ValidationFailed

__all__ = ["ParsedCertificate", "parse_certificates", "parse_certificate", "MAX_FILE_BYTES"]

#: A certificate file is a few kilobytes; a bundle with a long chain stays far below this.
MAX_FILE_BYTES = 256 * 1024
#: The registry's columns: a longer value is refused, never cut (a cut DN names someone else).
MAX_DN, MAX_CN, MAX_UID, MAX_SERIAL_HEX = 1000, 255, 100, 64

_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_PKCS7 = (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")

#: Short names of the attributes Vietnamese certificates use, in the readable DN.
_SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.USER_ID: "UID",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.TITLE: "T",
    NameOID.STREET_ADDRESS: "STREET",
}

#: KeyUsage flags in the order and with the names of RFC 5280.
_KEY_USAGES = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


@dataclass(frozen=True)
class ParsedCertificate:
    """What the registry keeps of one X.509 certificate, read from its file."""

    common_name: str
    #: The UID attribute (OID 0.9.2342.19200300.100.1.1), e.g. ``CCCD:001234567890`` or ``MST:4900123456``.
    uid: str | None
    organisational_unit: str | None
    organisation: str | None
    locality: str | None
    state: str | None
    country: str | None
    #: The whole subject, most specific first: ``CN=..., UID=..., O=..., L=..., ST=..., C=VN``.
    subject_dn: str
    #: Upper-case hexadecimal, an even number of digits.
    serial_hex: str
    issuer_dn: str
    not_before: datetime
    not_after: datetime
    #: RFC 5280 names of the KeyUsage flags set, e.g. ``("digitalSignature", "nonRepudiation")``.
    key_usage: tuple[str, ...]
    sha1: str
    sha256: str
    der: bytes

    @property
    def pem(self) -> bytes:
        return der_to_pem(self.der)


def der_to_pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def readable_dn(name: x509.Name) -> str:
    """``CN=..., UID=..., O=...``: most specific first, values unescaped, for people to read."""
    parts = []
    for rdn in reversed(name.rdns):
        for attr in rdn:
            key = _SHORT_NAMES.get(attr.oid, attr.oid.dotted_string)
            value = attr.value if isinstance(attr.value, str) else attr.value.hex()
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(name for attr, name in _KEY_USAGES if getattr(usage, attr))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _serial_hex(number: int) -> str:
    text = format(number, "X")
    return text if len(text) % 2 == 0 else "0" + text


def summarise(cert: x509.Certificate) -> ParsedCertificate:
    subject = cert.subject
    der = cert.public_bytes(serialization.Encoding.DER)
    return ParsedCertificate(
        common_name=_attribute(subject, NameOID.COMMON_NAME) or readable_dn(subject),
        uid=_attribute(subject, NameOID.USER_ID),
        organisational_unit=_attribute(subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        organisation=_attribute(subject, NameOID.ORGANIZATION_NAME),
        locality=_attribute(subject, NameOID.LOCALITY_NAME),
        state=_attribute(subject, NameOID.STATE_OR_PROVINCE_NAME),
        country=_attribute(subject, NameOID.COUNTRY_NAME),
        subject_dn=readable_dn(subject),
        serial_hex=_serial_hex(cert.serial_number),
        issuer_dn=readable_dn(cert.issuer),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_usage=_key_usage(cert),
        sha1=hashlib.sha1(der).hexdigest(),
        sha256=hashlib.sha256(der).hexdigest(),
        der=der,
    )


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message}, message)


def _load(data: bytes) -> list[x509.Certificate]:
    """Every certificate in the file, whatever its encoding."""
    if any(marker in data for marker in _PEM_PKCS7):
        return pkcs7.load_pem_pkcs7_certificates(data)
    if _PEM_CERT in data:
        return x509.load_pem_x509_certificates(data)
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        return pkcs7.load_der_pkcs7_certificates(data)


def parse_certificates(data: bytes) -> list[ParsedCertificate]:
    """The end-entity certificates in ``data``, in file order; at least one, or ValidationFailed."""
    if not data:
        raise _refuse("Tệp rỗng: hãy chọn tệp chứng thư số do CA cấp.")
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"Tệp quá lớn ({len(data) // 1024} KB): tệp chứng thư số chỉ vài KB.")
    try:
        found = _load(data)
    except (ValueError, TypeError):
        raise _refuse(
            "Tệp không phải chứng thư số: chấp nhận tệp PEM, DER, .cer hoặc gói PKCS#7 (.p7b, .p7c)."
        ) from None
    if not found:
        raise _refuse("Gói PKCS#7 không chứa chứng thư số nào.")
    try:
        end_entities = [cert for cert in found if not _is_ca(cert)]
        if not end_entities:
            raise _refuse("Tệp chỉ có chứng thư của tổ chức cung cấp dịch vụ (CA), không có chứng thư của thuê bao.")
        return [_checked(cert) for cert in end_entities]
    except (ValueError, x509.DuplicateExtension):  # a malformed extension is only noticed when read
        raise _refuse("Chứng thư số trong tệp bị lỗi định dạng (phần mở rộng hỏng), không đọc được.") from None


def _checked(cert: x509.Certificate) -> ParsedCertificate:
    """``cert`` summarised, once what the registry keeps of it is found fit to keep."""
    if cert.serial_number <= 0:
        raise _refuse("Số hiệu (serial) của chứng thư số phải là số dương (RFC 5280): tệp không hợp lệ.")
    parsed = summarise(cert)
    if len(parsed.serial_hex) > MAX_SERIAL_HEX:
        raise _refuse(f"Số hiệu (serial) của chứng thư số dài quá {MAX_SERIAL_HEX} chữ số hệ 16.")
    limits = (
        ("Chủ thể (Subject)", parsed.subject_dn, MAX_DN),
        ("Tổ chức cấp (Issuer)", parsed.issuer_dn, MAX_DN),
        ("Tên (CN)", parsed.common_name, MAX_CN),
        ("Mã định danh (UID)", parsed.uid or "", MAX_UID),
    )
    for label, value, limit in limits:
        if len(value) > limit:
            raise _refuse(f"{label} của chứng thư số dài quá {limit} ký tự: sổ theo dõi không ghi được.")
    # The DNs hold every attribute (CN, UID, O, OU...): checking them checks each name.
    for label, value in (("Chủ thể (Subject)", parsed.subject_dn), ("Tổ chức cấp (Issuer)", parsed.issuer_dn)):
        if problem := text_problem(value):
            raise _refuse(f"{label} của chứng thư số: {problem[0].lower()}{problem[1:]}")
    return parsed


def parse_certificate(data: bytes) -> ParsedCertificate:
    """The one end-entity certificate of ``data``; a file with several is refused."""
    parsed = parse_certificates(data)
    if len(parsed) > 1:
        raise _refuse(f"Tệp có {len(parsed)} chứng thư của thuê bao: mỗi lần chỉ đăng ký một chứng thư.")
    return parsed[0]
