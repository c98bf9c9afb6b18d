"""Hash chains over append-only tables: hashing, appending under a head row, verifying.

Used by the audit log and the custody register. Each entry stores the hash of the one
before it; a single-row head table holds the newest sequence number and hash.
Appending bumps the head with one UPDATE (which takes the write lock on SQLite and
PostgreSQL, so writers queue instead of forking the chain); verifying re-hashes every
entry and compares the end of the chain with the head, so that changes, removals,
insertions, reordering and entries cut off the end are all found.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = [
    "GENESIS_HASH",
    "ChainEntry",
    "ChainFault",
    "ChainReport",
    "HashOf",
    "bump_head",
    "canonical_json",
    "chain_hash",
    "find_fault",
    "set_head_hash",
    "timestamp",
    "verify_entries",
    "verify_rows",
]

#: The "previous hash" of the first entry.
GENESIS_HASH = "0" * 64


class ChainEntry(Protocol):
    seq: int
    prev_hash: str
    hash: str


#: ``hash_of(entry, seq)``: the hash of ``entry`` as if it were numbered ``seq`` (its own number when None).
HashOf = Callable[[Any, "int | None"], str]


def canonical_json(value: object) -> str:
    """The one text form of a JSON value that is stored and hashed (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def timestamp(moment: datetime | str) -> str:
    """A moment as hashed: UTC, ISO 8601 with microseconds.

    Also takes the text SQLite stores (naive UTC, ``2026-11-21 08:30:00.000000``), so that
    verification can read timestamps without converting each to a datetime first.
    """
    if isinstance(moment, str):
        if len(moment) == 26 and moment[10] == " ":
            return f"{moment[:10]}T{moment[11:]}Z"
        moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, without building an encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def chain_hash(fields: list | tuple) -> str:
    """SHA-256 over a compact JSON array of an entry's fields (every field but the hash itself)."""
    return hashlib.sha256(_COMPACT(fields).encode("utf-8")).hexdigest()


@functools.cache
def _head_statements(head: Table) -> tuple[Update, Update]:
    """The two statements on a head row, built once: building them costs more than running them."""
    bump = (
        update(head)
        .where(head.c.id == 1)
        .values(last_seq=head.c.last_seq + 1)
        .returning(head.c.last_seq, head.c.last_hash)
    )
    set_hash = update(head).where(head.c.id == 1).values(last_hash=bindparam("new_hash"))
    return bump, set_hash


def _head_table(head_model: type[DeclarativeBase]) -> Table:
    # A declarative model's table is a Table unless the model maps a join or a select, which a head does not.
    table = head_model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{head_model.__name__} does not map a single table")
    return table


def bump_head(session: Session, head_model: type[DeclarativeBase]) -> tuple[int, str]:
    """Take the next sequence number; returns it and the hash of the entry before it.

    Runs on the session's connection as plain Core statements: the ORM's bulk-update
    bookkeeping would cost more than the statement itself.
    """
    row = session.connection().execute(_head_statements(_head_table(head_model))[0]).one()
    return row.last_seq, row.last_hash


def set_head_hash(session: Session, head_model: type[DeclarativeBase], new_hash: str) -> None:
    session.connection().execute(_head_statements(_head_table(head_model))[1], {"new_hash": new_hash})


@dataclass(frozen=True)
class ChainFault:
    """The first place where the log stops being the chain that was written.

    ``kind`` is one of ``changed``, ``removed``, ``inserted``, ``reordered``;
    ``seq`` is the sequence number of the first affected entry.
    """

    kind: str
    seq: int
    message: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    last_seq: int
    last_hash: str
    fault: ChainFault | None

    @property
    def ok(self) -> bool:
        return self.fault is None


def _original_seq(entry: ChainEntry, candidates: Iterable[int], hash_of: HashOf) -> int | None:
    """The sequence number this entry's hash was computed with, if it was renumbered."""
    for seq in candidates:
        if seq != entry.seq and hash_of(entry, seq) == entry.hash:
            return seq
    return None


def _content_fault(
    entries: Sequence[ChainEntry], index: int, by_hash: dict, candidates: range, hash_of: HashOf
) -> ChainFault:
    """Why an entry whose content does not match its hash is wrong."""
    entry = entries[index]
    original = _original_seq(entry, candidates, hash_of)
    if original is None:
        following = entries[index + 1] if index + 1 < len(entries) else None
        if following is not None and _original_seq(following, [entry.seq], hash_of) == entry.seq:
            return ChainFault(
                "inserted",
                entry.seq,
                f"entry #{entry.seq} was inserted: the entry after it was written as #{entry.seq}",
            )
        return ChainFault(
            "changed", entry.seq, f"entry #{entry.seq} was changed: its content no longer matches its hash"
        )
    if original < entry.seq:
        predecessor = by_hash.get(entry.prev_hash)
        first_inserted = predecessor.seq + 1 if predecessor is not None else entry.seq
        return ChainFault(
            "inserted",
            first_inserted,
            f"entry #{first_inserted} was inserted: entry written as #{original} now stands at #{entry.seq}",
        )
    later_originals = {
        _original_seq(e, candidates, hash_of) for e in entries[index + 1 :] if hash_of(e, None) != e.hash
    }
    if entry.seq in later_originals:
        return ChainFault(
            "reordered",
            entry.seq,
            f"entries were reordered: the entry written as #{original} stands at #{entry.seq}",
        )
    return ChainFault("removed", entry.seq, f"entry #{entry.seq} was removed and the entries after it renumbered")


def _link_fault(entry: ChainEntry, index: int, by_hash: dict) -> ChainFault:
    """Why an intact entry does not link to the one before it."""
    predecessor = by_hash.get(entry.prev_hash)
    if predecessor is not None and predecessor.seq < entry.seq - 1:
        return ChainFault(
            "inserted",
            predecessor.seq + 1,
            f"entry #{predecessor.seq + 1} was inserted: entry #{entry.seq} was written after #{predecessor.seq}",
        )
    if predecessor is not None and predecessor.seq > entry.seq:
        return ChainFault(
            "reordered",
            entry.seq,
            f"entries were reordered: entry #{entry.seq} was written after #{predecessor.seq}",
        )
    if index == 0:
        return ChainFault(
            "changed",
            entry.seq,
            f"entry #{entry.seq} was changed and its hash recomputed: it no longer starts the chain",
        )
    return ChainFault(
        "changed",
        entry.seq - 1,
        f"entry #{entry.seq - 1} was changed and its hash recomputed: entry #{entry.seq} no longer links to it",
    )


def find_fault(entries: Sequence[ChainEntry], head_seq: int, head_hash: str, hash_of: HashOf) -> ChainFault | None:
    """The first fault of ``entries`` (in sequence order) against the head, or None if intact.

    One pass re-hashes and links every entry; the look-ups that classify a fault are built
    only once one is found, so an intact chain costs little more than its hashing.
    """
    expected_seq, prev_hash = 1, GENESIS_HASH
    for index, entry in enumerate(entries):
        if entry.seq < 1:
            return ChainFault("inserted", entry.seq, f"entry #{entry.seq} was inserted: numbering starts at #1")
        if entry.seq > expected_seq:
            return ChainFault(
                "removed",
                expected_seq,
                f"entry #{expected_seq} is missing (the log goes from #{expected_seq - 1} to #{entry.seq})",
            )
        if hash_of(entry, None) != entry.hash:
            max_seq = max(e.seq for e in entries)
            candidates = range(1, max_seq + len(entries) + 2)
            return _content_fault(entries, index, _by_hash(entries), candidates, hash_of)
        if entry.prev_hash != prev_hash:
            return _link_fault(entry, index, _by_hash(entries))
        expected_seq, prev_hash = entry.seq + 1, entry.hash

    last_seq = expected_seq - 1
    if last_seq > head_seq:
        return ChainFault("inserted", head_seq + 1, f"entry #{head_seq + 1} was appended outside the service")
    if last_seq < head_seq:
        return ChainFault("removed", last_seq + 1, f"entries #{last_seq + 1} to #{head_seq} were removed from the end")
    if prev_hash != head_hash:
        return ChainFault("changed", last_seq, f"entry #{last_seq} does not match the recorded chain head")
    return None


def _by_hash(entries: Sequence[ChainEntry]) -> dict[str, ChainEntry]:
    return {e.hash: e for e in entries}


def verify_entries(entries: Sequence[ChainEntry], head: tuple[int, str] | None, hash_of: HashOf) -> ChainReport:
    """Re-hash ``entries`` (the whole table, in sequence order) and compare the end with ``head``."""
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    return ChainReport(
        entries=len(entries),
        last_seq=entries[-1].seq if entries else 0,
        last_hash=entries[-1].hash if entries else GENESIS_HASH,
        fault=find_fault(entries, head_seq, head_hash, hash_of),
    )


def verify_rows(
    rows: Sequence[Sequence],
    head: tuple[int, str] | None,
    hash_row: Callable[[Sequence], str],
    make_entry: Callable[[Sequence], ChainEntry],
    hash_of: HashOf,
) -> ChainReport:
    """:func:`verify_entries` for plain rows (sequence number first, previous hash and hash last).

    An intact chain is confirmed in one tight pass over the rows as they came from the
    driver; only a broken one is turned into entries (``make_entry``) to classify the fault.
    """
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    expected_seq, prev_hash = 1, GENESIS_HASH
    for row in rows:
        if row[0] != expected_seq or row[-2] != prev_hash or hash_row(row) != row[-1]:
            break
        expected_seq, prev_hash = expected_seq + 1, row[-1]
    else:
        if (expected_seq - 1, prev_hash) == (head_seq, head_hash):
            return ChainReport(entries=len(rows), last_seq=head_seq, last_hash=head_hash, fault=None)
    return verify_entries([make_entry(row) for row in rows], head, hash_of)
