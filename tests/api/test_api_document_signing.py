"""The signed uploads through the API with real SoftHSM tokens (issue 12): the signer downloads the prepared PDF,
signs it and uploads it; the clerk takes the number, signs with the organisation's key and uploads it. A refused
file is 422 with the code of the failed check, and changes nothing.

The tokens and the world are tests/support/signing.py's (``tokens``, ``dw``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.documents.models import DocumentStatus
from tests.support import signing
from tests.support.api import Api

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def _upload(client: Api, path: str, content: bytes, status: int = 200) -> dict:
    return client.call("POST", path + "?filename=ky.pdf", data=content, content_type="application/pdf", status=status)


def _audit(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_approve_number_and_issue_through_the_api(app, session, tokens, dw):
    signer, clerk, other = (Api(app, session, account) for account in (dw.signer, dw.clerk, dw.other))
    path = f"/documents/{dw.doc_id}"
    detail = signer.get(path)
    prepared = next(f for f in detail["files"] if f["kind"]["value"] == "prepared")
    download = signer.raw("GET", f"{path}/files/{prepared['id']}")
    assert download.status_code == 200
    signed = signing.approve_with(tokens, "LANH-DAO", download.data)

    # Another head of the body may sign documents, not this one; a file signed with another's key is refused.
    other.refused("POST", f"{path}/approval", status=403, code="forbidden")
    wrong = signing.approve_with(tokens, "KHAC", download.data)
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    error = _upload(signer, f"{path}/approval", wrong, status=422)["error"]
    assert error["code"] == "wrong_signer" and "người được đề xuất ký" in error["message"]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
    assert signer.get(path)["status"]["value"] == DocumentStatus.AWAITING_SIGNATURE.value

    approved = _upload(signer, f"{path}/approval", signed)
    assert approved["status"]["value"] == "signed" and approved["approved_at"]
    numbered = clerk.post(f"{path}/actions/take_number")
    number = numbered["number"]
    issued_pdf = signing.issue_with(
        tokens, "VAN-THU", signed, number["symbol"], dt.date.fromisoformat(number["issue_date"])
    )
    issued = _upload(clerk, f"{path}/issue", issued_pdf)
    assert issued["status"]["value"] == "issued" and issued["number"]["state"]["value"] == "used"
    assert [f["kind"]["value"] for f in issued["files"]][-2:] == ["approved", "issued"]
    assert _audit(session)[-3:] == ["document.approve", "document.take_number", "document.issue"]
