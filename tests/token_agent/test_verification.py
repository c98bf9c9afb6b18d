"""Verification verdicts (ETSI EN 319 102-1 words) on documents signed with SoftHSM tokens."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from token_agent import demo, signing
from token_agent.certs import load_certificates, load_crls
from token_agent.errors import DocumentError
from token_agent.verification import Modification, Verdict, Verifier

from .conftest import signer_on, tampered


@pytest.fixture(scope="module")
def prepared(issuing_round) -> bytes:
    return issuing_round.prepared.read_bytes()


def approved_by(label: str, prepared: bytes, images) -> bytes:
    with signer_on(label) as signer:
        return signing.approve(prepared, signer, images["signature"])


def test_issued_document_passes_with_form_filling_after_the_personal_signature(issuing_round, verifier):
    report = verifier.verify(issuing_round.issued.read_bytes())
    personal, organisation = report.signatures
    assert report.verdict is Verdict.TOTAL_PASSED
    assert personal.modification is Modification.FORM_FILLING and personal.coverage == "ENTIRE_REVISION"
    assert organisation.modification is Modification.NONE and organisation.coverage == "ENTIRE_FILE"
    assert organisation.signer.uid == "MST:4900123456" and organisation.signer.organisation == "UBND huyện Văn Quan"
    assert personal.signing_time is not None and personal.sub_indication is None


def test_a_changed_byte_is_a_hash_failure(issuing_round, verifier):
    report = verifier.verify(tampered(issuing_round.approved.read_bytes()))
    (personal,) = report.signatures
    assert (personal.verdict, personal.sub_indication) == (Verdict.TOTAL_FAILED, "HASH_FAILURE")
    assert not personal.intact


def test_revoked_certificate_with_its_crl(world, prepared, images):
    signed = approved_by("THU-HOI", prepared, images)
    with_crl = Verifier(load_certificates([world.path("root.pem")]), load_crls([world.path("crl.pem")]))
    (signature,) = with_crl.verify(signed).signatures
    assert (signature.verdict, signature.sub_indication) == (Verdict.TOTAL_FAILED, "REVOKED")
    assert signature.revoked


def test_ec_key_signature_passes(prepared, images, verifier):
    (signature,) = verifier.verify(approved_by("KHOA-EC", prepared, images)).signatures
    assert signature.verdict is Verdict.TOTAL_PASSED and signature.signer.common_name == "Hà Thị Hạnh"


def test_untrusted_root_has_no_chain(world, issuing_round):
    other = Verifier(load_certificates([world.path("other-root.pem")]))
    report = other.verify(issuing_round.approved.read_bytes())
    (personal,) = report.signatures
    assert (personal.verdict, personal.sub_indication) == (Verdict.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert personal.intact and personal.valid and not personal.chain_trusted


def test_expired_certificate(world, prepared, images, verifier):
    (signature,) = verifier.verify(approved_by("HET-HAN", prepared, images)).signatures
    assert signature.verdict is Verdict.INDETERMINATE
    assert signature.sub_indication in {"OUT_OF_BOUNDS_NO_POE", "EXPIRED"}


def test_other_changes_after_signing_fail(issuing_round, verifier):
    writer = IncrementalPdfFileWriter(io.BytesIO(issuing_round.approved.read_bytes()))
    page = writer.find_page_for_modification(0)[0].get_object()
    page["/Rotate"] = writer.root["/Pages"]["/Count"]  # any change to a page is more than form filling
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    (personal,) = verifier.verify(out.getvalue()).signatures
    assert personal.modification is Modification.OTHER
    assert (personal.verdict, personal.sub_indication) == (Verdict.TOTAL_FAILED, "FORMAT_FAILURE")


def test_unsigned_and_unreadable_files(verifier):
    assert verifier.verify(demo.make_draft()).verdict is Verdict.INDETERMINATE
    with pytest.raises(DocumentError):
        verifier.verify(b"not a pdf")
