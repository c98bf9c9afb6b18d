"""The batch's proposal letter signed for real (issue 12): created from the batch page, reviewed, signed by the
vice-chairman's SoftHSM token and issued with the committee's, checked by the server at each upload; the
batch is then marked sent with the register's number, the signed letter is downloaded from the batch page,
and it passes pdfsig and qpdf."""

from __future__ import annotations

import subprocess

import pytest

from certsvc.accounts.models import Role
from certsvc.audit.service import SYSTEM
from certsvc.documents import drafting, files, register, review
from certsvc.documents.models import DocumentStatus, FileKind
from certsvc.documents.signing import approve_upload, issue_upload
from certsvc.errors import PermissionDenied
from certsvc.registry import anchors
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import TokenKind
from certsvc.registry.registration import register_certificate
from certsvc.requests.letters import build_document
from certsvc.requests.models import BatchStatus, RequestStatus
from tests.conftest import add_account
from tests.support.requests import bring_to, draft, focal, letter_people, open_batch
from tests.support.signing import Tokens, approve_with, issue_with, nss_db
from tests.token_agent.conftest import pdfsig, qpdf_ok
from token_agent import demo, signing

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def _registered(session, pki: Tokens, label: str, kind: TokenKind, organisation, holder=None) -> None:
    register_certificate(
        session,
        SYSTEM,
        parse_certificate(pki.der(label)),
        kind=kind,
        organisation_id=organisation.id,
        holder_id=holder.person_id if holder else None,
    )


def test_the_letter_is_signed_issued_and_kept_with_the_batch(session, world, tokens, make_browser, tmp_path):
    district, office = world.orgs["district"], world.orgs["focal"]
    _signer_person, clerk = letter_people(session, world)
    signer = add_account(session, "chutich", district, (Role.UNIT_HEAD, district), full_name=demo.SIGNER)
    reviewer = add_account(session, "truongphong", office, (Role.REVIEWER, office))
    anchors.add_anchors(session, SYSTEM, tokens.pem("root", "issuing"))
    _registered(session, tokens, "LANH-DAO", TokenKind.PERSONAL, district, signer)
    _registered(session, tokens, "VAN-THU", TokenKind.ORGANISATION, district)
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batch = open_batch(session, world)
    session.commit()
    page = make_browser()
    page.login("focalofficer")
    url = f"/requests/batches/{batch.id}"
    assert page.post(f"{url}/add", {"request_ids": [request.id]}).status_code == 302
    assert page.post(f"{url}/lock").status_code == 302
    assert page.post(f"{url}/letter", {"signer_id": str(signer.person_id)}).status_code == 302
    session.expire_all()
    letter = batch.letter_document

    drafting.submit(session, focal(world), letter)
    review.forward(session, reviewer, letter)
    session.commit()
    approved = approve_with(tokens, "LANH-DAO", files.content(files.latest(letter, FileKind.PREPARED)))
    with pytest.raises(PermissionDenied):  # only the proposed signer uploads it
        approve_upload(session, focal(world), letter, approved, "da-ky-duyet.pdf")
    session.rollback()
    approve_upload(session, signer, letter, approved, "da-ky-duyet.pdf")
    entry = register.take_number(session, clerk, letter)
    session.commit()
    assert entry.symbol == "01/UBND-VHTT"
    issued = issue_with(tokens, "VAN-THU", approved, entry.symbol, entry.issue_date)
    issue_upload(session, clerk, letter, issued, "ban-hanh.pdf")
    session.commit()
    assert letter.status is DocumentStatus.ISSUED

    assert page.post(f"{url}/sent").status_code == 302
    session.expire_all()
    assert (batch.status, batch.document_number, batch.document_date) == (
        BatchStatus.SENT,
        "01/UBND-VHTT",
        entry.issue_date,
    )
    downloaded = page.get(f"{url}/documents/signed-letter.pdf")
    assert downloaded.status_code == 200 and downloaded.data == issued
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(downloaded.data)
    checked = pdfsig(path, nss_db(tokens, tmp_path))
    assert [(c.field, c.valid, c.trusted) for c in checked] == [
        (signing.PERSONAL_FIELD, True, True),
        (signing.ORGANISATION_FIELD, True, True),
    ], [c.text for c in checked]
    assert qpdf_ok(path)
    annex = tmp_path / "phu-luc.pdf"
    annex.write_bytes(build_document(batch, "annex.pdf")[1])
    text = subprocess.run(["pdftotext", "-layout", str(annex), "-"], check=True, capture_output=True, text=True)
    day = entry.issue_date
    assert f"(Kèm theo Công văn số 01/UBND-VHTT ngày {day:%d} tháng {day:%m} năm {day:%Y} của Ủy ban" in text.stdout
