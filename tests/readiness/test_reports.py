"""Storing token check reports: matched against the registries, the test signature verified, bad input refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.readiness.models import CheckReport, CheckStatus, ReportSource
from certsvc.readiness.reports import MAX_REPORT_BYTES, store_report
from certsvc.registry.models import TokenKind
from tests.conftest import add_account

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def stored_reports(session) -> int:
    return session.scalar(select(func.count()).select_from(CheckReport))


def test_a_healthy_token_report_is_matched_and_its_test_signature_verified(session, readiness):
    certificate = readiness.head_certificate(session)
    head = readiness.world.account(Role.UNIT_HEAD)
    raw = readiness.checks.report("LANH-DAO")
    report = store_report(session, head, raw, source=ReportSource.UPLOAD, place="Máy tính phòng họp")
    session.commit()
    (token,) = report.tokens
    assert report.raw.encode() == raw and report.status is CheckStatus.PASS and report.test_signature_verified
    assert report.organisation_id == readiness.commune.id and report.place == "Máy tính phòng họp"
    assert token.token_id == certificate.token_id and token.certificate_id == certificate.id
    assert token.test_signature_ok and not token.flagged_unknown and token.failing_checks == []
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "readiness.report_stored")).one()
    assert entry.object_id == str(report.id)


def test_a_report_cannot_be_changed_once_stored(session, readiness):
    readiness.head_certificate(session)
    report = store_report(
        session,
        readiness.world.account(Role.UNIT_HEAD),
        readiness.checks.report("LANH-DAO"),
        source=ReportSource.UPLOAD,
    )
    session.commit()
    for statement in ("UPDATE check_report SET status = 'FAIL'", "DELETE FROM checked_token"):
        with pytest.raises(DatabaseError):
            session.execute(text(statement))
        session.rollback()
    assert session.get(CheckReport, report.id).status is CheckStatus.PASS


def _tampered(raw: bytes, change) -> bytes:
    document = json.loads(raw)
    for token in document["tokens"]:
        for result in token["results"]:
            if result["id"] == "cert.test_signature":
                change(result)
    return json.dumps(document).encode()


def _flip_signature(result) -> None:
    signature = bytearray.fromhex(result["evidence"]["signature"])
    signature[-1] ^= 1
    result["evidence"]["signature"] = signature.hex()


def test_a_forged_test_signature_is_refused_and_nothing_is_stored(session, readiness):
    readiness.head_certificate(session)
    head = readiness.world.account(Role.UNIT_HEAD)
    genuine = readiness.checks.report("LANH-DAO")
    other = json.loads(readiness.checks.report("KHAC"))
    (other_signature,) = [r for r in other["tokens"][0]["results"] if r["id"] == "cert.test_signature"]

    def borrowed(result) -> None:  # a signature made by another token's key
        result["evidence"] = other_signature["evidence"]

    def reworded(result) -> None:  # the signed data altered
        data = bytes.fromhex(result["evidence"]["signed_data"])
        result["evidence"]["signed_data"] = data.replace(b"token-agent", b"token-agenT").hex()

    for forged in (_tampered(genuine, _flip_signature), _tampered(genuine, borrowed), _tampered(genuine, reworded)):
        with pytest.raises(ValidationFailed) as refused:
            store_report(session, head, forged, source=ReportSource.UPLOAD)
        assert "không khớp chứng thư số" in refused.value.field_errors["file"]
        session.rollback()
    assert stored_reports(session) == 0
    assert store_report(session, head, genuine, source=ReportSource.UPLOAD).test_signature_verified


def test_an_unregistered_token_is_kept_and_flagged_without_believing_its_signature(session, readiness):
    report = store_report(
        session, readiness.world.account(Role.UNIT_OFFICER), readiness.checks.report("KHAC"), source=ReportSource.AGENT
    )
    (token,) = report.tokens
    assert token.flagged_unknown and token.token_id is None and token.certificate_id is None
    assert token.certificate_sha256 and not token.test_signature_ok and not report.test_signature_verified
    assert report.organisation_id == readiness.commune.id


def test_a_token_of_another_unit_is_refused(session, readiness):
    readiness.head_certificate(session)
    other_commune = readiness.world.orgs["other_commune"]
    outsider = add_account(session, "canboyenphuc", other_commune, (Role.UNIT_OFFICER, other_commune))
    with pytest.raises(PermissionDenied):
        store_report(session, outsider, readiness.checks.report("LANH-DAO"), source=ReportSource.UPLOAD)
    session.rollback()
    assert stored_reports(session) == 0
    focal = readiness.world.account(Role.FOCAL_OFFICER)  # the focal office files for every unit it serves
    assert store_report(session, focal, readiness.checks.report("LANH-DAO"), source=ReportSource.VISIT).id


def test_the_same_report_twice_is_refused(session, readiness):
    head = readiness.world.account(Role.UNIT_HEAD)
    raw = readiness.checks.report("KHAC")
    store_report(session, head, raw, source=ReportSource.UPLOAD)
    with pytest.raises(ValidationFailed, match=""):
        store_report(session, head, raw, source=ReportSource.UPLOAD)


def _with(raw: bytes, **changes) -> bytes:
    return json.dumps(json.loads(raw) | changes).encode()


def test_anything_but_a_report_is_refused_with_a_message_and_nothing_stored(session, readiness):
    readiness.register(session, "KHAC", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_OFFICER))
    head = readiness.world.account(Role.UNIT_HEAD)
    raw = readiness.checks.report("KHAC")
    document = json.loads(raw)
    bad = {
        "empty": b"",
        "not JSON": b"%PDF-1.7 not a report",
        "not UTF-8": b'{"schema": "\xff"}',
        "a list": b"[]",
        "too big": b" " * (MAX_REPORT_BYTES + 1),
        "another schema": _with(raw, schema="token-agent.sign/1"),
        "no tokens": _with(raw, tokens=[]),
        "too many tokens": _with(raw, tokens=document["tokens"] * 33),
        "a token that is not an object": _with(raw, tokens=["KHAC"]),
        "a date in the far future": _with(raw, checked_at="2999-01-01T00:00:00+00:00"),
        "a date without time zone": _with(raw, checked_at="2026-01-01T00:00:00"),
        "a control character": _with(raw, tokens=[document["tokens"][0] | {"serial": "AB\u0000CD"}]),
        "an unknown status": _tampered(raw, lambda r: r.update(status="MAYBE")),
        "bad hex in the evidence": _tampered(raw, lambda r: r["evidence"].update(signature="zz")),
        "a bad thumbprint": _tampered(raw, lambda r: r.update(certificate_sha256="abc")),
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    }
    for name, raw_bad in bad.items():
        with pytest.raises(ValidationFailed) as refused:
            store_report(session, head, raw_bad, source=ReportSource.UPLOAD)
        assert refused.value.field_errors["file"], name
        session.rollback()
    assert stored_reports(session) == 0
