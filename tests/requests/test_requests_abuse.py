"""What an abuse run found in certificate requests: records of other units named in requests, the four
eyes bypassed by editing, other units' requests named by the duplicate check, simultaneous transitions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from certsvc.accounts.models import Account, Role
from certsvc.audit.models import AuditEntry
from certsvc.errors import Conflict, PermissionDenied
from certsvc.extensions import db
from certsvc.requests.checks import SubmissionRefused
from certsvc.requests.models import CertificateRequest, RequestEvent, RequestStatus
from certsvc.requests.service import available_transitions, create_draft, take_action, update_request
from certsvc.requests.transitions import Action, apply_transition
from tests.conftest import PG_URL, add_account
from tests.requests.test_requests_pages import signed_in, text
from tests.support.api import Api
from tests.support.registry import add_certificate
from tests.support.requests import bring_to, counts, draft, focal, head, individual, unit_letter

UNKNOWN_ID = 987654


@pytest.fixture
def api(app, session, world):
    return {role: Api(app, session, world.account(role)) for role in (Role.UNIT_OFFICER, Role.UNIT_HEAD)}


@pytest.fixture
def foreign(session, world):
    """A certificate (on its token) of Văn phòng, another unit of the district than the commune."""
    return add_certificate(session, world.orgs["office"], cn="Lê Thị Văn Phòng")


def _body(world, kind: str, fields: dict) -> dict:
    """The API's body of the commune's request of ``kind``, with the unit's letter."""
    return {"organisation_id": world.orgs["commune"].id, "type": kind, "fields": unit_letter() | fields}


# --- 1. a request names only records of its unit (and of the units below it) ------------------------


@pytest.mark.parametrize(
    "kind, reference, fields",
    [
        ("revocation", "certificate_id", {"reason": "retirement"}),
        ("renewal", "certificate_id", {"extension_years": 1}),
        ("recovery", "token_id", {"problem": "pin_locked"}),
    ],
    ids=["revocation", "renewal", "recovery"],
)
def test_another_units_record_by_id_is_refused_as_an_unknown_one(session, world, api, foreign, kind, reference, fields):
    officer_api = api[Role.UNIT_OFFICER]
    foreign_id = foreign.id if reference == "certificate_id" else foreign.token_id
    before = counts(session)
    as_unknown = officer_api.raw("POST", "/requests", _body(world, kind, {**fields, reference: UNKNOWN_ID}))
    as_foreign = officer_api.raw("POST", "/requests", _body(world, kind, {**fields, reference: foreign_id}))
    assert as_foreign.status_code == as_unknown.status_code == 400
    assert as_foreign.get_json() == as_unknown.get_json()
    answer = as_foreign.get_data(as_text=True).lower()
    assert foreign.serial_hex.lower().replace(":", "") not in answer.replace(":", "")
    assert foreign.token.serial.lower() not in answer
    assert counts(session) == before


def test_another_units_certificate_by_serial_is_not_linked_and_cannot_be_sent(session, world, api, foreign):
    officer_api, head_api = api[Role.UNIT_OFFICER], api[Role.UNIT_HEAD]
    created = officer_api.post(
        "/requests",
        _body(world, "revocation", {"certificate_serial": foreign.serial_hex, "reason": "retirement"}),
        status=201,
    )
    unknown = officer_api.post(
        "/requests",
        _body(world, "revocation", {"certificate_serial": "0A1B2C3D4E", "reason": "retirement"}),
        status=201,
    )
    assert created["certificate_id"] is None and created["token_id"] is None
    assert "Lê Thị Văn Phòng" not in str(created)
    assert (
        [p["code"] for p in created["problems"]]
        == [p["code"] for p in unknown["problems"]]
        == ["certificate_not_registered"]
    )
    before = counts(session)
    head_api.refused(
        "POST",
        f"/requests/{created['id']}/transitions",
        {"action": "approve_submit"},
        status=400,
        code="policy_refused",
    )
    assert counts(session) == before
    assert session.get(CertificateRequest, created["id"]).status is RequestStatus.DRAFT


def test_the_request_form_refuses_another_units_certificate(make_browser, session, world, foreign):
    officer_page, head_page = signed_in(make_browser, "unitofficer"), signed_in(make_browser, "unithead")
    response = officer_page.post(
        "/requests/new/revocation",
        {
            "organisation_id": str(world.orgs["commune"].id),
            "certificate_serial": foreign.serial_hex,
            "reason": "retirement",
            **unit_letter(),
        },
    )
    assert response.status_code == 302
    session.expire_all()
    created = session.scalars(select(CertificateRequest)).one()
    assert created.certificate_id is None and "Lê Thị Văn Phòng" not in text(head_page.get(f"/requests/{created.id}"))
    before = counts(session)
    refused = head_page.post(f"/requests/{created.id}/act/approve_submit")
    assert refused.status_code == 400 and "không có trong sổ chứng thư số" in text(refused)
    assert counts(session) == before


def test_editing_to_another_units_record_is_refused(session, world, api, foreign):
    own = add_certificate(session, world.orgs["commune"])
    request = draft(session, world, "revocation", {"certificate_id": own.id, "reason": "retirement"})
    before = counts(session)
    fields = api[Role.UNIT_OFFICER].refused(
        "PATCH",
        f"/requests/{request.id}",
        {"fields": {"certificate_id": foreign.id}},
        status=400,
        code="validation_failed",
    )
    assert fields == api[Role.UNIT_OFFICER].refused(
        "PATCH",
        f"/requests/{request.id}",
        {"fields": {"certificate_id": UNKNOWN_ID}},
        status=400,
        code="validation_failed",
    )
    assert counts(session) == before
    session.expire_all()
    assert session.get(CertificateRequest, request.id).certificate_id == own.id


def test_a_certificate_moved_to_another_unit_since_drafting_stops_the_request(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    request = draft(session, world, "revocation", {"certificate_id": cert.id, "reason": "retirement"})
    cert.organisation_id = world.orgs["office"].id
    session.commit()
    before = counts(session)
    with pytest.raises(SubmissionRefused) as refused:
        take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    session.rollback()
    assert [p.code for p in refused.value.problems] == ["certificate_not_registered"]
    assert counts(session) == before


def test_a_unit_names_the_records_of_the_units_it_manages(session, world):
    district = world.orgs["district"]
    district_officer = add_account(session, "canbohuyen", district, (Role.UNIT_OFFICER, district))
    commune_cert = add_certificate(session, world.orgs["commune"])
    request = create_draft(
        session,
        district_officer,
        district.id,
        "revocation",
        {"certificate_id": commune_cert.id, "reason": "retirement"},
    )
    assert request.certificate_id == commune_cert.id


# --- 6. whoever last changed the content does not approve it ------------------------------------------


def test_head_who_edited_a_draft_cannot_approve_it(session, world, api):
    request = draft(session, world)
    head_api = api[Role.UNIT_HEAD]
    edited = head_api.patch(f"/requests/{request.id}", {"fields": {"position": "Phó Chủ tịch"}})
    assert {t["action"] for t in edited["transitions"]} == {"cancel"}
    before = counts(session)
    for action in ("approve", "approve_submit"):
        head_api.refused(
            "POST", f"/requests/{request.id}/transitions", {"action": action}, status=403, code="forbidden"
        )
    assert counts(session) == before
    # Another head of the unit may: four eyes, not a locked request.
    commune = world.orgs["commune"]
    second = add_account(session, "phochutich", commune, (Role.UNIT_HEAD, commune))
    session.expire_all()
    request = session.get(CertificateRequest, request.id)
    apply_transition(session, second, request, Action.APPROVE)
    session.commit()
    assert request.status is RequestStatus.APPROVED


def test_a_returned_request_edited_by_the_head_is_resubmitted_by_someone_else(session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)
    update_request(session, head(world), request, {**request.data, "position": "Phó Chủ tịch"})
    session.commit()
    assert Action.RESUBMIT not in {t.action for t in available_transitions(session, head(world), request)}
    with pytest.raises(PermissionDenied):
        apply_transition(session, head(world), request, Action.RESUBMIT)


# --- 8. the duplicate check does not name other units' requests ---------------------------------------


def test_duplicate_in_another_unit_is_not_named(session, world, api):
    other = world.orgs["other_commune"]
    other_officer = add_account(session, "canboyenphuc", other, (Role.UNIT_OFFICER, other))
    other_head = add_account(session, "chutichyenphuc", other, (Role.UNIT_HEAD, other))
    fields = individual()
    theirs = create_draft(session, other_officer, other.id, "new_individual", dict(fields))
    apply_transition(session, other_head, theirs, Action.APPROVE_SUBMIT)
    session.commit()
    ours = draft(session, world, fields=dict(fields))
    shown = api[Role.UNIT_HEAD].get(f"/requests/{ours.id}")["problems"]
    assert [p["code"] for p in shown] == ["duplicate_open"]
    assert f"số {theirs.id}" not in shown[0]["message"] and "một đề nghị khác" in shown[0]["message"]
    with pytest.raises(SubmissionRefused) as refused:
        take_action(session, head(world), ours, Action.APPROVE_SUBMIT)
    session.rollback()
    assert f"số {theirs.id}" not in refused.value.message and "Yên Phúc" not in refused.value.message
    # The other unit's own head is still told which of its requests it is.
    mine_again = create_draft(session, other_officer, other.id, "new_individual", dict(fields))
    session.commit()
    with pytest.raises(SubmissionRefused) as named:
        take_action(session, other_head, mine_again, Action.APPROVE_SUBMIT)
    session.rollback()
    assert f"đề nghị số {theirs.id}" in named.value.message


# --- 9. simultaneous transitions: exactly one wins ----------------------------------------------------


def test_a_transition_on_a_request_read_before_it_moved_is_refused(app, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    with app.app_context():
        stale = db.session.get(CertificateRequest, request.id)
        assert stale.status is RequestStatus.SUBMITTED
        apply_transition(session, focal(world), request, Action.ACCEPT)
        session.commit()
        before = counts(session)
        with pytest.raises(Conflict) as refused:
            apply_transition(db.session, db.session.get(Account, focal(world).id), stale, Action.RETURN, "Thiếu hồ sơ")
        db.session.rollback()
        assert refused.value.code == "already_changed" and refused.value.http_status == 409
    assert counts(session) == before


def test_eight_simultaneous_accepts_and_returns_one_wins(app, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    clients = [Api(app, session, focal(world)) for _ in range(8)]
    # Read before the threads start: the test's session is not for sharing between threads.
    path = f"/requests/{request.id}/transitions"
    start = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def act(index: int) -> None:
        body = {"action": "accept"} if index % 2 else {"action": "return", "comment": "Thiếu bản sao CCCD"}
        start.wait()
        try:
            response = clients[index].raw("POST", path, body)
        except Exception as error:  # escaped the app (a teardown): shown in the assertion below
            answers[index] = (None, repr(error))
            return
        answers[index] = (response.status_code, (response.get_json() or {}).get("error", {}).get("code"))

    threads = [threading.Thread(target=act, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in answers].count(200) == 1, answers
    assert sorted(status for status, _ in answers if status != 200) == [409] * 7, answers
    assert {code for status, code in answers if status == 409} <= {"already_changed", "transition_refused"}
    session.expire_all()
    moves = session.scalars(
        select(RequestEvent.action).where(
            RequestEvent.request_id == request.id, RequestEvent.from_status == RequestStatus.SUBMITTED
        )
    ).all()
    assert len(moves) == 1
    audited = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.in_(["request.accept", "request.return"]))
    ).all()
    assert audited == [f"request.{moves[0]}"]
    assert session.get(CertificateRequest, request.id).status is (
        RequestStatus.ACCEPTED if moves[0] == "accept" else RequestStatus.RETURNED
    )


@pytest.mark.skipif(PG_URL is not None, reason="SQLite's database lock")
def test_a_transition_kept_waiting_by_another_writer_is_refused_not_a_500(app, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    client = Api(app, session, focal(world))
    before = counts(session)
    # Another writer holds the database past the busy timeout.
    session.execute(
        update(CertificateRequest)
        .where(CertificateRequest.id == request.id)
        .values(updated_at=CertificateRequest.updated_at)
    )
    try:
        client.refused("POST", f"/requests/{request.id}/transitions", {"action": "accept"}, status=409, code="busy")
    finally:
        session.rollback()
    assert counts(session) == before
