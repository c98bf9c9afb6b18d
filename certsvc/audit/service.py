"""Writing and verifying the hash-chained audit log.

Every state-changing service call records exactly one entry with :func:`record`
inside the caller's transaction, so the change and its evidence commit or roll
back together. :func:`verify_chain` re-reads the whole log and reports the first
entry that does not fit the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certsvc.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from certsvc.timeutil import utcnow

if TYPE_CHECKING:
    from certsvc.accounts.models import Account

__all__ = [
    "Actor",
    "SYSTEM",
    "ChainFault",
    "ChainReport",
    "canonical_details",
    "entry_hash",
    "record",
    "snapshot",
    "changed_fields",
    "verify_chain",
]


@dataclass(frozen=True)
class Actor:
    """Who performs an action: an account, or the system / command line (``account_id`` None)."""

    label: str
    account_id: int | None = None

    @classmethod
    def of(cls, account: Account) -> Actor:
        return cls(label=account.username, account_id=account.id)


SYSTEM = Actor(label="system")


def canonical_details(details: dict | None) -> str:
    """The one text form of an entry's details that is stored and hashed."""
    return json.dumps(
        details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON array of every field but the hash itself."""
    payload = json.dumps(
        [seq, _timestamp(occurred_at), actor_id, actor_label, action, object_type, object_id,
         details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_of(entry: AuditEntry, seq: int | None = None) -> str:
    return entry_hash(
        seq=entry.seq if seq is None else seq,
        occurred_at=entry.occurred_at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry in the session's current transaction (the caller commits).

    The head row is bumped first with a single UPDATE, which takes the write lock
    on both SQLite and PostgreSQL, so concurrent writers queue instead of forking
    the chain.
    """
    head = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
    ).one()
    entry = AuditEntry(
        seq=head.last_seq,
        occurred_at=utcnow(),
        actor_id=actor.account_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=canonical_details(details),
        prev_hash=head.last_hash,
    )
    entry.hash = _hash_of(entry)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash))
    session.flush()
    return entry


def snapshot(obj: object, fields: Iterable[str]) -> dict:
    """The audited fields of a record, to put in an entry or compare later."""
    return {name: getattr(obj, name) for name in fields}


def changed_fields(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for each field whose value changed."""
    return {name: [before[name], after[name]] for name in before if before[name] != after.get(name)}


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


def _original_seq(entry: AuditEntry, candidates: Iterable[int]) -> int | None:
    """The sequence number this entry's hash was computed with, if it was renumbered."""
    for seq in candidates:
        if seq != entry.seq and _hash_of(entry, seq) == entry.hash:
            return seq
    return None


def _find_fault(entries: list[AuditEntry], head: AuditHead | None) -> ChainFault | None:
    by_hash = {e.hash: e for e in entries}
    max_seq = max((e.seq for e in entries), default=0)
    candidates = range(1, max_seq + len(entries) + 2)
    expected_seq, prev_hash = 1, GENESIS_HASH
    for index, entry in enumerate(entries):
        if entry.seq < 1:
            return ChainFault(
                "inserted", entry.seq, f"entry #{entry.seq} was inserted: numbering starts at #1"
            )
        if entry.seq > expected_seq:
            return ChainFault(
                "removed", expected_seq,
                f"entry #{expected_seq} is missing (the log goes from #{expected_seq - 1} to #{entry.seq})",
            )
        content_intact = _hash_of(entry) == entry.hash
        if not content_intact:
            original = _original_seq(entry, candidates)
            if original is None:
                following = entries[index + 1] if index + 1 < len(entries) else None
                if following is not None and _original_seq(following, [entry.seq]) == entry.seq:
                    return ChainFault(
                        "inserted", entry.seq,
                        f"entry #{entry.seq} was inserted: the entry after it was written as #{entry.seq}",
                    )
                return ChainFault(
                    "changed", entry.seq, f"entry #{entry.seq} was changed: its content no longer matches its hash"
                )
            if original < entry.seq:
                predecessor = by_hash.get(entry.prev_hash)
                first_inserted = predecessor.seq + 1 if predecessor is not None else entry.seq
                return ChainFault(
                    "inserted", first_inserted,
                    f"entry #{first_inserted} was inserted: entry written as #{original} now stands at #{entry.seq}",
                )
            later_originals = {
                _original_seq(e, candidates) for e in entries[index + 1:] if _hash_of(e) != e.hash
            }
            if entry.seq in later_originals:
                return ChainFault(
                    "reordered", entry.seq,
                    f"entries were reordered: the entry written as #{original} stands at #{entry.seq}",
                )
            return ChainFault(
                "removed", entry.seq,
                f"entry #{entry.seq} was removed and the entries after it renumbered",
            )
        if entry.prev_hash != prev_hash:
            predecessor = by_hash.get(entry.prev_hash)
            if predecessor is not None and predecessor.seq < entry.seq - 1:
                return ChainFault(
                    "inserted", predecessor.seq + 1,
                    f"entry #{predecessor.seq + 1} was inserted: entry #{entry.seq} was written after #{predecessor.seq}",
                )
            if predecessor is not None and predecessor.seq > entry.seq:
                return ChainFault(
                    "reordered", entry.seq,
                    f"entries were reordered: entry #{entry.seq} was written after #{predecessor.seq}",
                )
            if index == 0:
                return ChainFault(
                    "changed", entry.seq,
                    f"entry #{entry.seq} was changed and its hash recomputed: it no longer starts the chain",
                )
            return ChainFault(
                "changed", entry.seq - 1,
                f"entry #{entry.seq - 1} was changed and its hash recomputed: entry #{entry.seq} no longer links to it",
            )
        expected_seq, prev_hash = entry.seq + 1, entry.hash

    last_seq = expected_seq - 1
    head_seq = head.last_seq if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    if last_seq > head_seq:
        return ChainFault("inserted", head_seq + 1, f"entry #{head_seq + 1} was appended outside the service")
    if last_seq < head_seq:
        return ChainFault(
            "removed", last_seq + 1, f"entries #{last_seq + 1} to #{head_seq} were removed from the end"
        )
    if prev_hash != head_hash:
        return ChainFault("changed", last_seq, f"entry #{last_seq} does not match the recorded chain head")
    return None


def _all_entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(5000)


def verify_chain(session: Session) -> ChainReport:
    """Re-hash the whole log and compare it with the chain head."""
    entries = list(_all_entries(session))
    head = session.get(AuditHead, 1)
    fault = _find_fault(entries, head)
    return ChainReport(
        entries=len(entries),
        last_seq=entries[-1].seq if entries else 0,
        last_hash=entries[-1].hash if entries else GENESIS_HASH,
        fault=fault,
    )
