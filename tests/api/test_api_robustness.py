"""Item 22: the API when the database connection drops. A committed change is answered with what was written
(the answer is built before the commit); an ``Idempotency-Key`` makes a retried POST return the first answer
instead of writing twice; a pooled connection that died while idle costs no request."""

from __future__ import annotations

import threading

import flask_sqlalchemy.session
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from certsvc.accounts.models import Role
from certsvc.api.idempotency import IdempotentAnswer
from certsvc.audit.models import AuditEntry
from certsvc.requests.models import Batch, CertificateRequest
from tests.conftest import PG_URL
from tests.support.api import Api, check_response
from tests.support.requests import individual, issue_letter


@pytest.fixture
def officer(app, session, world) -> Api:
    return Api(app, session, world.account(Role.UNIT_OFFICER))


def _new_draft(world) -> dict:
    return {
        "organisation_id": world.orgs["commune"].id,
        "type": "new_individual",
        "fields": {**individual(), "validity_years": 5},
    }


def _post(api: Api, path: str, body: dict | None = None, *, key: str | None = None):
    headers = {**api.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return api.client.post("/api/v1" + path, json=body, headers=headers)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _created_requests(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "request.create"))


def test_a_committed_create_is_answered_although_the_database_goes_away_after_the_commit(
    officer, session, world, monkeypatch
):
    """The answer comes from what the request already loaded: nothing is read after the commit."""
    commit = flask_sqlalchemy.session.Session.commit
    engines = []

    def gone(*_args):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    def commit_then_lose_the_database(self):
        commit(self)
        engines.append(self.get_bind())
        event.listen(engines[-1], "before_cursor_execute", gone)

    monkeypatch.setattr(flask_sqlalchemy.session.Session, "commit", commit_then_lose_the_database)
    try:
        response = officer.raw("POST", "/requests", _new_draft(world))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", gone)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    check_response("POST", "/requests", 201, created)
    assert response.headers["Location"].endswith(f"/api/v1/requests/{created['id']}")
    assert session.get(CertificateRequest, created["id"]) is not None


def test_every_change_is_answered_with_the_record_as_a_fresh_read_shows_it(app, officer, session, world):
    """The answer is built before the commit, from what the request loaded: it must not be stale."""
    head, focal = (Api(app, session, world.account(role)) for role in (Role.UNIT_HEAD, Role.FOCAL_OFFICER))
    created = officer.post("/requests", _new_draft(world), status=201)
    path = f"/requests/{created['id']}"
    assert created == officer.get(path)
    assert officer.patch(path, {"fields": {"phone": "0912 000 111"}}) == officer.get(path)
    for client, action in ((head, "approve"), (head, "submit"), (focal, "accept")):
        assert client.post(f"{path}/transitions", {"action": action}) == client.get(path), action
    batch = focal.post(
        "/batches",
        {
            "focal_office_id": world.orgs["focal"].id,
            "title": "Đợt 1",
            "signer_title": "CHỦ TỊCH",
            "signer_name": "Lương Văn Bình",
        },
        status=201,
    )
    batch_path = f"/batches/{batch['id']}"
    assert batch == focal.get(batch_path)
    assert focal.post(f"{batch_path}/requests", {"request_ids": [created["id"]]}) == focal.get(batch_path)
    locked = focal.post(f"{batch_path}/lock")
    assert locked == focal.get(batch_path)
    issue_letter(session, world, session.get(Batch, batch["id"]))
    sent = focal.post(f"{batch_path}/sent")
    assert sent == focal.get(batch_path) and sent["requests"][0]["status"]["value"] == "sent"


def test_a_retry_with_the_same_key_returns_the_first_answer_and_writes_once(officer, session, world):
    body = _new_draft(world)
    first, again = (_post(officer, "/requests", body, key="7f0c2a4e-create-1") for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(session, CertificateRequest) == 1 and _created_requests(session) == 1


def test_every_post_of_the_api_takes_a_key(app, officer, session, world):
    focal, head = (Api(app, session, world.account(role)) for role in (Role.FOCAL_OFFICER, Role.UNIT_HEAD))
    body = {
        "focal_office_id": world.orgs["focal"].id,
        "title": "Đợt 1",
        "signer_title": "CHỦ TỊCH",
        "signer_name": "Lương Văn Bình",
    }
    batches = [_post(focal, "/batches", body, key="batch-1") for _ in range(2)]
    assert [a.status_code for a in batches] == [201, 201] and batches[0].get_json() == batches[1].get_json()
    assert _count(session, Batch) == 1
    request_id = _post(officer, "/requests", _new_draft(world)).get_json()["id"]
    approvals = [
        _post(head, f"/requests/{request_id}/transitions", {"action": "approve"}, key="approve-1") for _ in range(2)
    ]
    # Without the key the second approval would be refused: the request is approved already.
    assert [a.status_code for a in approvals] == [200, 200] and approvals[0].get_json() == approvals[1].get_json()


def test_the_same_key_with_another_body_or_path_is_refused_and_writes_nothing(officer, session, world):
    assert _post(officer, "/requests", _new_draft(world), key="once").status_code == 201
    other_body = _post(officer, "/requests", _new_draft(world), key="once")
    other_path = _post(officer, "/batches", {}, key="once")
    for response in (other_body, other_path):
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert error["code"] == "idempotency_key_reused" and "Idempotency-Key" in error["message"]
        check_response("POST", response.request.path.removeprefix("/api/v1"), 422, response.get_json())
    assert _count(session, CertificateRequest) == 1 and _count(session, IdempotentAnswer) == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 101, "khóa-1", "a b", "a/b"], ids=["empty", "long", "diacritics", "space", "slash"]
)
def test_a_malformed_key_is_refused_and_writes_nothing(officer, session, world, key):
    response = _post(officer, "/requests", _new_draft(world), key=key)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and "Idempotency-Key" in error["message"]
    assert _count(session, CertificateRequest) == 0 and _count(session, IdempotentAnswer) == 0


def test_keys_belong_to_their_account(app, officer, session, world):
    head = Api(app, session, world.account(Role.UNIT_HEAD))
    body = _new_draft(world)
    mine, theirs = _post(officer, "/requests", body, key="k1"), _post(head, "/requests", body, key="k1")
    assert mine.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json() != mine.get_json()


def test_a_refused_post_stores_no_answer(officer, session, world):
    refused = _post(officer, "/requests", {**_new_draft(world), "type": "no-such-type"}, key="refused")
    assert refused.status_code == 400
    assert _count(session, IdempotentAnswer) == 0


def test_simultaneous_retries_with_one_key_write_once(app, officer, session, world):
    """Four copies of one create at the same moment: one writes, the others get its answer (or a conflict)."""
    body, headers = _new_draft(world), {**officer.headers, "Idempotency-Key": "raced-create"}
    start = threading.Barrier(4)
    answers = []

    def send():
        client = app.test_client()  # each thread its own client, each request its own app context
        start.wait()
        answers.append(client.post("/api/v1/requests", json=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(answer.status_code for answer in answers)
    assert len(statuses) == 4 and all(status in (201, 409) for status in statuses), statuses
    created = {answer.get_json()["id"] for answer in answers if answer.status_code == 201}
    assert len(created) == 1
    assert _count(session, CertificateRequest) == 1 and _created_requests(session) == 1


@pytest.mark.skipif(PG_URL is None, reason="pg_terminate_backend is PostgreSQL's")
def test_connections_terminated_between_requests_cost_no_request(app, officer, session, world):
    assert officer.raw("GET", "/me").status_code == 200  # the app's pool now holds a connection
    database = session.scalar(text("SELECT current_database()"))

    def terminate_the_apps_connections() -> int:
        killed = session.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :database AND pid <> pg_backend_pid()"
            ),
            {"database": database},
        ).scalar()
        session.commit()
        return killed

    assert terminate_the_apps_connections() >= 1
    assert officer.raw("GET", "/me").status_code == 200
    assert terminate_the_apps_connections() >= 1
    created = officer.raw("POST", "/requests", _new_draft(world))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert terminate_the_apps_connections() >= 1
    assert officer.raw("GET", f"/requests/{created.get_json()['id']}").status_code == 200
