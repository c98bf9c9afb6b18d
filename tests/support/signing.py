"""Signing documents in tests with real SoftHSM tokens: a test PKI with keys generated on the tokens, the
signature and seal images, the leader's and the clerk's signing steps, and an NSS database for pdfsig.

The tokens are made once per test session (the ``tokens`` fixture; this module is a plugin of tests/conftest.py);
tests that use them are marked ``pkcs11`` and grouped ``softhsm``, so that ``--dist loadgroup`` keeps them on one
worker. Tests of the demo, which makes its own tokens in its instance folder, are grouped ``demo`` instead: they
run beside the ``softhsm`` group on another worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.pkcs11 import PKCS11Signer
from sqlalchemy import select

from certsvc.accounts.models import Account, Role
from certsvc.audit.service import SYSTEM
from certsvc.custody import entries
from certsvc.documents import files
from certsvc.documents.models import DocumentStatus, DocumentType, OutgoingDocument
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.registry import anchors
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import Token, TokenKind
from certsvc.registry.registration import register_certificate
from tests.conftest import add_account, add_org
from tests.token_agent.conftest import MODULE, token_named
from token_agent import demo, pkcs11_access, signing
from token_agent.demo import Authority, vn_name
from token_agent.pkcs11_access import Pin
from token_agent.verification import Verifier

OTHER_PERSON = "Trần Thị Khác"
PLACE = "Văn Quan"
#: Token label → (subject, the issuing authority's name in ``Tokens.authorities``).
_TOKENS = {
    "LANH-DAO": (vn_name(demo.SIGNER, "CCCD:001234567890"), "issuing"),
    "KHAC": (vn_name(OTHER_PERSON, "CCCD:001234567891"), "issuing"),
    "CHUA-DK": (vn_name("Lê Văn Lạ", "CCCD:001234567892"), "issuing"),
    "THU-HOI": (vn_name(demo.SIGNER, "CCCD:001234567890"), "issuing"),
    "NGOAI": (vn_name(demo.SIGNER, "CCCD:001234567890"), "stranger"),
    "VAN-THU": (vn_name("UBND huyện Văn Quan", "MST:4900123456"), "issuing"),
}


@dataclass
class Tokens:
    """The test PKI, its SoftHSM tokens (in their own directory) and the signature and seal images."""

    directory: Path
    authorities: dict[str, Authority]
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)

    def environment(self) -> contextlib.AbstractContextManager[None]:
        """SoftHSM pointed at these tokens for the duration (token_agent's tests keep theirs elsewhere)."""
        return demo.softhsm_configured(self.directory / "softhsm2.conf")

    @contextmanager
    def signer(self, label: str) -> Iterator[PKCS11Signer]:
        with self.environment():
            module = pkcs11_access.load_module(MODULE)
            with pkcs11_access.open_session(token_named(module, label), Pin(demo.USER_PIN)) as session:
                yield signing.token_signer(session)

    def pem(self, *names: str) -> bytes:
        return b"".join(self.authorities[n].cert.public_bytes(serialization.Encoding.PEM) for n in names)

    def der(self, label: str) -> bytes:
        return self.certificates[label].public_bytes(serialization.Encoding.DER)

    def image(self, name: str) -> Path:
        return self.directory / f"{name}.png"


def make_tokens(directory: Path) -> Tokens:
    """The test PKI and its SoftHSM tokens in ``directory`` (the session's ``tokens`` fixture below)."""
    demo.softhsm_config(directory)
    root = demo.root_authority("Root CA văn bản")
    made = Tokens(
        directory,
        {
            "root": root,
            "issuing": demo.sub_authority(root, "Issuing CA văn bản"),
            "stranger": demo.root_authority("Root CA không tin cậy"),
        },
    )
    with made.environment():
        for label, (subject, issuer) in _TOKENS.items():
            demo.init_token(label)
            made.certificates[label] = demo.provision_token(label, made.authorities[issuer], subject)
    demo.signature_image(made.image("signature"))
    demo.seal_image(made.image("seal"))
    return made


def approve_with(tokens: Tokens, label: str, pdf: bytes) -> bytes:
    with tokens.signer(label) as signer:
        return signing.approve(pdf, signer, tokens.image("signature"))


def issue_with(tokens: Tokens, label: str, approved: bytes, number: str, day: dt.date) -> bytes:
    verifier = Verifier([tokens.authorities["root"].cert])
    with tokens.signer(label) as signer:
        return signing.issue(
            approved, signer, tokens.image("seal"), number=number, place=PLACE, issue_date=day, verifier=verifier
        )


def nss_db(tokens: Tokens, tmp_path: Path) -> Path:
    """An NSS database trusting the test root, for pdfsig."""
    directory = tmp_path / "nssdb"
    directory.mkdir()
    root = tmp_path / "root.pem"
    root.write_bytes(tokens.pem("root"))
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{directory}", "-n", "Test Root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
        capture_output=True,
    )
    return directory


@dataclass
class DocumentWorld:
    district: Organisation
    office: Organisation
    drafter: Account
    signer: Account
    other: Account
    clerk: Account
    clerk2: Account
    seal_token: Token
    doc_id: int

    def doc(self, session) -> OutgoingDocument:
        return session.get(OutgoingDocument, self.doc_id)


def _register(session, tokens: Tokens, label: str, kind: TokenKind, org: Organisation, holder=None, serial=None):
    return register_certificate(
        session,
        SYSTEM,
        parse_certificate(tokens.der(label)),
        kind=kind,
        organisation_id=org.id,
        holder_id=holder.person_id if holder else None,
        token_serial=serial,
    )


def new_document(session, district, office, drafter, signer, draft: bytes) -> OutgoingDocument:
    doc = OutgoingDocument(
        status=DocumentStatus.AWAITING_SIGNATURE,
        issuing_body_id=district.id,
        drafting_unit_id=office.id,
        document_type=session.scalar(select(DocumentType).where(DocumentType.abbreviation.is_(None))),
        summary="V/v rà soát thiết bị ký số",
        signer_id=signer.person_id,
        authority_lines="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        created_by_id=drafter.id,
    )
    session.add(doc)
    session.flush()
    files.add_draft(session, drafter, doc, draft, "du-thao.pdf")
    return doc


def make_document_world(session, tokens: Tokens) -> DocumentWorld:
    district = add_org(session, None, "", "UBND huyện Văn Quan", "UBND", OrgKind.DISTRICT_COMMITTEE)
    office = add_org(session, None, "", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, district)
    drafter = add_account(session, "chuyenvien", office, (Role.UNIT_OFFICER, office), full_name="Vi Thị Soạn")
    signer = add_account(session, "chutich", district, (Role.UNIT_HEAD, district), full_name=demo.SIGNER)
    other = add_account(session, "phochutich", district, (Role.UNIT_HEAD, district), full_name=OTHER_PERSON)
    clerk = add_account(session, "vanthu", district, (Role.CLERK, district), full_name="Hoàng Thị Thư")
    clerk2 = add_account(session, "vanthu2", district, (Role.CLERK, district), full_name="Nông Văn Hai")
    anchors.add_anchors(session, SYSTEM, tokens.pem("root", "issuing"))
    crl = tokens.authorities["issuing"].crl([tokens.certificates["THU-HOI"]])
    anchors.add_revocation_list(session, SYSTEM, crl.public_bytes(serialization.Encoding.DER))
    for label in ("LANH-DAO", "THU-HOI", "NGOAI"):
        _register(session, tokens, label, TokenKind.PERSONAL, district, signer)
    _register(session, tokens, "KHAC", TokenKind.PERSONAL, district, other)
    seal_cert = _register(session, tokens, "VAN-THU", TokenKind.ORGANISATION, district, serial="VT-0001")
    seal_token = seal_cert.token
    entries.receive(
        session,
        clerk,
        seal_token,
        {
            "keeper_id": str(clerk.person_id),
            "place": "Trụ sở UBND huyện",
            "condition": "Nguyên vẹn",
            "seal_numbers": "NP-0001",
            "event_date": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
            "event_time": "09:00",
        },
    )
    doc = new_document(session, district, office, drafter, signer, demo.make_draft(pages=1))
    session.commit()
    return DocumentWorld(district, office, drafter, signer, other, clerk, clerk2, seal_token, doc.id)


@pytest.fixture(scope="session")
def tokens(tmp_path_factory) -> Tokens:
    """Made once per worker; tests using them are marked ``pkcs11`` and grouped ``softhsm``."""
    return make_tokens(tmp_path_factory.mktemp("document-tokens"))


@pytest.fixture
def dw(session, tokens) -> DocumentWorld:
    """UBND huyện Văn Quan and its Phòng VHTT, their people, the registry and custody register, the anchors
    (the test root and issuing CA, with a CRL revoking THU-HOI), and a document awaiting the signature."""
    return make_document_world(session, tokens)
