"""The demo's documents (issue 12): every state of the cycle, made through the services with the demo's
SoftHSM tokens, one issued end to end whose two signatures the server's verifier accepts; loading is once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Account
from certsvc.demo import load_demo_data
from certsvc.documents import files, register, verification
from certsvc.documents.demo import SEAL_TOKEN, SEAL_TOKEN_SERIAL, SIGNER_TOKEN, TOKENS_FOLDER
from certsvc.documents.models import (
    DocumentEvent,
    DocumentStatus,
    FileKind,
    IncomingDocument,
    IncomingStatus,
    NumberEntry,
    NumberState,
    OutgoingDocument,
    Secrecy,
    Series,
)
from certsvc.documents.signing import approve_upload, issue_upload
from certsvc.registry.models import Certificate, TokenKind
from certsvc.registry.service import RegistrySettings
from token_agent import cli
from token_agent import signing as agent
from token_agent.demo import USER_PIN
from token_agent.verification import Verdict

pytestmark = pytest.mark.demo


def _by_status(session) -> dict[DocumentStatus, OutgoingDocument]:
    return {doc.status: doc for doc in session.scalars(select(OutgoingDocument))}


def test_every_state_of_the_cycle(session):
    documents = _by_status(session)
    assert set(documents) == set(DocumentStatus)
    returned = documents[DocumentStatus.RETURNED]
    assert returned.events[-1].comment, "returned with the reviewer's comment"
    assert documents[DocumentStatus.PAPER].secrecy is Secrecy.SECRET
    assert not documents[DocumentStatus.PAPER].files
    entries = session.scalars(select(NumberEntry)).all()
    assert {(e.series, e.state) for e in entries} >= {
        (Series.OUTGOING, NumberState.ABANDONED),
        (Series.OUTGOING, NumberState.TAKEN),
        (Series.OUTGOING, NumberState.USED),
        (Series.OUTGOING_SECRET, NumberState.USED),
    }
    (abandoned,) = [e for e in entries if e.state is NumberState.ABANDONED]
    assert abandoned.abandon_reason and documents[DocumentStatus.SIGNED].number_entry is None


def test_sent_document_is_registered_and_directed_in_the_commune(session):
    sent = _by_status(session)[DocumentStatus.SENT]
    (received,) = session.scalars(
        select(IncomingDocument).where(
            IncomingDocument.outgoing_id == sent.id, IncomingDocument.status == IncomingStatus.REGISTERED
        )
    )
    assert received.receiving_body.name == "UBND xã Tân Đoàn"
    assert received.arrival_number == 1 and received.handler is not None and received.direction


def test_outside_documents_checked_registered_or_returned(session):
    outside = session.scalars(select(IncomingDocument).where(IncomingDocument.outgoing_id.is_(None))).all()
    by_status = {row.status: row for row in outside}
    assert set(by_status) == {IncomingStatus.REGISTERED, IncomingStatus.RETURNED}
    assert by_status[IncomingStatus.REGISTERED].verification["verdict"] == Verdict.TOTAL_PASSED.value
    assert by_status[IncomingStatus.REGISTERED].direction
    assert by_status[IncomingStatus.RETURNED].verification["verdict"] == Verdict.TOTAL_FAILED.value
    assert by_status[IncomingStatus.RETURNED].return_reason


def test_issued_document_carries_both_signatures(session, demo_template):
    issued = _by_status(session)[DocumentStatus.ISSUED]
    issued_file = files.latest(issued, FileKind.ISSUED)
    assert issued_file is not None
    report = verification.verify(session, files.content(issued_file))
    assert report.verdict is Verdict.TOTAL_PASSED
    assert [(s.field_name, s.verdict) for s in report.signatures] == [
        (agent.PERSONAL_FIELD, Verdict.TOTAL_PASSED),
        (agent.ORGANISATION_FIELD, Verdict.TOTAL_PASSED),
    ]
    personal, seal = issued.personal_certificate, issued.organisation_certificate
    assert personal is not None and seal is not None and seal.token is not None
    assert [s.certificate_sha256 for s in report.signatures] == [personal.sha256, seal.sha256]
    assert personal.holder_id == issued.signer_id and seal.kind is TokenKind.ORGANISATION
    # The seal's certificate is on the token the custody register shows in the clerk's keeping.
    assert seal.token.serial == SEAL_TOKEN_SERIAL
    assert (demo_template.instance / TOKENS_FOLDER / "root.pem").exists()


def test_loading_again_changes_nothing(app, session):
    counted = (OutgoingDocument, IncomingDocument, NumberEntry, DocumentEvent, Certificate)

    def counts() -> list[int]:
        return [session.scalar(select(func.count()).select_from(model)) for model in counted]

    before = counts()
    with app.app_context():
        assert not load_demo_data(RegistrySettings.from_config(app.config))
    assert counts() == before


def test_readme_commands_sign_with_the_demo_tokens(session, demo_template, tmp_path, monkeypatch):
    """README's cycle: the prepared file signed by ``token-agent sign`` with the tokens the demo made, accepted by
    the server as the Phó Chủ tịch's approval, then the clerk's number, date and seal."""
    tokens = demo_template.instance / TOKENS_FOLDER
    monkeypatch.setenv("SOFTHSM2_CONF", str(tokens / "softhsm2.conf"))
    monkeypatch.setenv("TA_PIN", USER_PIN)
    doc = _by_status(session)[DocumentStatus.AWAITING_SIGNATURE]
    prepared = files.latest(doc, FileKind.PREPARED)
    assert prepared is not None
    (tmp_path / "chuan-bi-ky.pdf").write_bytes(files.content(prepared))
    signer, clerk = (
        session.scalars(select(Account).where(Account.username == name)).one() for name in ("phochutich", "vanthu")
    )

    def token_agent(*argv: object) -> None:
        assert cli.main([str(arg) for arg in argv]) == 0

    token_agent(
        *("sign", "--role", "approve", tmp_path / "chuan-bi-ky.pdf", tmp_path / "da-ky-duyet.pdf"),
        *("--token", SIGNER_TOKEN, "--pin-env", "TA_PIN", "--signature-image", tokens / "chu-ky.png"),
    )
    approve_upload(session, signer, doc, (tmp_path / "da-ky-duyet.pdf").read_bytes(), "da-ky-duyet.pdf")
    entry = register.take_number(session, clerk, doc)
    session.commit()
    token_agent(
        *("sign", "--role", "issue", tmp_path / "da-ky-duyet.pdf", tmp_path / "ban-hanh.pdf"),
        *("--token", SEAL_TOKEN, "--pin-env", "TA_PIN", "--seal-image", tokens / "con-dau.png"),
        *("--number", entry.symbol, "--date", entry.issue_date.isoformat(), "--place", "Văn Quan"),
        *("--trust", tokens / "root.pem"),
    )
    issue_upload(session, clerk, doc, (tmp_path / "ban-hanh.pdf").read_bytes(), "ban-hanh.pdf")
    session.commit()
    assert doc.status is DocumentStatus.ISSUED
