"""The proposal letter's PDF carries the document metadata of Quyết định 28/2018/QĐ-TTg (issue 15, item 18):
agency code, identifier, number and symbol, date, type, summary, signer, in the Info dictionary and in XMP
under the letter's own namespace; read back with pyHanko and with poppler's pdfinfo, as a receiving system
would. The number, the date and the identifier appear once the register gave the number."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certsvc.documents import files
from certsvc.documents.models import FileKind
from certsvc.requests import batches
from certsvc.requests.letters import DOCUMENTS
from certsvc.requests.models import RequestStatus
from tests.support.requests import LETTER_SIGNER, bring_to, create_letter, draft, focal, issue_letter, open_batch
from tests.support.signing import approve_with, issue_with, nss_db
from tests.token_agent.conftest import today
from token_agent.document_metadata import NAMESPACE

SUMMARY = "V/v đề nghị cấp chứng thư số chuyên dùng công vụ"
#: What the letter's file says before its number is taken.
BEFORE_NUMBER = {
    "AgencyCode": "000.00.12.H40",
    "IssuingBody": "Ủy ban nhân dân huyện Văn Quan",
    "DocumentSymbol": "UBND-VHTT",
    "IssuePlace": "Văn Quan",
    "DocumentType": "Công văn",
    "Summary": SUMMARY,
    "SignerAuthority": "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH",
    "SignerPosition": "PHÓ CHỦ TỊCH",
    "SignerName": LETTER_SIGNER,
}
_NUMBERED = ("DocumentId", "DocumentNumber", "NumberAndSymbol", "IssueDate")


def _locked(session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [request.id])
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


def _info(pdf: bytes) -> dict[str, str]:
    info = PdfFileReader(BytesIO(pdf)).trailer["/Info"]
    return {str(key)[1:]: str(value) for key, value in info.items()}


def _xmp(pdf: bytes) -> dict[str, str]:
    """The XMP packet's fields in the letter's namespace, as an XML parser reads them."""
    packet = PdfFileReader(BytesIO(pdf)).root["/Metadata"].get_object().data
    prefix = "{" + NAMESPACE + "}"
    return {
        name.removeprefix(prefix): value
        for element in ElementTree.fromstring(packet).iter()
        for name, value in element.attrib.items()
        if name.startswith(prefix)
    }


def test_the_draft_and_prepared_letter_carry_the_metadata_without_a_number(session, world):
    letter = create_letter(session, world, _locked(session, world))
    for kind in (FileKind.DRAFT, FileKind.PREPARED):
        pdf = files.content(files.latest(letter, kind))
        info, xmp = _info(pdf), _xmp(pdf)
        assert {name: info.get(name) for name in BEFORE_NUMBER} == BEFORE_NUMBER
        assert xmp == BEFORE_NUMBER  # the same names, and nothing else in the namespace
        assert not set(_NUMBERED) & (set(info) | set(xmp))
        assert (info["Title"], info["Author"]) == (SUMMARY, "Ủy ban nhân dân huyện Văn Quan")


def test_once_numbered_the_letter_names_its_number_date_and_identifier(session, world, tmp_path):
    batch = _locked(session, world)
    letter = issue_letter(session, world, batch)
    entry = letter.number_entry
    expected = {
        **BEFORE_NUMBER,
        "DocumentId": f"000.00.12.H40-{entry.issue_date.year}-{entry.number:06d}",
        "DocumentNumber": f"{entry.number:02d}",  # as printed: below 10 with a leading zero
        "NumberAndSymbol": entry.symbol,
        "IssueDate": entry.issue_date.isoformat(),
    }
    assert entry.symbol == f"{entry.number:02d}/UBND-VHTT"
    pdf = DOCUMENTS["letter.pdf"].build(batch)
    assert _xmp(pdf) == expected
    assert {name: _info(pdf).get(name) for name in expected} == expected
    # An outside reader (poppler) finds them too: the standard entries and the XMP packet.
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert f"Title:           {SUMMARY}" in info and "Author:          Ủy ban nhân dân huyện Văn Quan" in info
    assert f"Keywords:        Công văn,000.00.12.H40,{entry.symbol}" in info
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], check=True, capture_output=True, text=True).stdout
    assert f'vbdt:DocumentId="{expected["DocumentId"]}"' in meta and f'xmlns:vbdt="{NAMESPACE}"' in meta


def test_a_body_without_an_agency_code_has_no_code_and_no_identifier(session, world):
    world.orgs["district"].agency_code = None
    session.commit()
    batch = _locked(session, world)
    issue_letter(session, world, batch)
    xmp = _xmp(DOCUMENTS["letter.pdf"].build(batch))
    assert "AgencyCode" not in xmp and "DocumentId" not in xmp
    assert xmp["NumberAndSymbol"].endswith("/UBND-VHTT") and xmp["SignerName"] == LETTER_SIGNER


@pytest.mark.pkcs11
@pytest.mark.xdist_group("softhsm")
def test_the_signed_and_issued_letter_completes_its_metadata(session, world, tokens, tmp_path):
    letter = create_letter(session, world, _locked(session, world))
    approved = approve_with(tokens, "LANH-DAO", files.content(files.latest(letter, FileKind.PREPARED)))
    # issue() checks the leader's signature first: the metadata does not disturb it.
    day = today()
    issued = issue_with(tokens, "VAN-THU", approved, "07/UBND-VHTT", day)
    # the clerk's step adds what the number gives, in the revision that fills the page's number and date
    assert _xmp(issued) == {
        **BEFORE_NUMBER,
        "DocumentId": f"000.00.12.H40-{day.year}-000007",
        "DocumentNumber": "07",
        "NumberAndSymbol": "07/UBND-VHTT",
        "IssueDate": day.isoformat(),
    }
    path = tmp_path / "ban-hanh.pdf"
    path.write_bytes(issued)
    verdicts = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss_db(tokens, tmp_path)}", str(path)], capture_output=True, text=True
    ).stdout
    assert verdicts.count("Signature Validation: Signature is Valid.") == 2, verdicts
    assert verdicts.count("Certificate Validation: Certificate is Trusted.") == 2, verdicts
