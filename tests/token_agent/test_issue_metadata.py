"""The clerk's issuing step completes the Quyết định 28/2018 metadata of a letter made by certsvc: the number and
symbol, the date and the identifier land in the Info dictionary and the XMP packet, in the same incremental
revision as the number and date fields and the seal, and both signatures stay valid (pyHanko, pdfsig, qpdf).
A PDF without such metadata gets none."""

from __future__ import annotations

import datetime as dt
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certsvc.requests.papers.letter import LetterData, build_letter_pdfs
from token_agent import signing
from token_agent.certs import to_asn1
from token_agent.document_metadata import NAMESPACE, Entry
from token_agent.errors import SigningRefusedError
from token_agent.verification import SIGNING_KEY_USAGE, Verdict, open_pdf

from .conftest import pdfsig, qpdf_ok, signer_on, today

AGENCY = "000.00.12.H40"
PLACE = "Văn Quan"
#: The letter's metadata before its number is taken, as certsvc writes it.
BEFORE_NUMBER = {
    "AgencyCode": AGENCY,
    "IssuingBody": "Ủy ban nhân dân huyện Văn Quan",
    "DocumentSymbol": "UBND-VHTT",
    "IssuePlace": PLACE,
    "DocumentType": "Công văn",
    "Summary": "V/v đề nghị cấp chứng thư số chuyên dùng công vụ",
    "SignerAuthority": "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH",
    "SignerPosition": "PHÓ CHỦ TỊCH",
    "SignerName": "Nguyễn Văn An",
}


def _letter(agency_code: str = AGENCY, reference: tuple[str, dt.date] | None = None) -> bytes:
    """A proposal letter prepared for signing by certsvc's letter code, with its document metadata."""
    letter = LetterData(
        issuing_body_parent="",
        issuing_body="ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN",
        symbol="UBND-VHTT",
        place=PLACE,
        summary=BEFORE_NUMBER["Summary"],
        recipients=["Ban Cơ yếu Chính phủ"],
        opening="Căn cứ Nghị định số 68/2024/NĐ-CP ngày 25/6/2024 của Chính phủ.",
        counts=[("Cấp mới chứng thư số", 3)],
        closing="Trân trọng đề nghị./.",
        copies_to=["- Như trên;", "- Lưu: VT, VHTT."],
        signer_authority="TM. ỦY BAN NHÂN DÂN",
        signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        signer_name=BEFORE_NUMBER["SignerName"],
        agency_code=agency_code,
        issuing_body_name=BEFORE_NUMBER["IssuingBody"],
        reference=reference,
    )
    return build_letter_pdfs(letter)[1]


def _approved(prepared: bytes, images: dict[str, Path]) -> bytes:
    with signer_on("LANH-DAO") as signer:
        return signing.approve(prepared, signer, images["signature"])


def _issue(pdf: bytes, images, verifier, number: str = "7/UBND-VHTT", place: str = PLACE) -> bytes:
    with signer_on("VAN-THU") as signer:
        return signing.issue(
            pdf, signer, images["seal"], number=number, place=place, issue_date=today(), verifier=verifier
        )


@pytest.fixture(scope="module")
def approved_letter(world, images) -> bytes:
    return _approved(_letter(), images)


def _reader(pdf: bytes) -> PdfFileReader:
    """A reader on ``pdf``, decrypted when only an owner password protects it."""
    return open_pdf(pdf)


def _info(pdf: bytes) -> dict[str, str]:
    info = _reader(pdf).trailer["/Info"]
    return {str(key)[1:]: str(info[key]) for key in info}  # info[key] decrypts, items() would not


def _packet(pdf: bytes) -> bytes:
    return _reader(pdf).root["/Metadata"].get_object().data


def _xmp(pdf: bytes) -> dict[str, str]:
    """The XMP packet's fields in the metadata's namespace, as an XML parser reads them; each once."""
    prefix = "{" + NAMESPACE + "}"
    found = [
        (name.removeprefix(prefix), value)
        for element in ElementTree.fromstring(_packet(pdf)).iter()
        for name, value in element.attrib.items()
        if name.startswith(prefix)
    ]
    assert len(found) == len(dict(found)), found
    return dict(found)


def _numbered(agency_code: str = AGENCY) -> dict[str, str]:
    """What issuing with number 7 today adds."""
    added = {"DocumentNumber": "07", "NumberAndSymbol": "07/UBND-VHTT", "IssueDate": today().isoformat()}
    return {**added, "DocumentId": f"{agency_code}-{today().year}-000007"} if agency_code else added


def test_the_issued_letter_names_its_number_date_and_identifier(approved_letter, images, verifier, tmp_path):
    assert _xmp(approved_letter) == BEFORE_NUMBER  # what the leader signed: no number yet
    issued = _issue(approved_letter, images, verifier)
    expected = {**BEFORE_NUMBER, **_numbered()}
    assert _xmp(issued) == expected
    info = _info(issued)
    assert {name: info.get(name) for name in Entry} == {name: expected.get(name) for name in Entry}
    assert info["Keywords"] == f"Công văn,{AGENCY},07/UBND-VHTT"
    # One incremental revision over the signed file, made by the seal's signature.
    assert issued.startswith(approved_letter)
    reader = _reader(issued)
    assert reader.xrefs.total_revisions == _reader(approved_letter).xrefs.total_revisions + 1
    assert reader.embedded_signatures[1].signed_revision == reader.xrefs.total_revisions - 1
    # A receiving system's reader (poppler) finds them.
    path = tmp_path / "ban-hanh.pdf"
    path.write_bytes(issued)
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], check=True, capture_output=True, text=True).stdout
    assert f'vbdt:DocumentId="{AGENCY}-{today().year}-000007"' in meta
    assert (
        "Keywords:        Công văn,000.00.12.H40,07/UBND-VHTT"
        in subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    )


def test_both_signatures_stay_valid_with_the_metadata(approved_letter, images, verifier, world, nss_db, tmp_path):
    path = tmp_path / "ban-hanh.pdf"
    path.write_bytes(_issue(approved_letter, images, verifier))
    assert "DocumentId" in _info(path.read_bytes()) and "DocumentId" in _xmp(path.read_bytes())
    context = ValidationContext(trust_roots=[to_asn1(world.root.cert)])
    personal, organisation = PdfFileReader(path.open("rb")).embedded_signatures
    status = validate_pdf_signature(personal, context, key_usage_settings=SIGNING_KEY_USAGE)
    assert status.intact and status.valid and status.trusted
    assert status.modification_level is ModificationLevel.FORM_FILLING  # not a forbidden modification
    assert validate_pdf_signature(organisation, context, key_usage_settings=SIGNING_KEY_USAGE).bottom_line
    checked = pdfsig(path, nss_db)
    assert [c.signer for c in checked] == ["Nguyễn Văn An", "UBND huyện Văn Quan"]
    assert all(c.valid and c.trusted for c in checked), [c.text for c in checked]
    assert qpdf_ok(path)
    # the verifier the clerk's step uses agrees
    assert [s.field_name for s in verifier.verify(path.read_bytes()).signatures if s.passed] == [
        signing.PERSONAL_FIELD,
        signing.ORGANISATION_FIELD,
    ]


def test_a_body_without_an_agency_code_gets_no_identifier(images, verifier):
    issued = _issue(_approved(_letter(agency_code=""), images), images, verifier)
    before = {name: value for name, value in BEFORE_NUMBER.items() if name != "AgencyCode"}
    assert _xmp(issued) == {**before, **_numbered(agency_code="")}
    assert "DocumentId" not in _info(issued) and _info(issued)["NumberAndSymbol"] == "07/UBND-VHTT"


def test_a_pdf_without_the_metadata_gets_none(issuing_round):
    """demo.make_draft's letter has no such metadata: issued, it still has none, and no XMP packet."""
    issued = issuing_round.issued.read_bytes()
    info = _info(issued)
    assert not set(info) & set(Entry)
    assert "/Metadata" not in _reader(issued).root
    # the clerk's revision changes only the modification date (keywords, title… as the leader signed them)
    before = _info(issuing_round.approved.read_bytes())
    assert {k: v for k, v in info.items() if k != "ModDate"} == {k: v for k, v in before.items() if k != "ModDate"}


@pytest.mark.parametrize(
    ("number", "place", "said"),
    [
        ("7/UBND-NV", PLACE, "ký hiệu «UBND-VHTT» \\(khi ban hành: «UBND-NV»\\)"),
        ("7/UBND-VHTT", "Lạng Sơn", "địa danh «Văn Quan» \\(khi ban hành: «Lạng Sơn»\\)"),
    ],
)
def test_a_symbol_or_place_the_metadata_contradicts_is_refused(approved_letter, images, verifier, number, place, said):
    with pytest.raises(SigningRefusedError, match=said) as raised:
        _issue(approved_letter, images, verifier, number=number, place=place)
    assert raised.value.code == "metadata_mismatch"


def test_a_letter_made_with_its_number_is_issued_with_that_number_only(images, verifier):
    approved = _approved(_letter(reference=("07/UBND-VHTT", today())), images)
    with pytest.raises(SigningRefusedError) as raised:
        _issue(approved, images, verifier, number="8/UBND-VHTT")
    assert "số và ký hiệu «07/UBND-VHTT» (khi ban hành: «08/UBND-VHTT»)" in str(raised.value)
    issued = _issue(approved, images, verifier)
    assert _xmp(issued) == {**BEFORE_NUMBER, **_numbered()}  # each once: not written again by the issue


def test_an_encrypted_letter_gets_its_metadata_encrypted_too(images, verifier, nss_db, tmp_path):
    """A letter saved "protected against changes" (owner password only): the added entries are readable with
    the file's key, and both signatures pass."""
    prepared, encrypted = tmp_path / "prepared.pdf", tmp_path / "encrypted.pdf"
    prepared.write_bytes(_letter())
    encryption = ["--encrypt", "", "chu", "256", "--modify=none", "--"]
    subprocess.run(["qpdf", *encryption, str(prepared), str(encrypted)], check=True)
    issued = _issue(_approved(encrypted.read_bytes(), images), images, verifier)
    assert _reader(issued).encrypted
    assert _xmp(issued) == {**BEFORE_NUMBER, **_numbered()}
    assert _info(issued)["DocumentId"] == f"{AGENCY}-{today().year}-000007"
    assert [s.verdict for s in verifier.verify(issued).signatures] == [Verdict.TOTAL_PASSED, Verdict.TOTAL_PASSED]
    path = tmp_path / "issued.pdf"
    path.write_bytes(issued)
    assert qpdf_ok(path)
    assert [(s.valid, s.trusted) for s in pdfsig(path, nss_db)] == [(True, True), (True, True)]
