"""Writing and verifying the hash-chained audit log.

Every state-changing service call records exactly one entry with :func:`record`
inside the caller's transaction, so the change and its evidence commit or roll
back together. :func:`verify_chain` re-reads the whole log and reports the first
entry that does not fit the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.audit.models import AuditEntry, AuditHead
from certsvc.core.hashchain import (
    ChainFault,
    ChainReport,
    bump_head,
    canonical_json,
    chain_hash,
    set_head_hash,
    timestamp,
    verify_entries,
)
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
    "record_update",
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
    return canonical_json(details)


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
    return chain_hash(
        [seq, timestamp(occurred_at), actor_id, actor_label, action, object_type, object_id, details, prev_hash]
    )


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
    seq, prev_hash = bump_head(session, AuditHead)
    entry = AuditEntry(
        seq=seq,
        occurred_at=utcnow(),
        actor_id=actor.account_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=canonical_details(details),
        prev_hash=prev_hash,
    )
    entry.hash = _hash_of(entry)
    session.add(entry)
    set_head_hash(session, AuditHead, entry.hash)
    session.flush()
    return entry


def snapshot(obj: object, fields: Iterable[str]) -> dict:
    """The audited fields of a record, to put in an entry or compare later."""
    return {name: getattr(obj, name) for name in fields}


def changed_fields(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for each field whose value changed."""
    return {name: [before[name], after[name]] for name in before if before[name] != after.get(name)}


def record_update(
    session: Session, actor: Actor, obj, values: dict, fields: Iterable[str], action: str, object_type: str
) -> dict:
    """Set ``values`` on ``obj`` and record one entry of what changed; no entry when nothing did."""
    fields = tuple(fields)
    before = snapshot(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    changes = changed_fields(before, snapshot(obj, fields))
    if changes:
        session.flush()
        record(session, actor, action, object_type, obj.id, {"changes": changes})
    return changes


def _all_entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(5000)


def verify_chain(session: Session) -> ChainReport:
    """Re-hash the whole log and compare it with the chain head."""
    entries = list(_all_entries(session))
    head = session.get(AuditHead, 1)
    return verify_entries(entries, None if head is None else (head.last_seq, head.last_hash), _hash_of)
