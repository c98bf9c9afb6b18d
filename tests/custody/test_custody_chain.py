"""The custody register as evidence: the database refuses edits, verification finds forced ones,
and of two handovers of one token started at once exactly one goes ahead.

Forced tampering drops the append-only triggers first, as the database owner could.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from certsvc.audit.service import Actor
from certsvc.custody import handovers
from certsvc.custody.chain import HASHED_COLUMNS, append_event, check_entry, entry_hash, verify_register
from certsvc.custody.cli import custody_group
from certsvc.custody.models import CustodyEvent, CustodyEventKind, CustodyHead, Handover
from certsvc.errors import Conflict
from certsvc.registry.models import Token
from tests.support import chain as chain_support
from tests.support.custody import SETTINGS, handover_form

LENGTH = 8
CLERK = Actor(label="vanthuxa", account_id=1)


def build_register(session: Session, seal) -> list[CustodyEvent]:
    """``LENGTH`` committed entries: the receipt, then inventory checks with Vietnamese text."""
    for number in range(2, LENGTH + 1):
        append_event(
            session,
            CLERK,
            seal.token,
            CustodyEventKind.INVENTORY,
            seal.keeper.person_id,
            {"condition": f"Kiểm kê lần {number}: nguyên vẹn", "seal_numbers": f"NP-{number:04d}"},
        )
        session.commit()
    return entries(session)


def entries(session: Session) -> list[CustodyEvent]:
    return chain_support.entries(session, CustodyEvent)


def unguard(session: Session) -> None:
    chain_support.unguard(session, "custody_event")


def fault_of(session: Session) -> tuple[str, int]:
    return chain_support.fault_of(session, verify_register)


def _row(entry: CustodyEvent, **changes) -> dict:
    row = {column: getattr(entry, column) for column in HASHED_COLUMNS}
    row.update(changes)
    return row


def set_seq(session: Session, old: int, new: int) -> None:
    session.execute(update(CustodyEvent).where(CustodyEvent.seq == old).values(seq=new))


def tamper_update(session, seq):
    session.execute(update(CustodyEvent).where(CustodyEvent.seq == seq).values(details='{"condition":"đã sửa"}'))
    session.commit()


def tamper_rewrite(session, seq):
    """Change an entry and recompute its own hash: consistent in itself, but no longer linked."""
    entry = entries(session)[seq - 1]
    row = _row(entry, details='{"condition":"Hỏng (viết lại)"}')
    session.execute(
        update(CustodyEvent).where(CustodyEvent.seq == seq).values(details=row["details"], hash=entry_hash(**row))
    )
    session.commit()


def tamper_delete(session, seq):
    session.execute(delete(CustodyEvent).where(CustodyEvent.seq == seq))
    session.commit()


def tamper_insert_in_middle(session, seq):
    previous = entries(session)[seq - 2]
    session.execute(update(CustodyEvent).where(CustodyEvent.seq >= seq).values(seq=-CustodyEvent.seq))
    session.execute(update(CustodyEvent).where(CustodyEvent.seq < 0).values(seq=-CustodyEvent.seq + 1))
    forged = _row(
        previous, seq=seq, kind=CustodyEventKind.HANDED_OVER, details='{"forged":true}', prev_hash=previous.hash
    )
    session.execute(insert(CustodyEvent).values(**forged, hash=entry_hash(**forged)))
    session.commit()


def tamper_swap(session, first, second):
    set_seq(session, first, -first)
    set_seq(session, second, first)
    set_seq(session, -first, second)
    session.commit()


def tamper_truncate(session, keep):
    session.execute(delete(CustodyEvent).where(CustodyEvent.seq > keep))
    session.commit()


# -- the database refuses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE custody_event SET details = '{}' WHERE seq = 3",
        "UPDATE custody_event SET keeper_id = NULL WHERE seq = 1",
        "DELETE FROM custody_event WHERE seq = 3",
        "DELETE FROM custody_event",
    ],
)
def test_database_refuses_update_and_delete(session, seal, statement):
    before = [(e.seq, e.details, e.hash) for e in build_register(session, seal)]
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert [(e.seq, e.details, e.hash) for e in entries(session)] == before
    assert verify_register(session).ok


def test_postgresql_refuses_truncate(session, seal):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    build_register(session, seal)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE custody_event CASCADE"))
    session.rollback()
    assert len(entries(session)) == LENGTH


# -- forced tampering is found ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(lambda s: tamper_update(s, 5), ("changed", 5), id="updated"),
        pytest.param(lambda s: tamper_rewrite(s, 3), ("changed", 3), id="rewritten-with-hash"),
        pytest.param(lambda s: tamper_delete(s, 4), ("removed", 4), id="deleted"),
        pytest.param(lambda s: tamper_insert_in_middle(s, 5), ("inserted", 5), id="inserted-in-middle"),
        pytest.param(lambda s: tamper_swap(s, 3, 6), ("reordered", 3), id="reordered"),
        pytest.param(lambda s: tamper_swap(s, 4, 5), ("reordered", 4), id="neighbours-swapped"),
        pytest.param(lambda s: tamper_truncate(s, 5), ("removed", 6), id="truncated"),
    ],
)
def test_forced_tampering_is_found(session, seal, tamper, expected):
    build_register(session, seal)
    unguard(session)
    tamper(session)
    assert fault_of(session) == expected


def test_rewritten_entry_no_longer_matches_its_paper(session, seal):
    chain = build_register(session, seal)
    printed = chain[2].hash
    assert check_entry(session, printed).intact
    unguard(session)
    tamper_rewrite(session, 3)
    assert not check_entry(session, printed).found
    tamper_update(session, 4)
    check = check_entry(session, chain[3].hash)
    assert check.found and not check.intact


def test_cli_verify_names_the_first_bad_entry(app, session, seal):
    build_register(session, seal)
    runner = app.test_cli_runner()
    ok = runner.invoke(custody_group, ["verify"])
    assert ok.exit_code == 0 and f"OK: {LENGTH} entries" in ok.output
    unguard(session)
    tamper_delete(session, 4)
    bad = runner.invoke(custody_group, ["verify"])
    assert bad.exit_code == 1 and "removed at entry #4" in bad.output


# -- concurrency ------------------------------------------------------------------------------------


def test_two_handovers_at_once_exactly_one_succeeds(database_url, session, seal):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    token_id, giver_id = seal.token.id, seal.keeper.id
    form = handover_form(seal)
    barrier, outcomes = threading.Barrier(2), []

    def attempt() -> None:
        engine = create_engine(database_url)
        try:
            with Session(engine) as writer:
                token = writer.get(Token, token_id)
                giver = writer.get(type(seal.keeper), giver_id)
                writer.execute(select(func.count()).select_from(CustodyHead))  # open the transaction first
                barrier.wait(timeout=10)
                try:
                    handovers.start_handover(writer, giver, token, form, SETTINGS)
                    writer.commit()
                    outcomes.append("ok")
                except Conflict:
                    writer.rollback()
                    outcomes.append("conflict")
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Handover)) == 1


def test_concurrent_appends_keep_one_chain(database_url, session, seal):
    token_id, failures = seal.token.id, []

    def write(name: str) -> None:
        engine = create_engine(database_url)
        try:
            with Session(engine) as writer:
                token = writer.get(Token, token_id)
                for number in range(10):
                    append_event(writer, Actor(label=name), token, CustodyEventKind.INVENTORY, None, {"n": number})
                    writer.commit()
        except Exception as error:
            failures.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert [e.seq for e in entries(session)] == list(range(1, 22))
    assert verify_register(session).ok
