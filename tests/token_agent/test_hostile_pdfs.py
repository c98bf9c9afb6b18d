"""Files from outside are hostile (issue 12): verify and prepare judge or refuse them, never end in a traceback.

The PDFs in ``data/`` come from pyHanko's tests (see data/README.md); encrypted drafts are made here with qpdf.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields

from token_agent import demo, signing
from token_agent.errors import DocumentError
from token_agent.verification import SignatureKind, Verdict, Verifier

from .conftest import pdfsig, qpdf_ok, run, signer_on, today

DATA = Path(__file__).parent / "data"
LTA = DATA / "pades-lta-dss-indirect-arrs-test.pdf"
CMS_ERROR = DATA / "pdf-sig-with-econtent.pdf"
PUBKEY_ENCRYPTED = DATA / "minimal-with-field-pubkey-aes256.pdf"
DIRECT_PAGE = DATA / "page-tree-direct-kid.pdf"
PLACES = ["--signature-box", "1,300,100,450,160", "--number-box", "1,50,700,200,715", "--date-box", "1,300,700,500,715"]


def encrypted_draft(folder: Path, *, user_password: str, qpdf_options: tuple[str, ...] = ("256",)) -> Path:
    """The demo draft encrypted by qpdf with the owner password "chu" and the given user password, editing
    restricted, as word processors export a draft "protected against changes"."""
    plain, encrypted = folder / "plain.pdf", folder / "encrypted.pdf"
    plain.write_bytes(demo.make_draft(pages=2))
    encryption = ["--encrypt", user_password, "chu", *qpdf_options, "--modify=none", "--"]
    subprocess.run(["qpdf", "--allow-weak-crypto", *encryption, str(plain), str(encrypted)], check=True)
    return encrypted


def test_document_timestamp_is_judged_and_reported_as_a_timestamp():
    signature, timestamp = Verifier([]).verify(LTA.read_bytes()).signatures
    assert signature.kind is SignatureKind.SIGNATURE and timestamp.kind is SignatureKind.TIMESTAMP
    assert timestamp.intact and timestamp.valid and timestamp.signing_time is not None
    assert timestamp.signer is not None and timestamp.signer.common_name == "Time Stamping Authority"
    # pyHanko's test root is not trusted here
    assert (timestamp.verdict, timestamp.sub_indication) == (Verdict.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert signature.intact and signature.valid and signature.signer is not None


def test_cms_structural_error_is_a_failed_signature():
    (signature,) = Verifier([]).verify(CMS_ERROR.read_bytes()).signatures
    assert (signature.verdict, signature.sub_indication) == (Verdict.TOTAL_FAILED, "FORMAT_FAILURE")
    assert signature.signer is not None and signature.signer.common_name == "Alice"
    assert signature.certificate_sha256 is not None and len(signature.certificate_sha256) == 64


def test_malformed_signature_leaves_the_others_reported(issuing_round, verifier):
    """A third signature field whose signature is a few bytes that are no CMS at all."""
    writer = IncrementalPdfFileWriter(io.BytesIO(issuing_round.issued.read_bytes()))
    fields.append_signature_field(writer, fields.SigFieldSpec("GiaMao", on_page=0, box=(10, 10, 50, 50)))
    field = next(f for _n, _v, f in fields.enumerate_sig_fields(writer) if f.get_object()["/T"] == "GiaMao")
    bogus = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Sig"),
            pdf_name("/ByteRange"): generic.ArrayObject(generic.NumberObject(n) for n in (0, 10, 20, 10)),
            pdf_name("/Contents"): generic.ByteStringObject(b"\x30\x03\x02\x01\x05"),
        }
    )
    field.get_object()[pdf_name("/V")] = writer.add_object(bogus)
    writer.update_container(field.get_object())
    out = io.BytesIO()
    writer.write(out)
    personal, organisation, bogus_report = verifier.verify(out.getvalue()).signatures
    assert personal.field_name == signing.PERSONAL_FIELD and organisation.field_name == signing.ORGANISATION_FIELD
    assert bogus_report.field_name == "GiaMao" and bogus_report.signer is None
    assert (bogus_report.verdict, bogus_report.sub_indication) == (Verdict.TOTAL_FAILED, "FORMAT_FAILURE")
    assert personal.signer is not None and organisation.signer is not None


def test_certificate_sha256_names_the_signer_certificate(world, issuing_round, capsys):
    personal, organisation = Verifier([world.root.cert]).verify(issuing_round.issued.read_bytes()).signatures
    for report, label in ((personal, "LANH-DAO"), (organisation, "VAN-THU")):
        der = world.certificates[label].public_bytes(serialization.Encoding.DER)
        assert report.certificate_sha256 == hashlib.sha256(der).hexdigest()
    code, out, _err = run(capsys, "verify", issuing_round.issued, "--trust", world.path("root.pem"), "--json")
    document = json.loads(out)
    assert code == 0 and document["schema"] == "token-agent.verify/1"
    assert [s["kind"] for s in document["signatures"]] == ["signature", "signature"]
    assert document["signatures"][0]["certificate_sha256"] == personal.certificate_sha256


def test_file_encrypted_for_a_public_key_is_refused():
    with pytest.raises(DocumentError) as refused:
        Verifier([]).verify(PUBKEY_ENCRYPTED.read_bytes())
    assert refused.value.code == "pdf_encrypted"


def test_file_with_a_password_to_open_is_refused(tmp_path):
    data = encrypted_draft(tmp_path, user_password="mo-tep").read_bytes()
    for attempt in (lambda: Verifier([]).verify(data), lambda: signing.prepare(data, signer_name=demo.SIGNER)):
        with pytest.raises(DocumentError) as refused:
            attempt()
        assert refused.value.code == "pdf_encrypted" and "mật khẩu" in refused.value.message


@pytest.mark.parametrize(
    "qpdf_options", [("256",), ("128", "--use-aes=n")], ids=["aes-256", "rc4-128"]
)  # newer and older word processors
def test_draft_with_only_an_owner_password_is_prepared_approved_and_issued(
    qpdf_options, world, images, verifier, nss_db, tmp_path
):
    draft = encrypted_draft(tmp_path, user_password="", qpdf_options=qpdf_options)
    prepared = signing.prepare(draft.read_bytes(), signer_name=demo.SIGNER).pdf
    with signer_on("LANH-DAO") as signer:
        approved = signing.approve(prepared, signer, images["signature"])
    with signer_on("VAN-THU") as signer:
        issued = signing.issue(
            approved,
            signer,
            images["seal"],
            number="2/UBND-VHTT",
            place="Văn Quan",
            issue_date=today(),
            verifier=verifier,
        )
    report = verifier.verify(issued)
    assert [s.verdict for s in report.signatures] == [Verdict.TOTAL_PASSED, Verdict.TOTAL_PASSED]
    assert PdfFileReader(io.BytesIO(issued)).encrypted  # an incremental update cannot remove the encryption
    path = tmp_path / "issued.pdf"
    path.write_bytes(issued)
    assert qpdf_ok(path)
    assert [(s.valid, s.trusted) for s in pdfsig(path, nss_db)] == [(True, True), (True, True)]


@pytest.mark.parametrize("path", sorted(DATA.glob("*.pdf")), ids=lambda p: p.stem)
def test_verify_on_the_command_line_answers_every_file(path, capsys):
    code, out, err = run(capsys, "verify", path, "--json")
    if code == 2 and not out:
        assert err.startswith("Lỗi [pdf_") and "Traceback" not in err
    else:
        assert json.loads(out)["verdict"] in {"INDETERMINATE", "TOTAL_FAILED"} and err == ""


@pytest.mark.parametrize(
    ("path", "code"),
    [(PUBKEY_ENCRYPTED, "pdf_encrypted"), (DIRECT_PAGE, "pdf_unreadable")],
    ids=["public-key-encrypted", "direct-page-object"],
)
def test_prepare_on_the_command_line_refuses_what_it_cannot_open(path, code, tmp_path, capsys):
    exit_code, _out, err = run(capsys, "prepare", path, tmp_path / "out.pdf", *PLACES)
    assert exit_code == 2 and err.startswith(f"Lỗi [{code}]:") and not (tmp_path / "out.pdf").exists()


def test_verify_text_names_the_document_timestamp_and_the_unknown_signer(tmp_path, capsys):
    _code, out, _err = run(capsys, "verify", LTA)
    assert "(dấu thời gian của văn bản): INDETERMINATE" in out and "Đơn vị cấp dấu thời gian: Time Stamping" in out
    # the signature's /Contents overwritten (same length) with a few bytes that are no CMS at all
    data = CMS_ERROR.read_bytes()
    start = data.index(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    no_cms = tmp_path / "no-cms.pdf"
    no_cms.write_bytes(data[:start] + b"3003020105".ljust(end - start, b"0") + data[end:])
    code, out, err = run(capsys, "verify", no_cms)
    assert code == 2 and "Người ký: không xác định" in out and "TOTAL_FAILED / FORMAT_FAILURE" in out and err == ""
