"""Custody register tables.

``custody_event`` is evidence, like the audit log: append-only (the database refuses
UPDATE, DELETE and, on PostgreSQL, TRUNCATE) and hash-chained, with its own head row
``custody_head``. Each event names the token, its unit and the keeper *after* the event;
the current keeper of a token is the keeper of its newest event, never typed in.

``custody_handover`` is the working record of a handover while it waits for permission
and the confirmations of giver, receiver and witness; once complete it points at the
register entry it produced. ``custody_token`` holds one row per registered token: the
claim a pending handover takes with an atomic conditional UPDATE, so that of two
handovers started at once exactly one goes ahead.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BindParameter, CheckConstraint, ForeignKey, Select, String, Text, bindparam, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, Token
from certsvc.registry.tokens import CustodyLookup, register_custody
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = [
    "keeper_ids",
    "CustodyEventKind",
    "HandoverStatus",
    "PermissionKind",
    "CustodyEvent",
    "CustodyHead",
    "CustodyToken",
    "Handover",
]


class CustodyEventKind(LabelledEnum):
    RECEIVED = "received", "Nhận từ tổ chức cung cấp dịch vụ chứng thực"
    HANDED_OVER = "handed_over", "Bàn giao"
    INVENTORY = "inventory", "Kiểm kê"
    LOST = "lost", "Báo mất"
    FOUND = "found", "Tìm thấy"
    DAMAGED = "damaged", "Hư hỏng"
    RETURNED = "returned", "Nộp lại tổ chức cung cấp dịch vụ (Mẫu 08)"
    DESTROYED = "destroyed", "Tiêu hủy"


class HandoverStatus(LabelledEnum):
    PENDING = "pending", "Chờ xác nhận"
    COMPLETED = "completed", "Đã hoàn tất"
    EXPIRED = "expired", "Đã hết hạn"
    CANCELLED = "cancelled", "Đã hủy"


class PermissionKind(LabelledEnum):
    DECISION = "decision", "Văn bản cho phép của người có thẩm quyền"
    APPROVAL = "approval", "Thủ trưởng đơn vị phê duyệt trên hệ thống"


class CustodyEvent(Model):
    """One entry of the register ("sổ theo dõi riêng")."""

    __tablename__ = "custody_event"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: When the entry was written (what happened and when is in ``details``).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id"), index=True)
    #: The unit whose item the token is, as at the time of the event.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[CustodyEventKind] = mapped_column(enum_column(CustodyEventKind))
    #: Who keeps the token after this event; none while it is lost, returned or destroyed.
    keeper_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(120))
    #: Canonical JSON (sorted keys, no spaces, UTF-8): exactly the text that was hashed.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    token: Mapped[Token] = relationship()
    organisation: Mapped[Organisation] = relationship()
    keeper: Mapped[Person | None] = relationship()


class CustodyHead(Model):
    __tablename__ = "custody_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class CustodyToken(Model):
    """A token that is in the register, and the handover that has claimed it, if any."""

    __tablename__ = "custody_token"

    token_id: Mapped[int] = mapped_column(ForeignKey("token.id"), primary_key=True, autoincrement=False)
    claim_handover_id: Mapped[int | None]
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Handover(Model):
    """A handover ("bàn giao") of a token from its keeper to another person, until it is complete."""

    __tablename__ = "custody_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    permission_kind: Mapped[PermissionKind] = mapped_column(enum_column(PermissionKind))
    decision_number: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(255))
    condition: Mapped[str] = mapped_column(String(500))
    accessories: Mapped[str | None] = mapped_column(String(500))
    seal_numbers: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[HandoverStatus] = mapped_column(enum_column(HandoverStatus), default=HandoverStatus.PENDING)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    giver_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receiver_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    witness_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The register entry the completed handover produced.
    event_seq: Mapped[int | None] = mapped_column(ForeignKey("custody_event.seq"))

    token: Mapped[Token] = relationship()
    organisation: Mapped[Organisation] = relationship()
    giver: Mapped[Person] = relationship(foreign_keys=[giver_id])
    receiver: Mapped[Person] = relationship(foreign_keys=[receiver_id])
    witness: Mapped[Person | None] = relationship(foreign_keys=[witness_id])
    certificate: Mapped[Certificate | None] = relationship()
    event: Mapped[CustodyEvent | None] = relationship()


def _newest_entries(token_ids: list[int] | BindParameter | None) -> Select:
    """The token and keeper of each token's newest entry in the register (of ``token_ids``, or of all)."""
    newest_query = select(CustodyEvent.token_id, func.max(CustodyEvent.seq).label("seq")).group_by(
        CustodyEvent.token_id
    )
    if token_ids is not None:
        newest_query = newest_query.where(CustodyEvent.token_id.in_(token_ids))
    newest = newest_query.subquery()
    return select(CustodyEvent.token_id, CustodyEvent.keeper_id).join(newest, CustodyEvent.seq == newest.c.seq)


def keeper_ids(session: Session, token_ids: list[int] | None = None) -> dict[int, int | None]:
    """The current keeper (person id, or None) of each token in the register: the keeper of its newest entry."""
    return {row.token_id: row.keeper_id for row in session.execute(_newest_entries(token_ids))}


def keeper_names(session: Session, token_ids: list[int]) -> dict[int, str | None]:
    """:func:`keeper_ids` as names, read in the same statement (None for a token nobody keeps)."""
    return {row.token_id: row.full_name for row in session.execute(_KEEPER_NAMES, {"tokens": token_ids})}


#: :func:`keeper_names`'s statement, built once: the readiness board asks on every page.
_KEEPER_NAMES = (
    _newest_entries(bindparam("tokens", expanding=True))
    .add_columns(Person.full_name)
    .outerjoin(Person, Person.id == CustodyEvent.keeper_id)
)


# Here, with the tables, so that wherever the register exists the registry refuses state changes behind its back
# and tells who keeps a token.
register_custody(
    CustodyLookup(
        keeps=lambda session, token: session.get(CustodyToken, token.id) is not None,
        keeper_id=lambda session, token: keeper_ids(session, [token.id]).get(token.id),
    )
)
