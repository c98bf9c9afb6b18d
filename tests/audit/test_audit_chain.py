"""The audit log as evidence: the database refuses edits, and verification finds forced ones.

Forced tampering drops the append-only triggers first, as someone with the database
owner's rights could, and then edits rows the way such a person would.
"""

from __future__ import annotations

import itertools
import json
import threading
import unicodedata

import pytest
from sqlalchemy import create_engine, delete, insert, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from certsvc.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from certsvc.audit.service import Actor, entry_hash, record, verify_chain
from tests.support import chain as chain_support

CHAIN_LENGTH = 8
CLERK = Actor(label="clerk", account_id=7)

VIETNAMESE_DETAILS = {
    "name": "Phòng Văn hóa và Thông tin",
    "decomposed": unicodedata.normalize("NFD", "Ủy ban nhân dân xã Tân Đoàn"),
    "quotes": 'Ký hiệu "VHTT" \\ dòng 1\ndòng 2',
    "beyond_bmp": "𝔸 chữ ký số ✍",
    "nested": {"changes": {"address": [None, "Thị trấn Văn Quan, tỉnh Lạng Sơn"]}},
}


def build_chain(session: Session, length: int = CHAIN_LENGTH) -> list[AuditEntry]:
    """``length`` committed entries, each with Vietnamese text in its details."""
    for number in range(1, length + 1):
        record(
            session,
            CLERK,
            "org.updated",
            "organisation",
            number,
            {"step": number, "name": f"Phòng Văn hóa và Thông tin {number}"},
        )
        session.commit()
    return entries(session)


def entries(session: Session) -> list[AuditEntry]:
    return chain_support.entries(session, AuditEntry)


def unguard(session: Session) -> None:
    chain_support.unguard(session, "audit_log")


def fault_of(session: Session) -> tuple[str, int]:
    return chain_support.fault_of(session, verify_chain)


def forged_row(*, seq: int, prev_hash: str, occurred_at) -> dict:
    """A row that links to ``prev_hash``, with a correctly computed hash."""
    row = dict(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=None,
        actor_label="system",
        action="role.granted",
        object_type="account",
        object_id="1",
        details='{"forged":true}',
        prev_hash=prev_hash,
    )
    return {**row, "hash": entry_hash(**row)}


def shift_up_from(session: Session, seq: int) -> None:
    """Renumber the entries from ``seq`` on one place up, through negative numbers to avoid key clashes."""
    session.execute(update(AuditEntry).where(AuditEntry.seq >= seq).values(seq=-AuditEntry.seq))
    session.execute(update(AuditEntry).where(AuditEntry.seq < 0).values(seq=-AuditEntry.seq + 1))


def set_seq(session: Session, old: int, new: int) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == old).values(seq=new))


# -- tampering, one function per way; used here and by the command-line tests ---------------------


def tamper_change_details(session: Session, seq: int) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(details='{"step":"sửa"}'))
    session.commit()


def tamper_delete(session: Session, seq: int) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.seq == seq))
    session.commit()


def tamper_insert_in_middle(session: Session, seq: int) -> None:
    previous = entries(session)[seq - 2]
    shift_up_from(session, seq)
    session.execute(
        insert(AuditEntry).values(**forged_row(seq=seq, prev_hash=previous.hash, occurred_at=previous.occurred_at))
    )
    session.commit()


def tamper_append(session: Session) -> None:
    """A forged last entry with a valid hash, the chain head left as it was."""
    last = entries(session)[-1]
    session.execute(
        insert(AuditEntry).values(**forged_row(seq=last.seq + 1, prev_hash=last.hash, occurred_at=last.occurred_at))
    )
    session.commit()


def tamper_prepend(session: Session) -> None:
    first = entries(session)[0]
    session.execute(
        insert(AuditEntry).values(**forged_row(seq=0, prev_hash=GENESIS_HASH, occurred_at=first.occurred_at))
    )
    session.commit()


def tamper_rewrite(session: Session, seq: int, **changes) -> None:
    """Change an entry and recompute its hash, so that it is consistent in itself."""
    entry = entries(session)[seq - 1]
    row = {
        column: getattr(entry, column)
        for column in (
            "seq",
            "occurred_at",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "details",
            "prev_hash",
        )
    }
    row.update(changes)
    session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**changes, hash=entry_hash(**row)))
    session.commit()


def tamper_delete_and_renumber(session: Session, seq: int) -> None:
    tamper_delete(session, seq)
    session.execute(update(AuditEntry).where(AuditEntry.seq > seq).values(seq=AuditEntry.seq - 1))
    session.commit()


def tamper_insert_and_move_head(session: Session, seq: int) -> None:
    tamper_insert_in_middle(session, seq)
    session.execute(update(AuditHead).values(last_seq=AuditHead.last_seq + 1))
    session.commit()


def tamper_rotate(session: Session, first: int) -> None:
    """Entries ``first``, ``first + 1``, ``first + 2`` move one place down, the first to the end."""
    set_seq(session, first, -first)
    set_seq(session, first + 1, first)
    set_seq(session, first + 2, first + 1)
    set_seq(session, -first, first + 2)
    session.commit()


def tamper_swap(session: Session, first: int, second: int) -> None:
    set_seq(session, first, -first)
    set_seq(session, second, first)
    set_seq(session, -first, second)
    session.commit()


# -- the database refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET details = 'tampered' WHERE seq = 3",
        "UPDATE audit_log SET seq = 100 WHERE seq = 8",
        "DELETE FROM audit_log WHERE seq = 3",
        "DELETE FROM audit_log",
    ],
)
def test_database_refuses_update_and_delete(session, statement):
    before = [(e.seq, e.details, e.hash) for e in build_chain(session)]
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert [(e.seq, e.details, e.hash) for e in entries(session)] == before
    assert verify_chain(session).ok


def test_database_refuses_orm_edit(session):
    build_chain(session)
    entry = session.get(AuditEntry, 3)
    entry.details = "{}"
    with pytest.raises(DBAPIError, match="append-only"):
        session.commit()
    session.rollback()
    assert session.get(AuditEntry, 3).details == '{"name":"Phòng Văn hóa và Thông tin 3","step":3}'


def test_postgresql_refuses_truncate(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    build_chain(session)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE audit_log"))
    session.rollback()
    assert len(entries(session)) == CHAIN_LENGTH


# -- an intact chain ----------------------------------------------------------------------------


def test_empty_log_verifies(session):
    report = verify_chain(session)
    assert report.ok and report.entries == 0 and report.last_hash == GENESIS_HASH


def test_intact_chain_verifies_after_many_appends(session):
    build_chain(session)
    for number in range(200):
        record(session, CLERK, "person.updated", "person", number, {"lần": number})
        if number % 20 == 0:
            session.commit()
    session.commit()
    report = verify_chain(session)
    assert report.ok, report.fault
    assert report.entries == report.last_seq == CHAIN_LENGTH + 200
    head = session.get(AuditHead, 1)
    assert (head.last_seq, head.last_hash) == (report.last_seq, report.last_hash)


def test_each_entry_links_to_the_one_before(session):
    chain = build_chain(session)
    assert [e.seq for e in chain] == list(range(1, CHAIN_LENGTH + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))


def test_vietnamese_details_round_trip_exactly(session):
    build_chain(session, 3)
    written = record(
        session, Actor(label="quantri", account_id=1), "org.created", "organisation", 42, VIETNAMESE_DETAILS
    )
    session.commit()
    stored = entries(session)[-1]
    assert stored.seq == written.seq == 4
    assert json.loads(stored.details) == VIETNAMESE_DETAILS
    assert stored.details.encode("utf-8") == written.details.encode("utf-8")
    assert "Phòng Văn hóa và Thông tin" in stored.details
    assert verify_chain(session).ok


def test_two_writers_taking_turns_keep_one_chain(database_url):
    engines = [create_engine(database_url), create_engine(database_url)]
    sessions = [Session(engine) for engine in engines]
    try:
        for turn in range(12):
            writer = sessions[turn % 2]
            record(writer, Actor(label=f"writer{turn % 2}"), "person.updated", "person", turn, {"turn": turn})
            writer.commit()
        chain = entries(sessions[0])
        assert [e.seq for e in chain] == list(range(1, 13))
        assert [e.actor_label for e in chain] == ["writer0", "writer1"] * 6
        assert verify_chain(sessions[1]).ok
    finally:
        for writer in sessions:
            writer.close()
        for engine in engines:
            engine.dispose()


def test_concurrent_writers_queue_instead_of_forking(database_url):
    per_writer, failures = 15, []

    def write(name: str) -> None:
        engine = create_engine(database_url)
        try:
            with Session(engine) as writer:
                for number in range(per_writer):
                    record(writer, Actor(label=name), "person.updated", "person", number, {"n": number})
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
    engine = create_engine(database_url)
    try:
        with Session(engine) as reader:
            chain = entries(reader)
            assert [e.seq for e in chain] == list(range(1, 2 * per_writer + 1))
            assert verify_chain(reader).ok
    finally:
        engine.dispose()


# -- forced tampering is found ------------------------------------------------------------------

LAST = CHAIN_LENGTH


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(lambda s: tamper_change_details(s, 5), ("changed", 5), id="details-changed"),
        pytest.param(lambda s: tamper_change_details(s, 1), ("changed", 1), id="first-changed"),
        pytest.param(
            lambda s: tamper_rewrite(s, 3, details='{"name":"Phòng Văn hóa (đã sửa)","step":3}'),
            ("changed", 3),
            id="rewritten-with-hash",
        ),
        pytest.param(lambda s: tamper_rewrite(s, LAST, details="{}"), ("changed", LAST), id="last-rewritten-with-hash"),
        pytest.param(lambda s: tamper_rewrite(s, 1, prev_hash="f" * 64), ("changed", 1), id="first-relinked"),
        pytest.param(lambda s: tamper_delete(s, 4), ("removed", 4), id="removed"),
        pytest.param(lambda s: tamper_delete(s, 1), ("removed", 1), id="first-removed"),
        pytest.param(lambda s: tamper_delete(s, LAST), ("removed", LAST), id="last-removed"),
        pytest.param(lambda s: tamper_delete_and_renumber(s, 4), ("removed", 4), id="removed-and-renumbered"),
        pytest.param(lambda s: tamper_insert_in_middle(s, 5), ("inserted", 5), id="inserted"),
        pytest.param(lambda s: tamper_insert_and_move_head(s, 2), ("inserted", 2), id="inserted-head-moved"),
        pytest.param(tamper_append, ("inserted", LAST + 1), id="appended-head-untouched"),
        pytest.param(tamper_prepend, ("inserted", 0), id="prepended"),
        pytest.param(lambda s: tamper_swap(s, 3, 6), ("reordered", 3), id="swapped"),
        pytest.param(lambda s: tamper_swap(s, 4, 5), ("reordered", 4), id="neighbours-swapped"),
        pytest.param(lambda s: tamper_swap(s, 1, 2), ("reordered", 1), id="first-two-swapped"),
        pytest.param(lambda s: tamper_swap(s, 7, 8), ("reordered", 7), id="last-two-swapped"),
        pytest.param(lambda s: tamper_rotate(s, 3), ("reordered", 3), id="rotated"),
    ],
)
def test_forced_tampering_is_found(session, tamper, expected):
    build_chain(session)
    unguard(session)
    tamper(session)
    assert fault_of(session) == expected
