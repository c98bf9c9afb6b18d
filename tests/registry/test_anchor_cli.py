"""``certsvc registry anchors add|list|remove`` and ``certsvc registry crl add``: the same rules as the page,
acting as the command line (audited as ``cli:<user>``); a refused file changes nothing and exits 1."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from certsvc.audit.models import AuditEntry
from certsvc.registry.cli import registry
from certsvc.registry.models import RevocationList, TrustAnchor
from token_agent import demo


@pytest.fixture(scope="module")
def pki():
    root = demo.root_authority("Root CA dòng lệnh")
    return root, demo.sub_authority(root, "Issuing CA dòng lệnh")


def test_anchors_and_crls_from_the_command_line(app, session, tmp_path, pki):
    root, issuing = pki
    root_file, issuing_file = tmp_path / "root.pem", tmp_path / "issuing.der"
    demo.write_pem(root_file, root.cert)
    issuing_file.write_bytes(issuing.cert.public_bytes(serialization.Encoding.DER))
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(issuing.crl([]).public_bytes(serialization.Encoding.DER))
    run = app.test_cli_runner().invoke

    added = run(registry, ["anchors", "add", str(root_file), str(issuing_file)])
    assert added.exit_code == 0, added.output
    assert "Root CA dòng lệnh" in added.output and "Issuing CA dòng lệnh" in added.output
    first, second = session.scalars(select(TrustAnchor).order_by(TrustAnchor.id)).all()
    loaded = run(registry, ["crl", "add", str(crl_file)])
    assert loaded.exit_code == 0 and "Issuing CA dòng lệnh" in loaded.output
    assert session.scalar(select(RevocationList.issuer_dn)) == second.subject_dn

    removed = run(registry, ["anchors", "remove", str(second.id)])
    assert removed.exit_code == 0 and f"#{second.id}" in removed.output
    listed = run(registry, ["anchors", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith(f"#{first.id}\tđang dùng") and first.sha256 in lines[0]
    assert lines[1].startswith(f"#{second.id}\tđã gỡ")
    actors = set(session.scalars(select(AuditEntry.actor_label).where(AuditEntry.object_type == "trust_anchor")))
    assert len(actors) == 1 and actors.pop().startswith("cli:")


def test_refusals_exit_1_and_change_nothing(app, session, tmp_path, pki):
    root, _ = pki
    good, junk = tmp_path / "root.pem", tmp_path / "junk.pem"
    demo.write_pem(good, root.cert)
    junk.write_bytes(b"not a certificate")
    run = app.test_cli_runner().invoke

    refused = run(registry, ["anchors", "add", str(good), str(junk)])
    assert refused.exit_code == 1 and "không phải chứng thư" in refused.output
    assert session.scalar(select(TrustAnchor)) is None  # all or none
    assert run(registry, ["anchors", "remove", "12345"]).exit_code == 1
    stranger = tmp_path / "stranger.crl"
    stranger.write_bytes(demo.root_authority("CA lạ").crl([]).public_bytes(serialization.Encoding.PEM))
    crl = run(registry, ["crl", "add", str(stranger)])
    assert crl.exit_code == 1 and "chứng thư gốc tin cậy" in crl.output
    assert run(registry, ["anchors", "add", str(tmp_path / "missing.pem")]).exit_code == 2
