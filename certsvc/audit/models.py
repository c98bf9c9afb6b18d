"""Audit log tables.

``audit_log`` is evidence: the database refuses UPDATE, DELETE (and on PostgreSQL
TRUNCATE) on it, and each entry carries the hash of the previous one, so that
``certsvc audit verify`` finds any change, removal, insertion or reordering made by
someone who got past the triggers. ``audit_head`` holds the sequence number and hash
of the newest entry: appending locks it, which serialises writers, and comparing it
with the last row finds entries cut off the end.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certsvc.core.hashchain import GENESIS_HASH
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime

__all__ = ["AuditEntry", "AuditHead", "GENESIS_HASH"]


class AuditEntry(Model):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: The account that acted; none for the system or the command line.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    #: Who acted, as recorded at the time (username, or ``cli:<user>``, ``system``).
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: Canonical JSON (sorted keys, no spaces, UTF-8): exactly the text that was hashed.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Model):
    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
