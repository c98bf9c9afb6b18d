"""The API of requests and batches: the whole path through the API only, the page's rules, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.requests.models import Batch, RequestStatus
from certsvc.timeutil import to_vietnam, utcnow
from tests.api.test_api_attachments import attachment_operations
from tests.api.test_api_documents import DOCUMENT_PATHS
from tests.support.api import Api, documented_operations
from tests.support.registry import add_certificate
from tests.support.requests import (
    bring_to,
    counts,
    draft,
    individual,
    issue_letter,
    letter_people,
    open_batch,
)


def _new_draft(world, **changes) -> dict:
    fields = {**individual(**changes), "validity_years": 5}
    return {"organisation_id": world.orgs["commune"].id, "type": "new_individual", "fields": fields}


def _actions_since(session, seq: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)))


def _last_seq(session) -> int:
    session.expire_all()
    return session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0


def test_a_request_from_draft_to_sent_through_the_api_only(session, world, api):
    officer, head, focal = api[Role.UNIT_OFFICER], api[Role.UNIT_HEAD], api[Role.FOCAL_OFFICER]
    focal_id = world.orgs["focal"].id
    steps = []

    def step(expected: list[str], client: Api, method: str, path: str, body=None, status: int = 200) -> dict:
        before = _last_seq(session)
        answer = client.call(method, path, body, status=status)
        steps.append((path, _actions_since(session, before)))
        assert steps[-1][1] == expected, steps[-1]
        return answer

    created = step(["request.create"], officer, "POST", "/requests", _new_draft(world), status=201)
    rid = created["id"]
    assert created["status"]["value"] == "draft" and created["fields"]["validity_years"] == 5
    assert [t["action"] for t in created["transitions"]] == ["cancel"] and created["editable"] is True
    offered = {t["action"] for t in head.get(f"/requests/{rid}")["transitions"]}
    assert offered == {"approve", "approve_submit", "cancel"}
    step(["request.approve"], head, "POST", f"/requests/{rid}/transitions", {"action": "approve"})
    sent_on = step(["request.submit"], head, "POST", f"/requests/{rid}/transitions", {"action": "submit"})
    assert sent_on["status"]["value"] == "submitted" and sent_on["submitted_at"]
    step(["request.accept"], focal, "POST", f"/requests/{rid}/transitions", {"action": "accept", "comment": None})
    batch = step(
        ["batch.created"],
        focal,
        "POST",
        "/batches",
        {
            "focal_office_id": focal_id,
            "title": "Đợt 1 năm 2026",
            "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
            "signer_name": "Lương Văn Bình",
        },
        status=201,
    )
    bid = batch["id"]
    filled = step(["request.add_to_batch"], focal, "POST", f"/batches/{bid}/requests", {"request_ids": [rid]})
    assert [r["id"] for r in filled["requests"]] == [rid] and filled["request_count"] == 1
    locked = step(["batch.locked"], focal, "POST", f"/batches/{bid}/lock")
    assert locked["status"]["value"] == "locked" and locked["locked_at"]
    # The letter is an outgoing document: created here, signed and issued through the documents' steps (their
    # signatures are the documents tests'); marking sent takes its number from the register, and each request
    # it carries records that it was sent.
    signer, _clerk = letter_people(session, world)
    session.commit()
    assert focal.raw("POST", f"/batches/{bid}/letter", {"signer_id": signer.id}).status_code == 201
    issue_letter(session, world, session.get(Batch, bid))
    sent = step(["batch.sent", "request.mark_sent"], focal, "POST", f"/batches/{bid}/sent")
    assert sent["status"]["value"] == "sent" and sent["document_number"] == "01/UBND-VHTT"
    assert sent["letter_document_id"] == session.get(Batch, bid).letter_document_id is not None
    final = officer.get(f"/requests/{rid}")
    assert final["status"]["value"] == "sent" and final["batch_id"] == bid
    assert [e["action"] for e in final["events"]] == [
        "create",
        "approve",
        "submit",
        "accept",
        "add_to_batch",
        "mark_sent",
    ]
    assert final["events"][1]["actor"]["label"] == "unithead"
    assert api[Role.AUDITOR].get(f"/batches/{bid}")["requests"][0]["status"]["value"] == "sent"


def test_every_documented_operation_answers_as_documented(session, world, api):
    """Each path and method, called once as the role that may, its answer valid against its schema."""
    officer, focal = api[Role.UNIT_OFFICER], api[Role.FOCAL_OFFICER]
    cert = add_certificate(session, world.orgs["commune"])
    rid = officer.post("/requests", _new_draft(world), status=201)["id"]
    officer.patch(f"/requests/{rid}", {"fields": {"position": "Phó Chủ tịch"}})
    officer.post(f"/requests/{rid}/transitions", {"action": "cancel", "comment": "Lập nhầm"})
    accepted = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    bid = focal.post(
        "/batches",
        {
            "focal_office_id": world.orgs["focal"].id,
            "title": "Đợt 2",
            "signer_title": "CHỦ TỊCH",
            "signer_name": "Lương Văn Bình",
        },
        status=201,
    )["id"]
    focal.post(f"/batches/{bid}/requests", {"request_ids": [accepted.id]})
    focal.post(f"/batches/{bid}/lock")
    focal.post(f"/batches/{bid}/distribution", {"electronic_distribution_lines": ["Sở TT&TT."]})
    signer, _clerk = letter_people(session, world)
    session.commit()
    focal.post(f"/batches/{bid}/letter", {"signer_id": signer.id}, status=201)
    issue_letter(session, world, session.get(Batch, bid))
    focal.post(f"/batches/{bid}/sent")
    for path in (
        "/me",
        "/request-types",
        "/requests",
        f"/requests/{rid}",
        "/batches",
        f"/batches/{bid}",
        "/certificates",
        f"/certificates/{cert.id}",
        "/tokens",
        f"/tokens/{cert.token_id}",
        "/readiness/board",
    ):
        focal.get(path)
    # a report the agent's check did not write is refused with its reason (the real ones: tests/readiness)
    focal.refused("POST", "/readiness/reports", {"schema": "token-agent.check/0"}, status=400, code="validation_failed")
    # assisted visits and go-live dates (the whole story: tests/readiness/test_api_readiness.py)
    commune_id = world.orgs["commune"].id
    visit = {"organisation_id": commune_id, "visitor_name": "Cán bộ xã", "actions": ["pin_unlocked"], "outcome": "Xong"}
    focal.post("/readiness/visits", visit, status=201)
    focal.get("/readiness/visits")
    focal.post(f"/readiness/units/{commune_id}/go-live", {"go_live_on": "2027-01-15"})
    # The documents' operations are called by test_api_documents.py.
    toured = {op for op in documented_operations() if not op[1].startswith(DOCUMENT_PATHS)} - attachment_operations()
    assert focal.seen | officer.seen == toured


def test_request_types_list_every_field(api):
    types = {t["type"]: t for t in api[Role.UNIT_OFFICER].get("/request-types")["items"]}
    assert len(types) == 7 and types["revocation"]["form_no"] == "Mẫu 05"
    cccd = next(f for f in types["new_individual"]["fields"] if f["name"] == "cccd")
    assert cccd == {
        "name": "cccd",
        "label": "Số CCCD",
        "widget": "text",
        "required": True,
        "choices": [],
        "hint": "12 chữ số.",
        "max_length": 12,
    }
    reason = next(f for f in types["revocation"]["fields"] if f["name"] == "reason")
    assert {"value": "retirement", "label": "Nghỉ hưu"} in reason["choices"]
    api[Role.CLERK].refused("GET", "/request-types", status=403, code="forbidden")


def test_draft_with_bad_fields_names_each_and_writes_nothing(session, world, api):
    officer = api[Role.UNIT_OFFICER]
    before = counts(session)
    body = _new_draft(world, cccd="12345", email="khong-phai-thu")
    body["fields"]["nickname"] = "x"
    fields = officer.refused("POST", "/requests", body, status=400, code="validation_failed")
    assert fields == {"nickname": "Loại đề nghị này không có trường này."}
    del body["fields"]["nickname"]
    fields = officer.refused("POST", "/requests", body, status=400, code="validation_failed")
    assert fields == {"cccd": "Số CCCD phải gồm đúng 12 chữ số.", "email": "Địa chỉ thư điện tử không hợp lệ."}
    fields = officer.refused(
        "POST",
        "/requests",
        {"organisation_id": world.orgs["commune"].id, "type": "vui"},
        status=400,
        code="validation_failed",
    )
    assert fields == {"type": "Loại đề nghị không hợp lệ.", "fields": "Bắt buộc nhập."}
    assert counts(session) == before


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("POST", "/requests", {"data": "không phải JSON", "content_type": "application/json"}),
        ("POST", "/requests", {"data": "organisation_id=1", "content_type": "application/x-www-form-urlencoded"}),
        ("POST", "/requests", {"json": ["một", "mảng"]}),
        ("POST", "/requests", {"json": "chuỗi"}),
        ("POST", "/requests", {"json": None}),
        ("POST", "/requests", {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}),
        ("PATCH", "/requests/{rid}", {"json": 12}),
        ("POST", "/requests/{rid}/transitions", {}),
        ("POST", "/batches", {"data": b"\xff\xfe", "content_type": "application/json"}),
        ("POST", "/batches/{bid}/requests", {"json": []}),
        ("POST", "/batches/{bid}/sent", {"data": "{}", "content_type": "text/plain"}),
    ],
    ids=[
        "not-json",
        "form-encoded",
        "array",
        "string",
        "null",
        "deep",
        "number",
        "no-body",
        "not-utf8",
        "empty-array",
        "text-plain",
    ],
)
def test_a_body_that_is_not_a_json_object_is_bad_request(session, world, api, method, path, kwargs):
    rid = draft(session, world).id
    bid = open_batch(session, world).id
    client = api[Role.FOCAL_OFFICER] if "batches" in path else api[Role.UNIT_OFFICER]
    before = counts(session)
    response = client.raw(method, path.format(rid=rid, bid=bid), **kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "bad_request"
    assert counts(session) == before


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"organisation_id": "1", "type": "new_individual", "fields": {}}, {"organisation_id": "Phải là số nguyên."}),
        (
            {"organisation_id": True, "type": 7, "fields": []},
            {
                "organisation_id": "Phải là số nguyên.",
                "type": "Phải là chuỗi ký tự.",
                "fields": "Phải là một đối tượng JSON.",
            },
        ),
        (
            {
                "organisation_id": 10**40,
                "type": "new_device",
                "fields": {"device_name": {"a": 1}, "purpose": [1], "validity_years": 1.5},
            },
            dict.fromkeys(("device_name", "purpose", "validity_years"), "Phải là chuỗi ký tự, số nguyên hoặc null."),
        ),
        (
            {"type": "new_device", "fields": {}, "status": "accepted"},
            {"organisation_id": "Bắt buộc nhập.", "status": "Không có trường này."},
        ),
    ],
)
def test_members_of_the_wrong_type_are_named(session, world, api, body, fields):
    before = counts(session)
    assert api[Role.UNIT_OFFICER].refused("POST", "/requests", body, status=400, code="validation_failed") == fields
    assert counts(session) == before


def test_a_huge_or_unknown_organisation_is_a_field_error(session, world, api):
    body = {**_new_draft(world), "organisation_id": 10**40}
    fields = api[Role.UNIT_OFFICER].refused("POST", "/requests", body, status=400, code="validation_failed")
    assert fields == {"organisation_id": "Chọn đơn vị đề nghị."}
    body["organisation_id"] = world.orgs["other_commune"].id
    api[Role.UNIT_OFFICER].refused("POST", "/requests", body, status=403, code="forbidden")


@pytest.mark.parametrize(
    "path",
    [
        "/requests/99999999999999999999",
        "/requests/0",
        "/requests/abc",
        "/requests/-1",
        "/batches/99999999999999999999",
        "/certificates/1e3",
        "/tokens/99999999999999999999",
        "/requests/12/transitions/x",
    ],
)
def test_ids_that_name_nothing_are_404(api, path):
    for method in ("GET", "POST", "PATCH"):
        response = api[Role.FOCAL_OFFICER].raw(method, path, {})
        assert response.status_code in (404, 405), (method, response.status_code)
        assert response.get_json()["error"]["code"] in ("not_found", "http_404", "http_405")


def test_scope_as_on_the_pages(session, world, api):
    rid = draft(session, world).id
    outsider, auditor = api["outsider"], api[Role.AUDITOR]
    outsider.refused("GET", f"/requests/{rid}", status=403, code="forbidden")
    outsider.refused("PATCH", f"/requests/{rid}", {"fields": {}}, status=403, code="forbidden")
    outsider.refused(
        "POST", f"/requests/{rid}/transitions", {"action": "cancel", "comment": "x"}, status=403, code="forbidden"
    )
    assert outsider.get("/requests")["total"] == 0
    assert auditor.get(f"/requests/{rid}")["transitions"] == []
    auditor.refused("POST", f"/requests/{rid}/transitions", {"action": "approve"}, status=403, code="forbidden")
    api[Role.CLERK].refused("GET", "/requests", status=403, code="forbidden")
    api[Role.UNIT_HEAD].refused("POST", "/requests", _new_draft(world), status=403, code="forbidden")
    api[Role.UNIT_OFFICER].refused(
        "POST", f"/requests/{rid}/transitions", {"action": "approve"}, status=403, code="forbidden"
    )


def test_transitions_refused_like_the_page(session, world, api):
    rid = draft(session, world).id
    head, focal = api[Role.UNIT_HEAD], api[Role.FOCAL_OFFICER]
    before = counts(session)
    fields = head.refused(
        "POST", f"/requests/{rid}/transitions", {"action": "bay"}, status=400, code="validation_failed"
    )
    assert fields["action"].startswith("Không có thao tác này; các thao tác: accept, approve")
    head.refused("POST", f"/requests/{rid}/transitions", {"action": "add_to_batch"}, status=404, code="not_found")
    head.refused("POST", f"/requests/{rid}/transitions", {"action": "submit"}, status=409, code="transition_refused")
    focal.refused("POST", f"/requests/{rid}/transitions", {"action": "accept"}, status=409, code="transition_refused")
    assert head.refused(
        "POST", f"/requests/{rid}/transitions", {"action": "cancel"}, status=400, code="validation_failed"
    ) == {"comment": "Ghi rõ lý do."}
    head.refused(
        "POST",
        f"/requests/{rid}/transitions",
        {"action": "approve", "comment": ["x"]},
        status=400,
        code="validation_failed",
    )
    assert counts(session) == before
    too_long = draft(session, world, fields=individual(validity_years="9")).id
    error = head.call("POST", f"/requests/{too_long}/transitions", {"action": "approve_submit"}, status=400)
    assert error["error"]["code"] == "policy_refused" and "tối đa 5 năm" in error["error"]["message"]
    assert head.get(f"/requests/{too_long}")["problems"][0]["code"] == "validity_too_long"


def test_editing_an_approved_request_voids_the_approval(session, world, api):
    req = bring_to(session, world, draft(session, world), RequestStatus.APPROVED)
    officer = api[Role.UNIT_OFFICER]
    seq = _last_seq(session)
    edited = officer.patch(f"/requests/{req.id}", {"fields": {"position": "Phó Chủ tịch"}})
    assert _actions_since(session, seq) == ["request.void_approval"]
    assert edited["status"]["value"] == "draft" and edited["approved_by_id"] is None
    assert edited["fields"]["position"] == "Phó Chủ tịch" and edited["fields"]["cccd"] == req.data["cccd"]
    assert edited["events"][-1]["comment"] == "Phê duyệt bị hủy do sửa nội dung sau khi phê duyệt."
    assert officer.patch(f"/requests/{req.id}", {"fields": {"position": "Phó Chủ tịch"}})["events"] == edited["events"]
    fields = officer.refused(
        "PATCH", f"/requests/{req.id}", {"fields": {"cccd": "1", "phone": None}}, status=400, code="validation_failed"
    )
    assert fields == {"cccd": "Số CCCD phải gồm đúng 12 chữ số.", "phone": "Bắt buộc nhập."}
    bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    submitted = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    officer.refused(
        "PATCH", f"/requests/{submitted.id}", {"fields": {"position": "X"}}, status=409, code="not_editable"
    )


def test_list_filters_and_pages(session, world, api):
    for _ in range(3):
        draft(session, world)
    accepted = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    officer = api[Role.UNIT_OFFICER]
    first = officer.get("/requests?per_page=2")
    assert (first["total"], first["pages"], first["page"], len(first["items"])) == (4, 2, 1, 2)
    second = officer.get("/requests?per_page=2&page=2")
    assert {r["id"] for r in first["items"]}.isdisjoint(r["id"] for r in second["items"])
    assert [r["id"] for r in officer.get("/requests?status=accepted")["items"]] == [accepted.id]
    assert officer.get("/requests?type=renewal")["total"] == 0
    assert officer.get(f"/requests?organisation_id={world.orgs['commune'].id}&min_age_days=0")["total"] == 1
    fields = officer.refused(
        "GET",
        "/requests?type=x&status=y&min_age_days=-1&page=0&per_page=1000"
        f"&organisation_id={world.orgs['other_commune'].id}",
        status=400,
        code="validation_failed",
    )
    assert set(fields) == {"type", "status", "min_age_days", "page", "per_page", "organisation_id"}
    assert fields["type"] == "Loại đề nghị không hợp lệ."


def test_batch_rules_as_on_the_pages(session, world, api):
    focal, auditor = api[Role.FOCAL_OFFICER], api[Role.AUDITOR]
    batch = open_batch(session, world)
    submitted = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    before = counts(session)
    fields = focal.refused(
        "POST",
        f"/batches/{batch.id}/requests",
        {"request_ids": [submitted.id, 10**30]},
        status=400,
        code="validation_failed",
    )
    assert "không phải đề nghị đã tiếp nhận" in fields["request_ids"]
    assert focal.refused(
        "POST", f"/batches/{batch.id}/requests", {"request_ids": ["1"]}, status=400, code="validation_failed"
    ) == {"request_ids": "Phải là danh sách (không rỗng) các số nguyên."}
    assert focal.refused("POST", f"/batches/{batch.id}/lock", status=400, code="validation_failed") == {
        "batch": "Đợt tổng hợp chưa có đề nghị nào."
    }
    focal.refused(
        "POST",
        f"/batches/{batch.id}/sent",
        {"document_number": "12/UBND-VHTT", "document_date": "2026-01-01"},
        status=409,
        code="batch_not_locked",
    )
    fields = focal.refused(
        "POST",
        "/batches",
        {"focal_office_id": world.orgs["commune"].id, "title": " ", "signer_title": "CHỦ TỊCH", "signer_name": "A"},
        status=400,
        code="validation_failed",
    )
    assert fields == {"focal_office_id": "Chọn cơ quan đầu mối bạn phụ trách.", "title": "Bắt buộc nhập."}
    assert counts(session) == before
    assert [b["id"] for b in auditor.get("/batches")["items"]] == [batch.id]
    auditor.refused("POST", f"/batches/{batch.id}/lock", status=403, code="forbidden")
    api[Role.UNIT_HEAD].refused("GET", f"/batches/{batch.id}", status=403, code="forbidden")


def test_marking_sent_takes_the_issued_letter_s_number(session, world, api):
    accepted = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    focal = api[Role.FOCAL_OFFICER]
    batch = open_batch(session, world)
    focal.post(f"/batches/{batch.id}/requests", {"request_ids": [accepted.id]})
    focal.post(f"/batches/{batch.id}/lock")
    before = counts(session)
    focal.refused("POST", f"/batches/{batch.id}/sent", status=409, code="letter_not_issued")
    assert counts(session) == before
    issue_letter(session, world, batch)
    before = counts(session)
    expected = f"Công văn của đợt có số 01/UBND-VHTT ngày {to_vietnam(utcnow()).date():%d/%m/%Y} (theo sổ đăng ký)."
    fields = focal.refused(
        "POST",
        f"/batches/{batch.id}/sent",
        {"document_number": "12/UBND-VHTT", "document_date": "2099-01-01"},
        status=400,
        code="validation_failed",
    )
    assert fields == {"document_number": expected, "document_date": expected}
    assert focal.refused(
        "POST", f"/batches/{batch.id}/sent", {"number": "12/UBND-VHTT"}, status=400, code="validation_failed"
    ) == {"number": "Không có trường này."}
    assert focal.refused(
        "POST", f"/batches/{batch.id}/sent", {"document_number": "mười hai"}, status=400, code="validation_failed"
    ) == {"document_number": "Số, ký hiệu văn bản có dạng số/ký hiệu, ví dụ 12/UBND-VHTT."}
    assert counts(session) == before
    # As clients sent it when it was typed: accepted, being the register's.
    today = to_vietnam(utcnow()).date().isoformat()
    sent = focal.post(f"/batches/{batch.id}/sent", {"document_number": "01/UBND-VHTT", "document_date": today})
    assert (sent["document_number"], sent["document_date"]) == ("01/UBND-VHTT", today)
