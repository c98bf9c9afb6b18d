"""Helpers shared by the registry tests and the registry permission table (no tests here).

Certificates come from the token_agent test PKI: a throw-away root and issuing CA, built once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.audit.service import Actor
from certsvc.registry import anchors, registration
from certsvc.registry.certificates import ParsedCertificate, summarise
from certsvc.registry.demo import issue_test_certificate, throwaway_issuer
from certsvc.registry.models import Certificate, ExpiryReminder, Token, TokenEvent, TokenKind, TokenReturn
from certsvc.timeutil import utcnow

ISSUER = throwaway_issuer()
TESTER = Actor(label="test")
_serials = iter(range(1, 1_000_000))


def make_cert(
    cn: str = "Nguyễn Văn An",
    uid: str | None = "CCCD:001234567890",
    org: str = "UBND xã Tân Đoàn",
    *,
    starts: timedelta = timedelta(days=-30),
    ends: timedelta = timedelta(days=700),
    now: datetime | None = None,
) -> x509.Certificate:
    now = now or utcnow()
    return issue_test_certificate(ISSUER, cn, uid, org, not_before=now + starts, not_after=now + ends)


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def p7(*certs: x509.Certificate, encoding=serialization.Encoding.DER) -> bytes:
    return pkcs7.serialize_certificates(list(certs), encoding)


def trust_test_issuer(session) -> None:
    """The test PKI's issuing CA as a configured trust anchor (committed): a CA's answer is checked against
    the anchors, so outcomes take the certificates it issues."""
    anchors.add_anchors(session, TESTER, pem(ISSUER.cert))
    session.commit()


def parsed(**kwargs) -> ParsedCertificate:
    return summarise(make_cert(**kwargs))


def next_serial() -> str:
    return f"TK{next(_serials):06d}"


def add_certificate(
    session,
    org,
    *,
    holder=None,
    kind: TokenKind = TokenKind.PERSONAL,
    serial: str | None = "auto",
    predecessor: Certificate | None = None,
    ends: timedelta = timedelta(days=700),
    now: datetime | None = None,
    cn: str = "Nguyễn Văn An",
) -> Certificate:
    """A registered certificate (committed), on a new token unless ``serial`` says otherwise."""
    if kind is TokenKind.PERSONAL and holder is None:
        holder = _someone_in(session, org)
    cert = registration.register_certificate(
        session,
        TESTER,
        parsed(cn=cn, ends=ends, now=now),
        kind=kind,
        organisation_id=org.id,
        holder_id=holder.id if holder else None,
        token_serial=next_serial() if serial == "auto" else serial,
        predecessor=predecessor,
    )
    session.commit()
    return cert


def _someone_in(session, org):
    from certsvc.people.models import Person

    person = session.scalar(select(Person).where(Person.organisation_id == org.id).limit(1))
    if person is None:
        person = Person(full_name="Nguyễn Văn An", organisation=org, position="Chủ tịch")
        session.add(person)
        session.flush()
    return person


def registry_counts(session) -> dict[str, int]:
    """Rows in every registry table and the audit log: what a refused action must leave alone."""
    session.expire_all()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Certificate, Token, TokenEvent, TokenReturn, ExpiryReminder, AuditEntry)
    }
