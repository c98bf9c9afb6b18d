"""Trust anchors and CRLs: only an administrator of the whole tree changes them; files are bounded and parsed,
non-CA certificates and CRLs no anchor signed are refused; every change is audited; the verifier follows."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.documents import verification
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.registry import anchors
from certsvc.registry.models import RevocationList, TrustAnchor
from tests.conftest import add_account
from tests.support.registry import TESTER, make_cert
from token_agent import demo


def _pem(*objects) -> bytes:
    return b"".join(obj.public_bytes(serialization.Encoding.PEM) for obj in objects)


@pytest.fixture(scope="module")
def pki():
    root = demo.root_authority("Root CA thử nghiệm")
    return root, demo.sub_authority(root, "Issuing CA thử nghiệm"), demo.root_authority("Root CA lạ")


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_administrator_of_the_root_adds_and_removes_anchors(session, world, pki):
    root, issuing, _ = pki
    province = world.orgs["province"]
    admin = add_account(session, "quantritinh", province, (Role.ADMINISTRATOR, province))
    added = anchors.add_anchors(session, admin, _pem(root.cert, issuing.cert))
    session.commit()
    assert [a.subject_dn for a in added] == [a.subject_dn for a in anchors.active_anchors(session)]
    assert _actions(session)[-2:] == ["trust_anchor.added", "trust_anchor.added"]
    first = verification.current_verifier(session)
    assert verification.current_verifier(session) is first  # warm: the same rows give the same verifier
    anchors.remove_anchor(session, admin, added[1].id)
    session.commit()
    assert [a.id for a in anchors.active_anchors(session)] == [added[0].id]
    assert session.get(TrustAnchor, added[1].id).removed_at is not None
    assert verification.current_verifier(session) is not first  # rebuilt once the anchors changed
    again = anchors.add_anchors(session, admin, issuing.cert.public_bytes(serialization.Encoding.DER))
    assert again[0].id == added[1].id and again[0].removed_at is None
    assert _actions(session)[-2:] == ["trust_anchor.removed", "trust_anchor.added"]


def test_others_may_not_change_anchors(session, world, pki):
    root, _, _ = pki
    for account in (world.account(Role.ADMINISTRATOR), world.account(Role.FOCAL_OFFICER)):  # district, not root
        with pytest.raises(PermissionDenied):
            anchors.add_anchors(session, account, _pem(root.cert))
    assert session.scalar(select(TrustAnchor)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "rỗng"),
        (b"x" * (anchors.MAX_ANCHOR_BYTES + 1), "quá lớn"),
        (b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "không phải chứng thư"),
        (b"\x30\x03\x02\x01\x01", "không phải chứng thư"),
    ],
)
def test_bad_anchor_files_are_refused(session, world, data, message):
    with pytest.raises(ValidationFailed) as refused:
        anchors.add_anchors(session, TESTER, data)
    assert message in refused.value.field_errors["file"]


def test_subscriber_certificates_and_duplicates_are_refused(session, world, pki):
    root, _, _ = pki
    with pytest.raises(ValidationFailed, match="CA"):
        anchors.add_anchors(session, TESTER, _pem(root.cert, make_cert()))
    assert session.scalar(select(TrustAnchor)) is None  # nothing of a refused file is kept
    anchors.add_anchors(session, TESTER, _pem(root.cert))
    with pytest.raises(ValidationFailed) as refused:
        anchors.add_anchors(session, TESTER, _pem(root.cert))
    assert "đã là" in refused.value.message


def test_revocation_lists_must_come_from_an_anchor(session, world, pki):
    root, issuing, stranger = pki
    anchors.add_anchors(session, TESTER, _pem(root.cert, issuing.cert))
    with pytest.raises(ValidationFailed, match="không do"):
        anchors.add_revocation_list(session, TESTER, _pem(stranger.crl([])))
    with pytest.raises(ValidationFailed, match="không phải danh sách"):
        anchors.add_revocation_list(session, TESTER, b"junk")
    before = verification.current_verifier(session)
    crl = anchors.add_revocation_list(session, TESTER, issuing.crl([]).public_bytes(serialization.Encoding.DER))
    session.commit()
    assert crl.issuer_dn == anchors.active_anchors(session)[1].subject_dn
    assert session.scalars(select(RevocationList)).all() == [crl]
    assert verification.current_verifier(session) is not before
    assert _actions(session)[-1] == "revocation_list.added"
    with pytest.raises(ValidationFailed, match="đã được nạp"):
        anchors.add_revocation_list(session, TESTER, crl.der)
