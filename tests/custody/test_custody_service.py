"""Rules of the custody register: handovers, confirmations, expiry, loss, the keeper derived from the register."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from certsvc.audit.models import AuditEntry
from certsvc.custody import book, entries, handovers, service
from certsvc.custody.chain import verify_register
from certsvc.custody.models import CustodyEvent, CustodyEventKind, Handover, HandoverStatus
from certsvc.errors import Conflict, PermissionDenied, ValidationFailed
from certsvc.registry.models import TokenState
from tests.support.custody import SETTINGS, handover_form


def _counts(session):
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) for model in (CustodyEvent, Handover, AuditEntry)
    )


def _complete(session, seal, **changes):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal, **changes), SETTINGS)
    session.commit()
    handovers.confirm_handover(session, seal.keeper, handover)
    handovers.confirm_handover(session, seal.witness_account, handover)
    session.commit()
    event = handovers.confirm_handover(session, seal.other, handover)
    session.commit()
    return handover, event


def test_receiving_starts_the_register_and_names_the_keeper(session, seal):
    assert service.current_keeper(session, seal.token).id == seal.keeper.person_id
    assert seal.token.state is TokenState.ACTIVE
    assert seal.received.seq == 1 and verify_register(session).ok


def test_handover_completes_when_both_confirm_and_moves_the_keeper(session, seal):
    handover, event = _complete(session, seal)
    assert event is not None and event.kind is CustodyEventKind.HANDED_OVER
    assert handover.status is HandoverStatus.COMPLETED and handover.event_seq == event.seq
    assert service.current_keeper(session, seal.token).id == seal.other.person_id
    details = book.details_of(event)
    assert details["giver_name"] == "Hoàng Thị Thu" and details["witness_name"] == "Triệu Thị Hương"
    assert details["decision_number"] == "15/QĐ-UBND" and details["seal_numbers"] == "NP-0002"
    assert verify_register(session).ok


def test_one_confirmation_leaves_it_pending(session, seal):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    assert handovers.confirm_handover(session, seal.other, handover) is None
    session.commit()
    assert handover.status is HandoverStatus.PENDING
    assert service.current_keeper(session, seal.token).id == seal.keeper.person_id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"giver_id": "other"}, "giver_id", id="giver-not-keeper"),
        pytest.param({"receiver_id": "keeper"}, "receiver_id", id="to-oneself"),
        pytest.param({"witness_id": "other"}, "witness_id", id="witness-is-receiver"),
        pytest.param({"witness_id": "keeper"}, "witness_id", id="witness-is-giver"),
        pytest.param({"witness_id": ""}, "witness_id", id="no-witness"),
        pytest.param({"decision_number": "", "decision_date": ""}, "decision_number", id="no-permission"),
        pytest.param({"place": ""}, "place", id="no-place"),
        pytest.param({"handed_time": "25:00"}, "handed_time", id="bad-time"),
        pytest.param({"receiver_id": "witness"}, "receiver_id", id="receiver-without-account"),
    ],
)
def test_bad_handover_is_refused_and_nothing_written(session, seal, changes, field):
    people = {
        "other": str(seal.other.person_id),
        "keeper": str(seal.keeper.person_id),
        "witness": str(seal.witness.id),
        "": "",
    }
    before = _counts(session)
    with pytest.raises(ValidationFailed) as refused:
        handovers.start_handover(
            session,
            seal.keeper,
            seal.token,
            handover_form(seal, **{k: people.get(v, v) for k, v in changes.items()}),
            SETTINGS,
        )
    session.rollback()
    assert field in refused.value.field_errors
    assert all(ord(c) < 0x2000 for c in refused.value.field_errors[field])  # Vietnamese text, no stray symbols
    assert _counts(session) == before


@pytest.mark.parametrize("state", [TokenState.LOST, TokenState.RETURNED])
def test_lost_or_returned_token_is_not_handed_over(session, seal, state):
    session.execute(update(type(seal.token)).where(type(seal.token).id == seal.token.id).values(state=state))
    session.commit()
    before = _counts(session)
    with pytest.raises(ValidationFailed, match="không bàn giao"):
        handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.rollback()
    assert _counts(session) == before


def test_witness_optional_by_setting(session, seal):
    relaxed = service.CustodySettings(witness_required=False)
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal, witness_id=""), relaxed)
    assert handover.witness is None


def test_wrong_person_cannot_confirm(session, seal):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.commit()
    with pytest.raises(PermissionDenied):
        handovers.confirm_handover(session, seal.head, handover)
    session.rollback()
    handovers.confirm_handover(session, seal.keeper, handover)
    session.commit()
    with pytest.raises(Conflict):
        handovers.confirm_handover(session, seal.keeper, handover)


def test_in_app_approval_by_the_unit_head(session, seal):
    handover = handovers.start_handover(
        session,
        seal.keeper,
        seal.token,
        handover_form(seal, decision_number="", decision_date="", ask_approval="y"),
        SETTINGS,
    )
    handovers.confirm_handover(session, seal.keeper, handover)
    handovers.confirm_handover(session, seal.witness_account, handover)
    assert handovers.confirm_handover(session, seal.other, handover) is None  # still waits for the head
    with pytest.raises(PermissionDenied):
        handovers.approve_handover(session, seal.other, handover)
    event = handovers.approve_handover(session, seal.head, handover)
    session.commit()
    assert event is not None and book.details_of(event)["approved_by"] == "Lành Văn Hải"


def test_pending_handover_expires(session, seal, monkeypatch):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.commit()
    later = handover.expires_at + timedelta(minutes=1)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    monkeypatch.setattr(handovers, "utcnow", lambda: later)
    assert service.effective_status(handover) is HandoverStatus.EXPIRED
    with pytest.raises(Conflict, match="hết hạn"):
        handovers.confirm_handover(session, seal.keeper, handover)
    session.rollback()
    # its claim on the token lapsed with it: a new handover may start, and the old one stays dead
    fresh = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.commit()
    assert fresh.id != handover.id and service.effective_status(fresh) is HandoverStatus.PENDING
    with pytest.raises(Conflict):
        handovers.confirm_handover(session, seal.other, handover)


def test_expiry_hours_come_from_the_setting(session, seal):
    quick = service.CustodySettings(witness_required=True, pending_hours=2)
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), quick)
    assert handover.expires_at - handover.created_at == timedelta(hours=2)
    assert service.CustodySettings.from_config(
        {"CERTSVC_CUSTODY_PENDING_HOURS": "6", "CERTSVC_CUSTODY_WITNESS_REQUIRED": "no"}
    ) == service.CustodySettings(witness_required=False, pending_hours=6)


def test_custody_settings_come_from_the_config_only(monkeypatch):
    typed = {"CERTSVC_CUSTODY_PENDING_HOURS": 12, "CERTSVC_CUSTODY_WITNESS_REQUIRED": False}  # as load_config stores
    assert service.CustodySettings.from_config(typed) == service.CustodySettings(
        witness_required=False, pending_hours=12
    )
    monkeypatch.setenv("CERTSVC_CUSTODY_PENDING_HOURS", "6")
    monkeypatch.setenv("CERTSVC_CUSTODY_WITNESS_REQUIRED", "no")
    assert service.CustodySettings.from_config({}) == service.CustodySettings()


def test_second_handover_while_one_is_pending_is_refused(session, seal):
    handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.commit()
    before = _counts(session)
    with pytest.raises(Conflict):
        handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.rollback()
    assert _counts(session) == before


def test_keeper_follows_the_register_through_loss_and_finding(session, seal):
    _complete(session, seal)
    report = entries.report_loss(
        session,
        seal.other,
        seal.token,
        {"circumstances": "Để quên trong túi xách bị mất trộm", "place": "Chợ Văn Quan"},
    )
    session.commit()
    assert seal.token.state is TokenState.LOST and service.current_keeper(session, seal.token) is None
    assert report.event.kind is CustodyEventKind.LOST
    with pytest.raises(ValidationFailed):
        handovers.start_handover(session, seal.other, seal.token, handover_form(seal), SETTINGS)
    session.rollback()
    entries.record_event(
        session,
        seal.head,
        seal.token,
        {"kind": "found", "keeper_id": str(seal.keeper.person_id), "note": "Công an xã trả lại"},
    )
    session.commit()
    assert service.current_keeper(session, seal.token).id == seal.keeper.person_id
    assert [e.kind.value for e in service.events_of(session, seal.token)] == [
        "received",
        "handed_over",
        "lost",
        "found",
    ]
    assert verify_register(session).ok


def test_loss_cancels_a_pending_handover(session, seal):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    session.commit()
    entries.report_loss(session, seal.keeper, seal.token, {"circumstances": "Mất khi đi công tác"})
    session.commit()
    session.refresh(handover)
    assert handover.status is HandoverStatus.CANCELLED


def test_return_to_ca_ends_custody(session, seal):
    event = entries.record_event(
        session,
        seal.keeper,
        seal.token,
        {
            "kind": "returned",
            "ca_name": "Cục Chứng thực số và Bảo mật thông tin",
            "ca_representative": "Phạm Văn An",
            "reason": "Chứng thư số đã thu hồi",
        },
    )
    session.commit()
    assert event.keeper_id is None and seal.token.state is TokenState.RETURNED
    with pytest.raises(ValidationFailed):
        handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)


def test_loss_drafts_the_revocation_request_for_the_focal_office(session, seal, world):
    # The keeper (a clerk) may not draft ordinary requests, but the loss drafts Mẫu 05 in their name.
    report = entries.report_loss(session, seal.keeper, seal.token, {"circumstances": "Mất khi đi công tác"})
    session.commit()
    draft = report.revocation_request
    assert draft is not None and draft.request_type.value == "revocation"
    assert draft.status.value == "draft" and draft.created_by_id == seal.keeper.id
    assert draft.data["reason"] == "lost_token" and seal.token.serial in draft.data["reason_detail"]
    assert seal.token.state is TokenState.LOST


def test_second_loss_report_does_not_draft_twice(session, seal):
    first = entries.report_loss(session, seal.keeper, seal.token, {"circumstances": "Mất khi đi công tác"})
    session.commit()
    assert first.revocation_request is not None
    with pytest.raises(ValidationFailed):
        entries.report_loss(session, seal.keeper, seal.token, {"circumstances": "Báo lại"})
    assert verify_register(session).ok
