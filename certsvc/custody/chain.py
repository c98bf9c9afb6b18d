"""The custody register as a hash chain: appending entries, the current keepers, verifying the whole
register and checking a hash printed on a minute.

Each entry's hash covers every column but the hash itself, including the previous
entry's hash; the head row ``custody_head`` holds the newest number and hash. The
generic parts (hashing, the head, the classification of faults) are shared with the
audit log in :mod:`certsvc.core.hashchain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from certsvc.audit.service import Actor
from certsvc.core.hashchain import (
    ChainReport,
    bump_head,
    canonical_json,
    chain_hash,
    set_head_hash,
    timestamp,
    verify_rows,
)
from certsvc.custody.models import CustodyEvent, CustodyEventKind, CustodyHead, keeper_ids
from certsvc.errors import Conflict
from certsvc.registry.models import Token
from certsvc.timeutil import utcnow

__all__ = ["HASHED_COLUMNS", "EntryCheck", "append_event", "check_entry", "entry_hash", "verify_register"]

#: The columns an entry's hash covers, in order (the hash itself excepted).
HASHED_COLUMNS = (
    "seq",
    "occurred_at",
    "token_id",
    "organisation_id",
    "kind",
    "keeper_id",
    "actor_id",
    "actor_label",
    "details",
    "prev_hash",
)

_UNCHECKED = object()
_INSERT = insert(CustodyEvent)


def entry_hash(**fields: object) -> str:
    """The hash of an entry with these column values (those of :data:`HASHED_COLUMNS`)."""
    return _hash_values([fields[name] for name in HASHED_COLUMNS])


def _hash_values(values: Sequence[Any], seq: int | None = None) -> str:
    """The hash of an entry given as values in :data:`HASHED_COLUMNS` order (a row as the driver returns it)."""
    return chain_hash(
        (values[0] if seq is None else seq, timestamp(values[1]), values[2], values[3], str(values[4]), *values[5:10])
    )


def _hash_of(entry: CustodyEvent | _Row, seq: int | None = None) -> str:
    """The hash of an entry (as if numbered ``seq``, when given): a register entry or a :class:`_Row`."""
    return _hash_values([getattr(entry, name) for name in HASHED_COLUMNS], seq)


def append_event(
    session: Session,
    actor: Actor,
    token: Token,
    kind: CustodyEventKind,
    keeper_id: int | None,
    details: dict,
    *,
    from_keeper: object = _UNCHECKED,
) -> CustodyEvent:
    """Append one entry in the caller's transaction (the caller commits and writes the audit entry).

    The head is bumped first, which queues concurrent writers; ``from_keeper`` (a person
    id or None), when given, is checked against the register *after* that lock, so that a
    handover completes only if its giver still keeps the token.
    """
    seq, prev_hash = bump_head(session, CustodyHead)
    if from_keeper is not _UNCHECKED and keeper_ids(session, [token.id]).get(token.id) != from_keeper:
        raise Conflict(
            "Người giao không còn là người đang giữ thiết bị theo sổ theo dõi; không thể ghi sổ.",
            code="custody_keeper_changed",
        )
    row: dict[str, object] = dict(
        seq=seq,
        occurred_at=utcnow(),
        token_id=token.id,
        organisation_id=token.organisation_id,
        kind=kind,
        keeper_id=keeper_id,
        actor_id=actor.account_id,
        actor_label=actor.label,
        details=canonical_json(details),
        prev_hash=prev_hash,
    )
    row["hash"] = new_hash = entry_hash(**row)
    # A Core INSERT, then the entry joins the session as already persistent: no unit-of-work flush per append.
    session.connection().execute(_INSERT, row)
    set_head_hash(session, CustodyHead, new_hash)
    event = CustodyEvent(**row)
    make_transient_to_detached(event)
    session.add(event)
    return event


@dataclass(slots=True)
class _Row:
    """An entry as plain values, in :data:`HASHED_COLUMNS` order and then the hash: how a broken register is
    examined to name its fault. Not frozen, as :class:`certsvc.core.hashchain.ChainEntry` has writable fields."""

    seq: int
    occurred_at: datetime | str
    token_id: int
    organisation_id: int
    kind: str
    keeper_id: int | None
    actor_id: int | None
    actor_label: str
    details: str
    prev_hash: str
    hash: str


#: Every entry's hashed columns and hash in sequence order, read as stored (plain SQL for the driver).
_RAW_SELECT = f"SELECT {', '.join((*HASHED_COLUMNS, 'hash'))} FROM custody_event ORDER BY seq"


def verify_register(session: Session) -> ChainReport:
    """Re-hash every entry (read as plain rows, not objects: 100,000 in well under a second)."""
    # Straight from the driver's cursor: the rows are hashed as stored, and wrapping 100,000 of
    # them in SQLAlchemy rows first would cost as much as the hashing itself.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(_RAW_SELECT)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    head = session.get(CustodyHead, 1)
    return verify_rows(
        rows,
        None if head is None else (head.last_seq, head.last_hash),
        _hash_values,
        lambda row: _Row(*row),
        _hash_of,
    )


@dataclass(frozen=True)
class EntryCheck:
    """What the register says about a hash printed on paper."""

    event: CustodyEvent | None
    intact: bool

    @property
    def found(self) -> bool:
        return self.event is not None


def check_entry(session: Session, printed_hash: str) -> EntryCheck:
    """Whether the register holds an entry with this hash whose content still produces it."""
    event = session.scalar(select(CustodyEvent).where(CustodyEvent.hash == printed_hash.lower()))
    if event is None:
        return EntryCheck(None, False)
    return EntryCheck(event, _hash_of(event) == event.hash)
