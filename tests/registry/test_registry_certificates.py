"""Parsing certificate files in every encoding a CA hands out, and refusing everything else."""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certsvc.errors import ValidationFailed
from certsvc.registry.certificates import MAX_FILE_BYTES, parse_certificate, parse_certificates
from tests.support.registry import ISSUER, der, make_cert, p7, pem
from token_agent.demo import SIGNING_USAGE

CERT = make_cert("Nguyễn Văn An", "CCCD:001234567890", "UBND xã Tân Đoàn")
OTHER = make_cert("UBND xã Tân Đoàn", "MST:4900123456", "UBND xã Tân Đoàn")

ENCODINGS = {
    "pem": pem(CERT),
    "pem_with_chain": pem(CERT, ISSUER.cert),
    "pem_chain_first": pem(ISSUER.cert, CERT),
    "der": der(CERT),
    "cer_der": der(CERT),
    "cer_pem": pem(CERT),
    "pem_with_text_around": b"Bag Attributes\n  friendlyName: An\n" + pem(CERT) + b"\n",
    "pkcs7_der": p7(CERT, ISSUER.cert),
    "pkcs7_pem": p7(ISSUER.cert, CERT, encoding=serialization.Encoding.PEM),
    "pkcs7_der_alone": p7(CERT),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_gives_the_end_entity_certificate(encoding):
    parsed = parse_certificate(ENCODINGS[encoding])
    assert parsed.der == der(CERT)
    assert parsed.common_name == "Nguyễn Văn An"


def test_fields_are_read_from_the_certificate():
    parsed = parse_certificate(pem(CERT))
    assert parsed.uid == "CCCD:001234567890"
    assert (parsed.organisation, parsed.locality, parsed.state, parsed.country) == (
        "UBND xã Tân Đoàn",
        "Văn Quan",
        "Lạng Sơn",
        "VN",
    )
    assert parsed.organisational_unit is None
    assert parsed.subject_dn == (
        "CN=Nguyễn Văn An, UID=CCCD:001234567890, O=UBND xã Tân Đoàn, L=Văn Quan, ST=Lạng Sơn, C=VN"
    )
    assert parsed.issuer_dn.startswith("CN=CA phục vụ các cơ quan nhà nước (thử nghiệm), O=Ban Cơ yếu")
    assert int(parsed.serial_hex, 16) == CERT.serial_number
    assert parsed.serial_hex == parsed.serial_hex.upper() and len(parsed.serial_hex) % 2 == 0
    assert parsed.not_before == CERT.not_valid_before_utc and parsed.not_before.tzinfo is UTC
    assert parsed.not_after == CERT.not_valid_after_utc
    assert parsed.key_usage == ("digitalSignature", "nonRepudiation")
    assert parsed.sha1 == hashlib.sha1(der(CERT)).hexdigest()
    assert parsed.sha256 == hashlib.sha256(der(CERT)).hexdigest()
    assert parsed.pem == pem(CERT)


def test_organisational_unit_and_tax_code_uid():
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Văn phòng"),
            x509.NameAttribute(NameOID.USER_ID, "MST:4900123456"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Văn phòng UBND"),
        ]
    )
    cert = ISSUER.issue(subject, ec.generate_private_key(ec.SECP256R1()).public_key(), usage=SIGNING_USAGE)
    parsed = parse_certificate(der(cert))
    assert (parsed.organisational_unit, parsed.uid) == ("Văn phòng", "MST:4900123456")
    assert parsed.subject_dn == "CN=Văn phòng UBND, UID=MST:4900123456, OU=Văn phòng, O=UBND tỉnh, C=VN"


def test_a_bundle_with_two_subscribers_lists_both_but_registers_one_at_a_time():
    bundle = p7(CERT, ISSUER.cert, OTHER)
    # A bundle's certificates are a DER SET OF, ordered by their bytes (random keys here), not as given.
    assert sorted(p.common_name for p in parse_certificates(bundle)) == ["Nguyễn Văn An", "UBND xã Tân Đoàn"]
    with pytest.raises(ValidationFailed) as refused:
        parse_certificate(bundle)
    assert "chỉ đăng ký một" in refused.value.field_errors["file"]


JUNK = {
    "empty": b"",
    "text": "Đây không phải chứng thư số".encode(),
    "random": bytes(range(256)) * 4,
    "broken_pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    "truncated_der": der(CERT)[:200],
    "broken_pkcs7": b"-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n",
    "private_key": ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ),
    "ca_only_pem": pem(ISSUER.cert),
    "ca_only_pkcs7": p7(ISSUER.cert),
    "too_big": pem(CERT) + b" " * MAX_FILE_BYTES,
}


@pytest.mark.parametrize("name", JUNK)
def test_junk_is_refused_with_a_vietnamese_message(name):
    with pytest.raises(ValidationFailed) as refused:
        parse_certificates(JUNK[name])
    message = refused.value.field_errors["file"]
    assert message and any(char in message for char in "ệứờảố"), message


def test_validity_in_the_past_is_still_parsed():
    old = make_cert(starts=timedelta(days=-800), ends=timedelta(days=-5))
    assert parse_certificate(der(old)).not_after < parse_certificate(der(CERT)).not_after
