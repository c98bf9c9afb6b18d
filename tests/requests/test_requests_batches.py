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
from certsvc.documents.models import DocumentStatus
from certsvc.errors import Conflict, ValidationFailed
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, TokenState
from certsvc.registry.tokens import change_state
from certsvc.requests import batches
from certsvc.requests.letters import annex_tables, build_document, letter_data
from certsvc.requests.models import Batch, BatchStatus, RequestStatus, RequestType
from certsvc.timeutil import to_vietnam, utcnow
from tests.support.registry import TESTER, add_certificate, make_cert, pem, trust_test_issuer
from tests.support.requests import (
    bring_to,
    counts,
    create_letter,
    draft,
    focal,
    individual,
    issue_letter,
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
    assert (
        letter.symbol == "UBND-VHTT"
        and (letter.issuing_body_parent, letter.issuing_body) == ("", "ỦY BAN NHÂN DÂN\nHUYỆN VĂN QUAN")
        and letter.place == "Văn Quan"
    )
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


def test_mark_sent_is_refused_until_the_letter_is_issued(session, world):
    request = _accepted(session, world)
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [request.id])
    with pytest.raises(Conflict) as still_open:
        batches.mark_sent(session, focal(world), batch)
    assert still_open.value.code == "batch_not_locked"
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    before = counts(session)
    with pytest.raises(Conflict) as no_letter:
        batches.mark_sent(session, focal(world), batch)
    assert no_letter.value.code == "letter_not_issued" and "ký phát hành" in no_letter.value.message
    letter = create_letter(session, world, batch)
    before = counts(session)
    for status in (DocumentStatus.DRAFT, DocumentStatus.SIGNED, DocumentStatus.NUMBERED, DocumentStatus.CANCELLED):
        letter.status = status
        with pytest.raises(Conflict) as not_issued:
            batches.mark_sent(session, focal(world), batch)
        assert not_issued.value.code == "letter_not_issued"
    session.rollback()
    assert counts(session) == before
    assert (batch.status, batch.document_number, request.status) == (BatchStatus.LOCKED, None, RequestStatus.IN_BATCH)


def test_mark_sent_takes_the_number_and_date_from_the_register(session, world):
    request = _accepted(session, world)
    batch = _locked(session, world, request)
    letter = issue_letter(session, world, batch)
    entry = letter.number_entry
    assert entry.symbol == "01/UBND-VHTT" and entry.issue_date == to_vietnam(utcnow()).date()
    batches.mark_sent(session, focal(world), batch)
    session.commit()
    assert (batch.status, batch.document_number, batch.document_date) == (
        BatchStatus.SENT,
        "01/UBND-VHTT",
        entry.issue_date,
    )
    assert request.status is RequestStatus.SENT and "Công văn số 01/UBND-VHTT ngày" in request.events[-1].comment
    sent = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.sent")).one()
    assert '"document_number":"01/UBND-VHTT"' in sent.details and f'"letter_document_id":{letter.id}' in sent.details


@pytest.mark.parametrize(
    "given, field",
    [
        ({"document_number": "12/UBND-VHTT"}, "document_number"),
        ({"document_number": "12 UBND"}, "document_number"),
        ({"document_date": "2020-01-01"}, "document_date"),
        ({"document_date": "31/02/2026"}, "document_date"),
    ],
)
def test_mark_sent_accepts_a_typed_number_only_when_it_is_the_register_s(session, world, given, field):
    batch = _locked(session, world, _accepted(session, world))
    entry = issue_letter(session, world, batch).number_entry
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        batches.mark_sent(session, focal(world), batch, given)
    assert field in refused.value.field_errors
    session.rollback()
    assert counts(session) == before and batch.status is BatchStatus.LOCKED
    batches.mark_sent(
        session,
        focal(world),
        batch,
        {"document_number": f" số: {entry.symbol.lower()} ", "document_date": entry.issue_date.isoformat()},
    )
    assert batch.document_number == entry.symbol


def _sent(session, world, kind="new_individual", fields=None):
    return bring_to(session, world, draft(session, world, kind, fields), RequestStatus.SENT)


def test_new_certificate_outcome_registers_the_issued_certificate(session, world):
    fields = individual(full_name="Lộc Thị Hoa")
    request = _sent(session, world, fields=fields)
    trust_test_issuer(session)
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
    trust_test_issuer(session)
    # two years past the old one's end (700 days from now), as asked
    new = pem(make_cert("Nguyễn Văn An", old.subject_uid, ends=timedelta(days=1400)))
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


def test_a_completed_revocation_cancels_the_token_s_recovery_not_yet_in_a_batch(session, world, make_browser):
    cert = _pin_locked_certificate(session, world)
    recovery = bring_to(
        session,
        world,
        draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"}),
        RequestStatus.SUBMITTED,
    )
    revocation = _sent(session, world, "revocation", {"certificate_id": cert.id, "reason": "lost_token"})
    session.commit()
    page = make_browser()
    page.login("focalofficer")
    response = page.post(f"/requests/{revocation.id}/outcome", {"outcome": "done"})
    assert response.status_code == 302
    # the officer is told which request the revocation cancelled
    shown = page.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Đề nghị khôi phục thiết bị số {recovery.id} đã tự động hủy" in shown
    session.expire_all()
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
