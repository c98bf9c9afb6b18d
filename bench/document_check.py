"""Benchmark: the server's check of a clerk's upload of an issued 20-page PDF (two signatures), as a request
handles it: :func:`certsvc.documents.signing.issue_upload` inside a request context on a migrated SQLite
database (registry and custody look-ups, verification with the warm verifier, the ISSUED version stored,
the transition and its audit entry, flushed), beside plain pyHanko's ``validate_pdf_signature`` of the same
file in the same run (target: at most 1.2× the baseline). Each timed call is rolled back so that the next one
finds the document numbered again. Run: .venv/bin/python bench/document_check.py
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from _token_agent_timing import compare
from flask_migrate import upgrade
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from certsvc import create_app
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.audit.service import SYSTEM
from certsvc.documents import files, register
from certsvc.documents.models import DocumentStatus, DocumentType, FileKind, OutgoingDocument
from certsvc.documents.signing import approve_upload, issue_upload
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.registry import anchors
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import TokenKind
from certsvc.registry.registration import register_certificate
from token_agent import demo, pkcs11_access, signing
from token_agent.certs import load_certificates, to_asn1
from token_agent.pkcs11_access import TokenSelector
from token_agent.verification import SIGNING_KEY_USAGE, Verifier

ROUNDS = 20


def _signer(module, label: str):
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    return token.open(user_pin=demo.USER_PIN)


def _account(name: str, org: Organisation, role: Role, full_name: str) -> Account:
    account = Account(
        person=Person(full_name=full_name, organisation=org, position="Chuyên viên"),
        username=name,
        password_hash="!",
    )
    account.roles.append(RoleAssignment(role=role, organisation=org))
    db.session.add(account)
    return account


def _numbered_document(demo_files: demo.DemoFiles) -> tuple[int, int, bytes]:
    """A 20-page document approved and numbered in the database; (its id, the clerk's id, the issued file)."""
    session = db.session
    district = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE)
    office = Organisation(name="Phòng Văn hóa và Thông tin", symbol="VHTT", kind=OrgKind.OFFICE, parent=district)
    session.add_all([district, office])
    drafter = _account("chuyenvien", office, Role.UNIT_OFFICER, "Vi Thị Soạn")
    signer = _account("chutich", district, Role.UNIT_HEAD, demo.SIGNER)
    clerk = _account("vanthu", district, Role.CLERK, "Hoàng Thị Thư")
    session.flush()
    anchors.add_anchors(session, SYSTEM, demo_files.root.read_bytes())
    module = pkcs11_access.load_module()
    certificates = {}
    for label in demo_files.labels:
        with _signer(module, label) as token_session:
            certificates[label] = signing.token_signer(token_session).signing_cert.dump()
    register_certificate(
        session,
        SYSTEM,
        parse_certificate(certificates["LANH-DAO"]),
        kind=TokenKind.PERSONAL,
        organisation_id=district.id,
        holder_id=signer.person_id,
    )
    register_certificate(
        session,
        SYSTEM,
        parse_certificate(certificates["VAN-THU"]),
        kind=TokenKind.ORGANISATION,
        organisation_id=district.id,
    )
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
    files.add_draft(session, drafter, doc, demo.make_draft(pages=20), "du-thao.pdf")
    with _signer(module, "LANH-DAO") as token_session:
        prepared = files.content(files.latest(doc, FileKind.PREPARED))
        approved = signing.approve(prepared, signing.token_signer(token_session), demo_files.signature_image)
    approve_upload(session, signer, doc, approved, "da-ky.pdf")
    entry = register.take_number(session, clerk, doc)
    session.commit()
    with _signer(module, "VAN-THU") as token_session:
        issued = signing.issue(
            approved,
            signing.token_signer(token_session),
            demo_files.seal_image,
            number=entry.symbol,
            place="Văn Quan",
            issue_date=entry.issue_date,
            verifier=Verifier(load_certificates([demo_files.root])),
        )
    return doc.id, clerk.id, issued


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        demo_files = demo.build_demo(Path(folder))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                "SECRET_KEY": "bench-only",
                "INSTANCE_PATH": str(Path(folder) / "instance"),
            }
        )
        with app.app_context():
            upgrade()
            doc_id, clerk_id, issued = _numbered_document(demo_files)
            roots = [to_asn1(c) for c in load_certificates([demo_files.root])]

            def server() -> None:
                with app.test_request_context(f"/documents/{doc_id}/issue", method="POST"):
                    session = db.session
                    doc = session.get(OutgoingDocument, doc_id)
                    clerk = session.get(Account, clerk_id)
                    assert doc is not None and clerk is not None
                    issue_upload(session, clerk, doc, issued, "ban-hanh.pdf")
                    session.flush()
                    session.rollback()

            def plain() -> None:
                for embedded in PdfFileReader(io.BytesIO(issued), strict=False).embedded_signatures:
                    context = ValidationContext(trust_roots=roots, allow_fetching=False)
                    assert validate_pdf_signature(embedded, context, key_usage_settings=SIGNING_KEY_USAGE).trusted

            compare(
                "issue upload check, 20 pages, 2 signatures, with database and audit",
                {"certsvc": server, "plain pyHanko": plain},
                ROUNDS,
                "≤ 1.2×",
            )
            db.engine.dispose()


if __name__ == "__main__":
    main()
