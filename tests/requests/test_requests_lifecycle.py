"""The request lifecycle: every transition of the table allowed from its status and refused from
every other, four eyes, edits voiding approval, one event and one audit entry per step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.errors import Conflict, PermissionDenied, ValidationFailed
from certsvc.policy import Permission
from certsvc.requests.models import RequestStatus, RequestType
from certsvc.requests.service import create_draft, update_request
from certsvc.requests.transitions import TRANSITIONS, Action, apply_transition
from tests.support.requests import (
    audit_count,
    bring_to,
    counts,
    draft,
    focal,
    head,
    individual,
    officer,
)

#: Who holds each permission at the commune in the test world.
HOLDER = {
    Permission.DRAFT_REQUESTS: Role.UNIT_OFFICER,
    Permission.APPROVE_REQUESTS: Role.UNIT_HEAD,
    Permission.REVIEW_REQUESTS: Role.FOCAL_OFFICER,
    Permission.MANAGE_BATCHES: Role.FOCAL_OFFICER,
}
STEPS = [t for t in TRANSITIONS if t.action != Action.CREATE]


def _actor_for(world, transition):
    return world.account(HOLDER[sorted(transition.permissions)[0]])


@pytest.mark.parametrize("transition", STEPS, ids=lambda t: f"{t.action}-from-{t.source.value}")
def test_transition_allowed_from_its_status_only(session, world, transition):
    for status in RequestStatus:
        request = bring_to(session, world, draft(session, world), status)
        before = counts(session)
        who = _actor_for(world, transition)
        allowed = any(t.action == transition.action and t.source is status for t in TRANSITIONS)
        if allowed:
            event = apply_transition(session, who, request, transition.action, "Lý do kiểm thử")
            session.commit()
            target = next(t.target for t in TRANSITIONS if t.action == transition.action and t.source is status)
            assert request.status is target
            assert (event.from_status, event.to_status, event.actor_id) == (status, target, who.id)
            assert counts(session) == (before[0], before[1] + 1, before[2] + 1)
            entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
            assert entry.action == f"request.{transition.action}" and entry.object_id == str(request.id)
        else:
            with pytest.raises(Conflict):
                apply_transition(session, who, request, transition.action, "Lý do kiểm thử")
            session.rollback()
            assert counts(session) == before
            assert request.status is status


@pytest.mark.parametrize("transition", STEPS, ids=lambda t: f"{t.action}-from-{t.source.value}")
def test_transition_refused_to_those_without_the_permission(session, world, transition):
    allowed_roles = {HOLDER[p] for p in transition.permissions}
    request = bring_to(session, world, draft(session, world), transition.source)
    before = counts(session)
    for role in Role:
        if role in allowed_roles:
            continue
        with pytest.raises(PermissionDenied):
            apply_transition(session, world.account(role), request, transition.action, "Lý do")
        session.rollback()
    assert counts(session) == before


@pytest.mark.parametrize("action", [Action.APPROVE, Action.APPROVE_SUBMIT, Action.RESUBMIT])
def test_drafter_cannot_approve_or_send_own_request(session, world, action):
    commune = world.orgs["commune"]
    from tests.conftest import add_account

    both = add_account(session, "kiemnhiem", commune, (Role.UNIT_OFFICER, commune), (Role.UNIT_HEAD, commune))
    request = create_draft(session, both, commune.id, RequestType.NEW_INDIVIDUAL, individual())
    session.commit()
    if action == Action.RESUBMIT:
        bring_to(session, world, request, RequestStatus.RETURNED)
    before = counts(session)
    with pytest.raises(PermissionDenied, match="Người soạn"):
        apply_transition(session, both, request, action)
    session.rollback()
    assert counts(session) == before
    apply_transition(session, head(world), request, action)  # another head may
    session.commit()


def test_editing_after_approval_voids_it(session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.APPROVED)
    assert request.approved_by_id == head(world).id
    update_request(session, officer(world), request, {**request.data, "position": "Phó Chủ tịch UBND xã"})
    session.commit()
    assert request.status is RequestStatus.DRAFT and request.approved_by_id is None
    last = request.events[-1]
    assert (last.action, last.from_status, last.to_status) == (
        "void_approval",
        RequestStatus.APPROVED,
        RequestStatus.DRAFT,
    )
    assert "hủy" in last.comment
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "request.void_approval" and "Phó Chủ tịch" in entry.details


def test_edit_that_changes_nothing_writes_nothing(session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.APPROVED)
    before = counts(session)
    update_request(session, officer(world), request, dict(request.data))
    session.commit()
    assert counts(session) == before and request.status is RequestStatus.APPROVED


def test_returned_request_is_edited_and_resubmitted(session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)
    update_request(session, officer(world), request, {**request.data, "phone": "0987654321"})
    assert request.status is RequestStatus.RETURNED
    apply_transition(session, head(world), request, Action.RESUBMIT, "Đã bổ sung số điện thoại")
    session.commit()
    assert request.status is RequestStatus.SUBMITTED
    assert [e.action for e in request.events] == ["create", "approve_submit", "return", "edit", "resubmit"]


@pytest.mark.parametrize(
    "status",
    [RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.SENT, RequestStatus.DONE, RequestStatus.CANCELLED],
)
def test_request_cannot_be_edited_once_sent_to_the_focal_office(session, world, status):
    request = bring_to(session, world, draft(session, world), status)
    before = counts(session)
    with pytest.raises(Conflict):
        update_request(session, officer(world), request, {**request.data, "phone": "0987654321"})
    session.rollback()
    assert counts(session) == before


@pytest.mark.parametrize("action", [Action.RETURN, Action.CANCEL, Action.REJECT])
def test_a_reason_is_required(session, world, action):
    source = next(t.source for t in TRANSITIONS if t.action == action)
    request = bring_to(session, world, draft(session, world), source)
    who = _actor_for(world, next(t for t in TRANSITIONS if t.action == action))
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        apply_transition(session, who, request, action, "   ")
    assert "lý do" in refused.value.field_errors["comment"]
    session.rollback()
    assert counts(session) == before


def test_create_draft_validates_like_the_form(session, world):
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        create_draft(
            session,
            officer(world),
            world.orgs["commune"].id,
            "new_individual",
            individual(cccd="12345", email="khong-hop-le", phone="123", full_name=""),
        )
    assert set(refused.value.field_errors) == {"cccd", "email", "phone", "full_name"}
    assert "12 chữ số" in refused.value.field_errors["cccd"]
    session.rollback()
    assert counts(session) == before


def test_create_draft_only_in_own_unit(session, world):
    with pytest.raises(PermissionDenied):
        create_draft(session, officer(world), world.orgs["other_commune"].id, "new_individual", individual())
    with pytest.raises(PermissionDenied):
        create_draft(session, focal(world), world.orgs["commune"].id, "new_individual", individual())


def test_create_draft_records_the_first_event_and_one_audit_entry(session, world):
    before = audit_count(session)
    request = draft(session, world)
    assert request.status is RequestStatus.DRAFT and request.created_by_id == officer(world).id
    assert [(e.action, e.from_status, e.to_status) for e in request.events] == [("create", None, RequestStatus.DRAFT)]
    assert audit_count(session) == before + 1
    assert request.data["phone"] == "0912345678" and request.data["validity_years"] == 5
