"""The outgoing register: symbols, numbers per body and year from 1, no duplicate and no gap even for clerks
taking numbers at the same moment, abandoned numbers kept, the secret series, and paper-only registration."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.models import AuditEntry
from certsvc.documents import register
from certsvc.documents.models import (
    DocumentStatus,
    NumberCounter,
    NumberEntry,
    NumberState,
    OutgoingDocument,
    Series,
)
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.timeutil import utcnow
from tests.conftest import PG_URL
from tests.documents.conftest import document_type, document_values

TODAY = register.vietnam_today()


def signed(session, doc: OutgoingDocument, approved_at=None) -> OutgoingDocument:
    """Arrange: the document as the proposed signer's approval left it (the upload is tested elsewhere)."""
    doc.status = DocumentStatus.SIGNED
    doc.approved_at = approved_at or utcnow()
    session.commit()
    return doc


def test_symbols_as_the_decree_writes_them(session, docs_world):
    district, vhtt = docs_world.org("district"), docs_world.org("vhtt")
    dispatch, decision = document_type(session), document_type(session, "Quyết định")
    assert register.symbol_for(dispatch, district, vhtt, 193) == "193/UBND-VHTT"
    assert register.symbol_for(dispatch, district, vhtt, 5) == "05/UBND-VHTT"
    assert register.symbol_for(dispatch, district, district, 5) == "05/UBND"
    assert register.symbol_for(decision, district, vhtt, 12) == "12/QĐ-UBND"
    assert register.symbol_for(decision, district, district, 1) == "01/QĐ-UBND"


def test_take_number_gives_the_next_number_and_today(session, docs_world, make_document):
    first = register.take_number(session, docs_world["clerk"], signed(session, make_document()))
    session.commit()
    second_doc = signed(session, make_document(document_type_id=document_type(session, "Quyết định").id))
    second = register.take_number(session, docs_world["clerk"], second_doc)
    session.commit()
    assert (first.number, first.symbol, first.issue_date, first.year) == (1, "01/UBND-VHTT", TODAY, TODAY.year)
    assert (second.number, second.symbol, second.state) == (2, "02/QĐ-UBND", NumberState.TAKEN)
    assert second_doc.status is DocumentStatus.NUMBERED and second_doc.number_entry is second
    event = second_doc.events[-1]
    assert (event.action, event.details["symbol"]) == ("take_number", "02/QĐ-UBND")


def test_take_number_only_by_the_clerk_of_the_body(session, docs_world, make_document):
    doc = signed(session, make_document())
    for username in ("drafter", "signer", "reviewer"):
        with pytest.raises(PermissionDenied):
            register.take_number(session, docs_world[username], doc)
        session.rollback()
    with pytest.raises(NotFound):
        register.take_number(session, docs_world["commune_clerk"], doc)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(NumberCounter)) == 0


def test_take_number_is_refused_unless_approved_today(session, docs_world, make_document):
    doc = signed(session, make_document(), approved_at=utcnow() - timedelta(days=1))
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(Conflict) as refused:
        register.take_number(session, docs_world["clerk"], doc)
    session.rollback()
    assert refused.value.code == "approval_not_today"
    assert session.scalar(select(func.count()).select_from(NumberEntry)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_an_abandoned_number_stays_in_the_register_and_is_not_given_again(session, docs_world, make_document):
    doc = signed(session, make_document())
    first = register.take_number(session, docs_world["clerk"], doc)
    session.commit()
    with pytest.raises(ValidationFailed):
        register.abandon_number(session, docs_world["clerk"], doc, "  ")
    session.rollback()
    register.abandon_number(session, docs_world["clerk"], doc, "Ghi nhầm trích yếu")
    session.commit()
    assert doc.status is DocumentStatus.SIGNED and doc.number_entry is None
    second = register.take_number(session, docs_world["clerk"], doc)
    session.commit()
    book = register.register_book(
        session, docs_world["clerk"], docs_world.org("district").id, TODAY.year, Series.OUTGOING
    )
    assert [(e.number, e.state, e.abandon_reason) for e in book] == [
        (1, NumberState.ABANDONED, "Ghi nhầm trích yếu"),
        (2, NumberState.TAKEN, None),
    ]
    assert (first.id, second.number) == (book[0].id, 2)


def test_numbers_restart_on_the_first_of_january(session, docs_world, make_document):
    district = docs_world.org("district")
    last_year = NumberCounter(organisation_id=district.id, year=TODAY.year - 1, series=Series.OUTGOING, last_number=193)
    session.add(last_year)
    session.commit()
    entry = register.take_number(session, docs_world["clerk"], signed(session, make_document()))
    assert entry.number == 1
    assert [register.next_number(session, district.id, year, Series.OUTGOING) for year in (2030, 2030, 2031)] == [
        1,
        2,
        1,
    ]
    assert register.next_number(session, district.id, TODAY.year - 1, Series.OUTGOING) == 194


def test_series_and_bodies_are_numbered_apart(session, docs_world):
    district, commune = docs_world.org("district").id, docs_world.org("commune").id
    taken = [
        register.next_number(session, district, 2030, Series.OUTGOING),
        register.next_number(session, district, 2030, Series.OUTGOING_SECRET),
        register.next_number(session, district, 2030, Series.INCOMING),
        register.next_number(session, commune, 2030, Series.OUTGOING),
        register.next_number(session, district, 2030, Series.OUTGOING),
    ]
    assert taken == [1, 1, 1, 1, 2]


def test_the_register_book_is_seen_only_where_documents_are(session, docs_world):
    year = register.vietnam_today().year
    with pytest.raises(NotFound):
        register.register_book(
            session, docs_world["commune_clerk"], docs_world.org("district").id, year, Series.OUTGOING
        )
    with pytest.raises(NotFound):
        register.register_book(session, docs_world["clerk"], "x", year, Series.OUTGOING)


def paper_values(session, w, **overrides):
    return document_values(session, w, secrecy="secret", summary="Tài liệu mật (trích yếu do văn thư ghi)", **overrides)


def test_a_secret_document_is_registered_on_paper_in_the_secret_series(session, docs_world, make_document):
    register.take_number(session, docs_world["clerk"], signed(session, make_document()))  # 01 of the open series
    session.commit()
    values = paper_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id, issue_date="2026-01-05")
    doc = register.register_paper(session, docs_world["clerk"], values)
    session.commit()
    entry = doc.number_entry
    assert (doc.status, doc.files, doc.drafting_unit_id) == (DocumentStatus.PAPER, [], docs_world.org("vhtt").id)
    assert (entry.series, entry.number, entry.symbol, entry.state) == (
        Series.OUTGOING_SECRET,
        1,
        "01/UBND-VHTT",
        NumberState.USED,
    )
    assert (entry.issue_date, entry.year) == (date(2026, 1, 5), 2026)
    assert [e.action for e in doc.events] == ["register_paper"] and doc.events[0].details["series"] == "outgoing_secret"
    assert [r.organisation_id for r in doc.recipients] == [docs_world.org("commune").id]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"secrecy": "normal"}, "secrecy"),
        ({"issue_date": (TODAY + timedelta(days=1)).isoformat()}, "issue_date"),
        ({"issue_date": "31/02/2026"}, "issue_date"),
        ({"summary": ""}, "summary"),
    ],
)
def test_paper_registration_refuses_bad_values(session, docs_world, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        register.register_paper(session, docs_world["clerk"], {**paper_values(session, docs_world), **overrides})
    session.rollback()
    assert field in refused.value.field_errors
    assert session.scalar(select(func.count()).select_from(OutgoingDocument)) == 0
    assert session.scalar(select(func.count()).select_from(NumberCounter)) == 0


def test_paper_registration_is_the_clerks(session, docs_world):
    for username in ("drafter", "signer", "commune_clerk"):
        with pytest.raises((NotFound, PermissionDenied)):
            register.register_paper(session, docs_world[username], paper_values(session, docs_world))
        session.rollback()
    assert session.scalar(select(func.count()).select_from(OutgoingDocument)) == 0


CLERKS = 16


def race(engine, work) -> tuple[list[int], float]:
    """Run ``work(session, i)`` in :data:`CLERKS` threads at once, each with its own session; the numbers they
    returned and the seconds it took."""
    start = threading.Barrier(CLERKS)
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def clerk(i: int) -> None:
        try:
            with Session(engine) as own:
                own.connection()  # connected before the start
                start.wait()
                numbers = work(own, i)
                with lock:
                    taken.extend(numbers)
        except BaseException as error:
            errors.append(error)

    began = time.perf_counter()
    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return taken, time.perf_counter() - began


def test_clerks_taking_numbers_at_once_get_each_a_number_without_gap(database_url, session, docs_world, make_document):
    """16 clerks, each in its own session and connection, take a number at the same moment: for 16 signed
    documents, then 5 each straight from the counter of another year."""
    if PG_URL is None:
        pytest.skip("the race is a PostgreSQL test (CERTSVC_TEST_DATABASE_URL); SQLite serialises writers")
    district, clerk_id = docs_world.org("district").id, docs_world["clerk"].id
    doc_ids = [signed(session, make_document()).id for _ in range(CLERKS)]
    engine = create_engine(database_url, pool_size=CLERKS)

    def take(own: Session, i: int) -> list[int]:
        entry = register.take_number(own, own.get(Account, clerk_id), own.get(OutgoingDocument, doc_ids[i]))
        own.commit()
        return [entry.number]

    def burst(own: Session, _i: int) -> list[int]:
        numbers = []
        for _ in range(5):
            numbers.append(register.next_number(own, district, 2030, Series.OUTGOING))
            own.commit()
        return numbers

    documents, documents_time = race(engine, take)
    counter, counter_time = race(engine, burst)
    engine.dispose()
    assert sorted(documents) == list(range(1, CLERKS + 1))
    assert sorted(counter) == list(range(1, CLERKS * 5 + 1))
    book = register.register_book(session, docs_world["clerk"], district, TODAY.year, Series.OUTGOING)
    assert [entry.number for entry in book] == list(range(1, CLERKS + 1))
    print(
        f"\n{CLERKS} clerks at once: {CLERKS} documents numbered in {documents_time:.3f} s, "
        f"{len(counter)} numbers from the counter in {counter_time:.3f} s; no duplicate, no gap"
    )
