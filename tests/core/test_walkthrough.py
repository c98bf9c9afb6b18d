"""The walk-through of issue 3, through the pages as the people of a district would do it.

A commune officer drafts a new-certificate request and a revocation; the head submits
both; the focal officer returns one, the unit fixes it and sends it again; both are
accepted, batched, the letter and annexes are generated, the batch is sent and the
CA's outcomes are recorded with a real certificate file; the registries show it.
"""

import io
import re
import subprocess

from openpyxl import load_workbook
from sqlalchemy import select

from certsvc.registry.models import Certificate, Token
from certsvc.requests.models import Batch, CertificateRequest, RequestStatus
from tests.conftest import Browser
from tests.support.registry import add_certificate, make_cert, pem, trust_test_issuer
from tests.support.requests import individual, issue_letter, letter_people, unit_letter


def _as(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def _ok(response, *expected_statuses):
    assert response.status_code in (expected_statuses or (200, 302)), response.get_data(as_text=True)[:2000]
    return response


def _request(session, request_id: int) -> CertificateRequest:
    session.expire_all()
    return session.get(CertificateRequest, request_id)


def _created_id(response) -> int:
    return int(re.search(r"/requests/(\d+)", response.headers["Location"]).group(1))


def test_district_walk_through(app, session, world, tmp_path):
    commune = world.orgs["commune"]
    old = add_certificate(session, commune, cn="Vi Văn Tùng")
    officer, head, focal = _as(app, "unitofficer"), _as(app, "unithead"), _as(app, "focalofficer")

    # The commune officer drafts a new certificate (Mẫu 01) and a revocation (Mẫu 05).
    fields = individual(full_name="Lộc Thị Hoa", position="Công chức")
    new_id = _created_id(
        _ok(officer.post("/requests/new/new_individual", {"organisation_id": str(commune.id), **fields}))
    )
    revoke_id = _created_id(
        _ok(
            officer.post(
                "/requests/new/revocation",
                {
                    "organisation_id": str(commune.id),
                    "certificate_serial": old.serial_hex,
                    "reason": "retirement",
                    **unit_letter(),
                },
            )
        )
    )

    # The head submits both; the drafter could not have.
    assert officer.post(f"/requests/{new_id}/act/approve_submit").status_code == 403
    for request_id in (new_id, revoke_id):
        _ok(head.post(f"/requests/{request_id}/act/approve_submit"))
    assert _request(session, new_id).status is RequestStatus.SUBMITTED

    # The focal office sees both in its queue and returns the one with an incomplete position.
    queue = focal.get("/requests/queue").get_data(as_text=True)
    assert "Lộc Thị Hoa" in queue and "Thu hồi" in queue
    _ok(focal.post(f"/requests/{new_id}/act/return", {"comment": "Ghi đủ chức danh theo quyết định tuyển dụng"}))
    page = officer.get(f"/requests/{new_id}").get_data(as_text=True)
    assert "Ghi đủ chức danh theo quyết định tuyển dụng" in page

    # The unit fixes it and sends it again; the focal office accepts both at once.
    _ok(officer.post(f"/requests/{new_id}/edit", {**fields, "position": "Công chức Văn hóa - Xã hội"}))
    _ok(head.post(f"/requests/{new_id}/act/resubmit"))
    _ok(focal.post("/requests/queue/bulk", {"request_ids": [str(new_id), str(revoke_id)], "action": "accept"}))
    assert {_request(session, i).status for i in (new_id, revoke_id)} == {RequestStatus.ACCEPTED}

    # A batch collects them; locked, it yields the letter and the annexes.
    batch_page = _ok(
        focal.post(
            "/requests/batches/new",
            {
                "focal_office_id": str(world.orgs["focal"].id),
                "title": "Đợt 1 tháng 11/2026",
                "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
                "signer_name": "Lương Văn Bình",
            },
        )
    )
    batch_id = int(re.search(r"/batches/(\d+)", batch_page.headers["Location"]).group(1))
    _ok(focal.post(f"/requests/batches/{batch_id}/add", {"request_ids": [str(new_id), str(revoke_id)]}))
    _ok(focal.post(f"/requests/batches/{batch_id}/lock"))
    letter = _ok(focal.get(f"/requests/batches/{batch_id}/documents/letter.pdf"), 200).get_data()
    (tmp_path / "letter.pdf").write_bytes(letter)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "letter.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Kính gửi" in text and "Nơi nhận" in text
    workbook = load_workbook(
        io.BytesIO(_ok(focal.get(f"/requests/batches/{batch_id}/documents/annex.xlsx"), 200).get_data())
    )
    cells = {str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row}
    assert "Lộc Thị Hoa" in cells and old.serial_hex.lower() in {cell.lower() for cell in cells}
    # The letter becomes an outgoing document; signed and issued (the documents' own walk through signs it with
    # tokens), the batch is marked sent with the register's number.
    signer, _clerk = letter_people(session, world)
    session.commit()
    _ok(focal.post(f"/requests/batches/{batch_id}/letter", {"signer_id": str(signer.id)}))
    issue_letter(session, world, session.get(Batch, batch_id))
    _ok(focal.post(f"/requests/batches/{batch_id}/sent"))
    assert _request(session, new_id).status is RequestStatus.SENT

    # The CA's answers: the issued certificate file, and the revocation done.
    cccd = _request(session, new_id).data["cccd"]
    trust_test_issuer(session)
    issued = pem(make_cert("Lộc Thị Hoa", f"CCCD:{cccd}"))
    _ok(
        focal.post(
            f"/requests/{new_id}/outcome",
            {"outcome": "done", "token_serial": "TKHOA2026", "certificate_file": (io.BytesIO(issued), "hoa.cer")},
            content_type="multipart/form-data",
        )
    )
    _ok(focal.post(f"/requests/{revoke_id}/outcome", {"outcome": "done"}))
    assert {_request(session, i).status for i in (new_id, revoke_id)} == {RequestStatus.DONE}

    # The registries show the result: the new certificate on its token, the old one revoked,
    # its token due back to the CA on the board.
    new_cert = session.scalar(select(Certificate).where(Certificate.subject_uid == f"CCCD:{cccd}"))
    assert new_cert.token.serial == "TKHOA2026"
    session.refresh(old)
    assert old.revoked_at is not None
    registry = focal.get("/registry/certificates").get_data(as_text=True)
    assert "Lộc Thị Hoa" in registry and "Đã thu hồi" in registry
    board = focal.get("/registry/board").get_data(as_text=True)
    assert session.get(Token, old.token_id).serial in board
