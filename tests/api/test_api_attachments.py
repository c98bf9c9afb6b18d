"""A request's attachments through the API: upload (multipart/form-data), listing, download and removal under the
request page's rules (types, sizes, number, statuses, who may), refusals that keep nothing, idempotency keys."""

from __future__ import annotations

import hashlib
from io import BytesIO
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.documents.models import StoredFile
from certsvc.requests.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS
from certsvc.requests.models import RequestAttachment, RequestStatus
from tests.support.api import Api, documented_operations, template_of
from tests.support.requests import bring_to, draft

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00scan of a CCCD" * 40
PDF = b"%PDF-1.7\n% the unit's signed letter\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0 jpeg scan"


def attachment_operations() -> set[tuple[str, str]]:
    """The documented operations on attachments: all called here (test_api_requests.py's tour leaves them out)."""
    return {op for op in documented_operations() if "/attachments" in op[1]}


def _form(content: bytes, filename: str, description: str | None = None) -> dict:
    form: dict = {"file": (BytesIO(content), filename)}
    if description is not None:
        form["description"] = description
    return form


def _upload(client: Api, rid: int, form: dict, *, status: int = 201, **kwargs) -> dict:
    return client.call(
        "POST", f"/requests/{rid}/attachments", data=form, content_type="multipart/form-data", status=status, **kwargs
    )


def _refused_upload(client: Api, rid: int, form: dict, status: int, code: str) -> dict:
    error = _upload(client, rid, form, status=status)["error"]
    assert error["code"] == code, error
    return error.get("fields", {})


def _download(client: Api, path: str):
    """A file answer (the schema check of JSON answers does not apply): noted as called."""
    response = client.raw("GET", path)
    client.seen.add(("GET", template_of(path)))
    return response


def _stored(session) -> tuple[int, ...]:
    """Attachments, stored files and audit entries: what a refused upload or removal must leave alone."""
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (RequestAttachment, StoredFile, AuditEntry)
    )


def _removed(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(RequestAttachment.removed_at.is_not(None))) or 0


def _last_audit(session) -> AuditEntry:
    session.expire_all()
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


def test_attach_list_download_and_remove_through_the_api(session, world, api):
    officer, focal, auditor = api[Role.UNIT_OFFICER], api[Role.FOCAL_OFFICER], api[Role.AUDITOR]
    rid = draft(session, world).id
    response = officer.raw(
        "POST",
        f"/requests/{rid}/attachments",
        data=_form(PNG, "scans/Bản chụp CCCD.png", "CCCD   hai mặt"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    (scan,) = created["attachments"]
    assert scan == {
        "id": scan["id"],
        "filename": "Bản chụp CCCD.png",
        "media_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "description": "CCCD hai mặt",
        "uploaded_by_id": world.account(Role.UNIT_OFFICER).id,
        "uploaded_at": scan["uploaded_at"],
        "download_url": f"/api/v1/requests/{rid}/attachments/{scan['id']}",
    }
    assert response.headers["Location"] == scan["download_url"]
    entry = _last_audit(session)
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "request.attachment_added",
        str(rid),
        world.account(Role.UNIT_OFFICER).id,
    )
    letter = _upload(officer, rid, _form(PDF, "cong-van.pdf"))["attachments"][1]
    assert (letter["media_type"], letter["description"]) == ("application/pdf", None)
    assert [a["id"] for a in focal.get(f"/requests/{rid}")["attachments"]] == [scan["id"], letter["id"]]

    # Whoever may see the request downloads the bytes as sent, under their name.
    download = _download(focal, f"/requests/{rid}/attachments/{scan['id']}")
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('Bản chụp CCCD.png')}" in disposition
    disposition.encode("latin-1")  # a header goes out in Latin-1: the Vietnamese name only percent-encoded
    assert download.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in download.headers["Cache-Control"]
    assert _download(auditor, f"/requests/{rid}/attachments/{letter['id']}").data == PDF

    removed = officer.call("DELETE", f"/requests/{rid}/attachments/{scan['id']}")
    assert [a["id"] for a in removed["attachments"]] == [letter["id"]]
    assert _last_audit(session).action == "request.attachment_removed" and _removed(session) == 1
    assert _download(focal, f"/requests/{rid}/attachments/{scan['id']}").status_code == 404
    officer.refused("DELETE", f"/requests/{rid}/attachments/{scan['id']}", status=409, code="already_removed")
    assert _removed(session) == 1
    assert officer.seen | focal.seen >= attachment_operations()


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        (lambda: _form(b"MZ\x90\x00 not a scan", "cccd.exe"), {"file": "Chỉ nhận tệp PDF, JPEG hoặc PNG."}),
        (lambda: _form(b"", "cccd.png"), {"file": "Chọn tệp đính kèm (tệp đang trống)."}),
        (lambda: {"description": "Quên chọn tệp"}, {"file": "Chọn tệp đính kèm (tệp đang trống)."}),
        (lambda: _form(b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "cccd.pdf"), {"file": "Tệp lớn quá 10 MB."}),
        (lambda: _form(PNG, "cccd.png", "x" * 201), {"description": "Dài quá 200 ký tự."}),
        (
            lambda: _form(PNG, "cccd\u202egnp.exe"),
            {"file": "Tên tệp: Có ký tự ẩn (đảo chiều chữ hoặc độ rộng bằng 0) không hợp lệ."},
        ),
        (lambda: {"file": [(BytesIO(PNG), "a.png"), (BytesIO(PDF), "b.pdf")]}, {"file": "Mỗi lần gửi một tệp."}),
        (lambda: {**_form(PNG, "a.png"), "status": "accepted"}, {"status": "Không có trường này."}),
        (lambda: {"file": "không phải tệp"}, {"file": "Phần «file» phải là một tệp (có tên tệp, filename)."}),
    ],
    ids=[
        "wrong-type",
        "empty",
        "no-file",
        "too-big",
        "long-description",
        "hidden-character",
        "two-files",
        "unknown-part",
        "text-not-file",
    ],
)
def test_a_refused_upload_names_its_field_and_keeps_nothing(session, world, api, form, fields):
    rid = draft(session, world).id
    before = _stored(session)
    assert _refused_upload(api[Role.UNIT_OFFICER], rid, form(), 400, "validation_failed") == fields
    assert _stored(session) == before
    assert api[Role.UNIT_OFFICER].get(f"/requests/{rid}")["attachments"] == []


def test_an_upload_that_is_not_a_form_is_bad_request(session, world, api):
    rid = draft(session, world).id
    before = _stored(session)
    for kwargs in ({"data": PNG, "content_type": "image/png"}, {"json": {"file": "x"}}):
        error = api[Role.UNIT_OFFICER].call("POST", f"/requests/{rid}/attachments", status=400, **kwargs)["error"]
        assert error["code"] == "bad_request" and "multipart/form-data" in error["message"]
    assert _stored(session) == before


def test_a_request_over_what_the_service_takes_is_refused_unread(app, session, world, api):
    rid = draft(session, world).id
    before = _stored(session)
    huge = _form(b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"], "lon.pdf")
    error = _upload(api[Role.UNIT_OFFICER], rid, huge, status=413)["error"]
    assert error["code"] == "http_413" and error["message"] == "Tệp tải lên vượt quá dung lượng cho phép."
    assert _stored(session) == before


def test_at_most_ten_files_at_once(session, world, api):
    officer = api[Role.UNIT_OFFICER]
    rid = draft(session, world).id
    for number in range(MAX_ATTACHMENTS):
        _upload(officer, rid, _form(PNG + bytes([number]), f"trang-{number}.png"))
    before = _stored(session)
    assert _refused_upload(officer, rid, _form(JPEG, "thua.jpg"), 400, "validation_failed") == {
        "file": "Mỗi đề nghị đính kèm tối đa 10 tệp: gỡ bớt tệp không cần."
    }
    assert _stored(session) == before
    first = officer.get(f"/requests/{rid}")["attachments"][0]["id"]
    officer.call("DELETE", f"/requests/{rid}/attachments/{first}")
    assert len(_upload(officer, rid, _form(JPEG, "thay.jpg"))["attachments"]) == MAX_ATTACHMENTS


def test_files_change_only_while_the_unit_may_change_the_request(session, world, api):
    officer, head = api[Role.UNIT_OFFICER], api[Role.UNIT_HEAD]
    returned = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)
    attached = _upload(head, returned.id, _form(JPEG, "cccd.jpg"))["attachments"][0]["id"]
    submitted = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    req = draft(session, world)
    kept = _upload(officer, req.id, _form(PNG, "cccd.png"))["attachments"][0]["id"]
    bring_to(session, world, req, RequestStatus.SUBMITTED)
    before = _stored(session)
    _refused_upload(officer, submitted.id, _form(PNG, "muon.png"), 409, "not_attachable")
    officer.refused("DELETE", f"/requests/{req.id}/attachments/{kept}", status=409, code="not_attachable")
    assert _stored(session) == before and _removed(session) == 0
    assert officer.get(f"/requests/{req.id}")["attachments"][0]["id"] == kept
    assert _download(officer, f"/requests/{req.id}/attachments/{kept}").data == PNG
    officer.call("DELETE", f"/requests/{returned.id}/attachments/{attached}")
    assert _removed(session) == 1


def test_other_units_and_accounts_without_the_right_are_refused(session, world, api):
    officer = api[Role.UNIT_OFFICER]
    rid = draft(session, world).id
    aid = _upload(officer, rid, _form(PNG, "cccd.png"))["attachments"][0]["id"]
    other = draft(session, world).id
    before = _stored(session)
    path = f"/requests/{rid}/attachments/{aid}"
    outsider, clerk = api["outsider"], api[Role.CLERK]
    for client in (outsider, clerk):
        _refused_upload(client, rid, _form(PNG, "la.png"), 403, "forbidden")
        client.refused("DELETE", path, status=403, code="forbidden")
        assert _download(client, path).status_code == 403
    # Those who see the request but do not draft it download, and change nothing.
    for role in (Role.FOCAL_OFFICER, Role.AUDITOR):
        _refused_upload(api[role], rid, _form(PNG, "la.png"), 403, "forbidden")
        api[role].refused("DELETE", path, status=403, code="forbidden")
        assert _download(api[role], path).data == PNG
    # The id of a file names nothing on another request, nor an id no file has.
    officer.refused("DELETE", f"/requests/{other}/attachments/{aid}", status=404, code="not_found")
    assert _download(officer, f"/requests/{other}/attachments/{aid}").status_code == 404
    officer.refused("DELETE", f"/requests/{rid}/attachments/{aid + 1000}", status=404, code="not_found")
    _refused_upload(officer, 99_999, _form(PNG, "a.png"), 404, "not_found")
    assert _stored(session) == before and _removed(session) == 0


def test_an_upload_sent_again_with_its_idempotency_key_attaches_once(session, world, api):
    officer = api[Role.UNIT_OFFICER]
    rid = draft(session, world).id

    def send(content: bytes, key: str):
        # A retry sends the same bytes: the same multipart boundary too (the key is checked against the body).
        scan = FileStorage(BytesIO(content), "cccd.png")
        boundary, body = encode_multipart({"file": scan}, boundary="certsvc-test-boundary")
        return officer.client.post(
            f"/api/v1/requests/{rid}/attachments",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={**officer.headers, "Idempotency-Key": key},
        )

    first, again = send(PNG, "dinh-kem-1"), send(PNG, "dinh-kem-1")
    assert (first.status_code, again.status_code) == (201, 201) and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    assert _stored(session)[0] == 1
    reused = send(JPEG, "dinh-kem-1")
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert send(PNG, "dinh-kem-2").status_code == 201 and _stored(session)[0] == 2


def test_a_name_sent_with_a_line_break_still_downloads(session, world, api):
    """RFC 2231 lets a part's name carry a line break, which no header may: it is kept, and downloaded, with a
    space."""
    officer = api[Role.UNIT_OFFICER]
    rid = draft(session, world).id
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''cccd%0D%0Amai.png\r\n"
        b"Content-Type: image/png\r\n\r\n" + PNG + b"\r\n--b--\r\n"
    )
    created = officer.call(
        "POST", f"/requests/{rid}/attachments", data=body, content_type="multipart/form-data; boundary=b", status=201
    )
    (scan,) = created["attachments"]
    download = _download(officer, scan["download_url"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == PNG
    assert scan["filename"] == "cccd mai.png"
    assert download.headers["Content-Disposition"] == 'attachment; filename="cccd mai.png"'
