"""Batches: collecting accepted requests, the atomic lock (two officers at once: one wins), the
letter and annex, marking sent, and the CA's answer recorded per request into the registries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from certsvc.audit.models import AuditEntry
from certsvc.core.workdays import WorkCalendar
from certsvc.errors import Conflict, ValidationFailed
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, TokenState
from certsvc.registry.tokens import change_state
from certsvc.requests import batches
from certsvc.requests.letters import annex_tables, build_document, letter_data
from certsvc.requests.models import Batch, BatchStatus, RequestStatus, RequestType
from certsvc.timeutil import to_vietnam, utcnow
from tests.support.registry import TESTER, add_certificate, make_cert, pem
from tests.support.requests import (
    bring_to,
    counts,
    draft,
    focal,
    individual,
    open_batch,
)

#: The work calendar of an app configured with nothing (counts a revoked token's return deadline).
CALENDAR = WorkCalendar()


def _accepted(session, world, kind="new_individual", fields=None, org="commune"):
    return bring_to(session, world, draft(session, world, kind, fields, org), RequestStatus.ACCEPTED)


def _locked(session, world, *requests):
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [r.id for r in requests])
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


def _sent_date(batch):
    return to_vietnam(batch.locked_at).date().isoformat()


def test_add_lock_and_documents(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    people = [_accepted(session, world, fields=individual(full_name=f"Nguyễn Văn Tĩnh {n}")) for n in range(3)]
    revocation = _accepted(
        session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "retirement"}
    )
    batch = open_batch(session, world)
    assert {r.id for r in batches.candidates(session, batch)} == {r.id for r in [*people, revocation]}
    with pytest.raises(Conflict):
        build_document(batch, "letter.pdf")  # not before the lock
    assert batches.add_requests(session, focal(world), batch, [r.id for r in [*people, revocation]]) == 4
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    assert batch.status is BatchStatus.LOCKED and all(r.status is RequestStatus.IN_BATCH for r in batch.requests)
    tables = annex_tables(batch)
    assert [len(t.rows) for t in tables] == [3, 1]
    assert "Họ và tên" in tables[0].columns and "Nguyễn Văn Tĩnh 0" in tables[0].rows[0]
    assert "Nghỉ hưu" in tables[1].rows[0]
    letter = letter_data(batch)
    assert letter.symbol == "UBND-VHTT" and letter.issuing_body == "HUYỆN VĂN QUAN" and letter.place == "Văn Quan"
    assert dict(letter.counts) == {RequestType.NEW_INDIVIDUAL.label: 3, RequestType.REVOCATION.label: 1}
    _, csv = build_document(batch, "annex.csv")
    assert "Nguyễn Văn Tĩnh 2" in csv.decode("utf-8-sig")
    _, xlsx = build_document(batch, "annex.xlsx")
    assert xlsx[:2] == b"PK"


def test_add_is_all_or_nothing_and_only_accepted_requests_of_served_units(session, world):
    good = _accepted(session, world)
    submitted = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    batch = open_batch(session, world)
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        batches.add_requests(session, focal(world), batch, [good.id, submitted.id])
    assert f"Đề nghị số {submitted.id}" in refused.value.field_errors["request_ids"]
    session.rollback()
    assert counts(session) == before and good.status is RequestStatus.ACCEPTED and good.batch_id is None


def test_lock_refuses_an_empty_batch_and_a_second_lock(session, world):
    batch = open_batch(session, world)
    with pytest.raises(ValidationFailed):
        batches.lock_batch(session, focal(world), batch)
    session.rollback()
    batch = _locked(session, world, _accepted(session, world))
    with pytest.raises(Conflict):
        batches.lock_batch(session, focal(world), batch)
    with pytest.raises(Conflict):
        batches.add_requests(session, focal(world), batch, [_accepted(session, world).id])


def test_two_officers_locking_at_once_exactly_one_wins(database_url, session, world):
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [_accepted(session, world).id])
    session.commit()
    engine = create_engine(database_url, connect_args={"timeout": 30} if database_url.startswith("sqlite") else {})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer_locks():
        with Session(engine) as own:
            mine = own.get(Batch, batch.id)
            officer = own.merge(focal(world), load=True)
            assert mine.status is BatchStatus.OPEN and mine.requests
            barrier.wait()
            try:
                batches.lock_batch(own, officer, mine)
                own.commit()
                outcomes.append("won")
            except Conflict as lost:
                own.rollback()
                outcomes.append(lost.code)

    threads = [threading.Thread(target=officer_locks) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    # The loser passed the status check too: the conditional UPDATE is what refused it.
    assert sorted(outcomes) == ["batch_lock_lost", "won"]
    session.expire_all()
    assert session.get(Batch, batch.id).status is BatchStatus.LOCKED
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.locked")).all()) == 1


@pytest.mark.parametrize(
    "number, message",
    [
        ("", "Bắt buộc"),
        ("12-UBND", "12/UBND-VHTT"),
        ("UBND/12", "12/UBND-VHTT"),
        ("12/", "12/UBND-VHTT"),
        ("12/UBND-", "12/UBND-VHTT"),
        ("12/UBND VHTT x", "12/UBND-VHTT"),
    ],
)
def test_mark_sent_validates_the_document_number(session, world, number, message):
    batch = _locked(session, world, _accepted(session, world))
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        batches.mark_sent(session, focal(world), batch, {"document_number": number, "document_date": _sent_date(batch)})
    assert message in refused.value.field_errors["document_number"]
    session.rollback()
    assert counts(session) == before and batch.status is BatchStatus.LOCKED


def test_mark_sent_validates_the_date_and_the_status(session, world):
    request = _accepted(session, world)
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [request.id])
    with pytest.raises(Conflict):
        batches.mark_sent(
            session, focal(world), batch, {"document_number": "12/UBND-VHTT", "document_date": "2026-01-01"}
        )
    batches.lock_batch(session, focal(world), batch)
    tomorrow = (to_vietnam(utcnow()) + timedelta(days=1)).date().isoformat()
    for day, message in ((tomorrow, "sau hôm nay"), ("2020-01-01", "trước ngày chốt"), ("31/02/2026", "không hợp lệ")):
        with pytest.raises(ValidationFailed) as refused:
            batches.mark_sent(session, focal(world), batch, {"document_number": "12/UBND-VHTT", "document_date": day})
        assert message in refused.value.field_errors["document_date"]
    batches.mark_sent(
        session, focal(world), batch, {"document_number": " số: 07/ubnd-vhtt ", "document_date": _sent_date(batch)}
    )
    session.commit()
    assert (batch.status, batch.document_number) == (BatchStatus.SENT, "07/UBND-VHTT")
    assert request.status is RequestStatus.SENT and "07/UBND-VHTT" in request.events[-1].comment


def _sent(session, world, kind="new_individual", fields=None):
    return bring_to(session, world, draft(session, world, kind, fields), RequestStatus.SENT)


def test_new_certificate_outcome_registers_the_issued_certificate(session, world):
    fields = individual(full_name="Lộc Thị Hoa")
    request = _sent(session, world, fields=fields)
    wrong = pem(make_cert("Người Khác", f"CCCD:{'9' * 12}"))
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        batches.record_outcome(session, focal(world), request, {"outcome": "done"}, wrong, calendar=CALENDAR)
    assert "không khớp" in refused.value.field_errors["certificate_file"]
    with pytest.raises(ValidationFailed):
        batches.record_outcome(
            session, focal(world), request, {"outcome": "done"}, b"khong phai chung thu", calendar=CALENDAR
        )
    with pytest.raises(ValidationFailed):
        batches.record_outcome(session, focal(world), request, {"outcome": "done"}, None, calendar=CALENDAR)
    session.rollback()
    assert counts(session) == before
    issued = pem(make_cert("Lộc Thị Hoa", f"CCCD:{request.data['cccd']}"))
    result = batches.record_outcome(
        session, focal(world), request, {"outcome": "done", "token_serial": "TKHOA01"}, issued, calendar=CALENDAR
    )
    session.commit()
    assert result.status is RequestStatus.DONE and request.status is RequestStatus.DONE
    cert = session.get(Certificate, result.certificate_id)
    person = session.scalar(select(Person).where(Person.cccd == request.data["cccd"]))
    assert cert.holder_id == person.id and cert.token.serial == "TKHOA01"
    assert request.issued_certificate_id == cert.id and request.subject_person_id == person.id


def test_renewal_outcome_links_the_successor(session, world):
    old = add_certificate(session, world.orgs["commune"])
    request = _sent(session, world, "renewal", {"certificate_serial": old.serial_hex, "extension_years": "2"})
    new = pem(make_cert("Nguyễn Văn An", old.subject_uid, ends=timedelta(days=1500)))
    result = batches.record_outcome(session, focal(world), request, {"outcome": "done"}, new, calendar=CALENDAR)
    session.commit()
    assert session.get(Certificate, result.certificate_id).predecessor_id == old.id


def test_revocation_and_recovery_outcomes(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    revocation = _sent(session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "lost_token"})
    batches.record_outcome(session, focal(world), revocation, {"outcome": "done"}, calendar=CALENDAR)
    session.commit()
    assert cert.revoked_at is not None and "Mất thiết bị" in cert.revocation_reason

    other = add_certificate(session, world.orgs["commune"])
    change_state(session, TESTER, other.token, TokenState.PIN_LOCKED, "Nhập sai PIN")
    session.commit()
    recovery = _sent(session, world, "recovery", {"token_serial": other.token.serial, "problem": "pin_locked"})
    batches.record_outcome(session, focal(world), recovery, {"outcome": "done"}, calendar=CALENDAR)
    session.commit()
    assert other.token.state is TokenState.ACTIVE and other.token.recoveries == 1


def _pin_locked_certificate(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    change_state(session, TESTER, cert.token, TokenState.PIN_LOCKED, "Nhập sai PIN")
    session.commit()
    return cert


def test_a_completed_revocation_cancels_the_token_s_recovery_not_yet_in_a_batch(session, world):
    cert = _pin_locked_certificate(session, world)
    recovery = bring_to(
        session,
        world,
        draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"}),
        RequestStatus.SUBMITTED,
    )
    revocation = _sent(session, world, "revocation", {"certificate_id": cert.id, "reason": "lost_token"})
    batches.record_outcome(session, focal(world), revocation, {"outcome": "done"}, calendar=CALENDAR)
    session.commit()
    assert revocation.status is RequestStatus.DONE and recovery.status is RequestStatus.CANCELLED
    cancelled = recovery.events[-1]
    assert f"thu hồi theo đề nghị số {revocation.id}" in cancelled.comment
    assert cancelled.actor_id == focal(world).id
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "request.cancel").order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.object_id == str(recovery.id) and entry.actor_id == focal(world).id
    assert f'"revocation_request_id":{revocation.id}' in entry.details
    assert cert.token.state is TokenState.PIN_LOCKED  # going back to the CA, not recovered


def test_a_recovery_already_sent_cannot_complete_once_the_certificate_is_revoked(session, world):
    cert = _pin_locked_certificate(session, world)
    recovery = _sent(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"})
    revocation = _sent(session, world, "revocation", {"certificate_id": cert.id, "reason": "key_compromise"})
    batches.record_outcome(session, focal(world), revocation, {"outcome": "done"}, calendar=CALENDAR)
    session.commit()
    assert recovery.status is RequestStatus.SENT  # its batch went to the CA: the CA's answer closes it
    before = counts(session)
    with pytest.raises(Conflict) as refused:
        batches.record_outcome(session, focal(world), recovery, {"outcome": "done"}, calendar=CALENDAR)
    session.rollback()
    assert refused.value.code == "token_being_returned" and "phải nộp lại" in refused.value.message
    assert counts(session) == before and cert.token.state is TokenState.PIN_LOCKED
    batches.record_outcome(
        session,
        focal(world),
        recovery,
        {"outcome": "rejected", "comment": "Thiết bị đã nộp lại do thu hồi chứng thư"},
        calendar=CALENDAR,
    )
    session.commit()
    assert recovery.status is RequestStatus.REJECTED


def test_rejected_outcome_needs_a_reason(session, world):
    request = _sent(session, world)
    with pytest.raises(ValidationFailed):
        batches.record_outcome(
            session, focal(world), request, {"outcome": "rejected", "comment": " "}, calendar=CALENDAR
        )
    with pytest.raises(ValidationFailed):
        batches.record_outcome(session, focal(world), request, {"outcome": "maybe"}, calendar=CALENDAR)
    batches.record_outcome(
        session, focal(world), request, {"outcome": "rejected", "comment": "Sai số CCCD"}, calendar=CALENDAR
    )
    session.commit()
    assert request.status is RequestStatus.REJECTED and request.events[-1].comment == "Sai số CCCD"
    with pytest.raises(Conflict):
        batches.record_outcome(
            session, focal(world), request, {"outcome": "rejected", "comment": "lần nữa"}, calendar=CALENDAR
        )
