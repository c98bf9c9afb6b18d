"""The custody register of MẬT tokens: finding tokens, handovers and keepers, and the rules every change
of the register shares. The changes themselves are :mod:`certsvc.custody.entries` (receiving, events,
loss) and :mod:`certsvc.custody.handovers`; what an entry says and a unit's yearly book are
:mod:`certsvc.custody.book`; the hash chain and the current keepers are :mod:`certsvc.custody.chain`.

No Flask here. Finding an item and changing the register take the acting account and ask
:mod:`certsvc.policy`, whoever calls them (the pages, the demo): a token or handover of a unit where
the account may not see the register is not found (MẬT), and only the keeper and the unit head act on
a token (:func:`certsvc.policy.may_act_on_token`, asked by :func:`take_token`). Each change first takes
the token's register row (:func:`take_token`), so that of two changes at once one waits for the other
and then sees what it did. The changes check the domain rules, raise :class:`ValidationFailed` (400,
nothing written) for bad input and :class:`Conflict` (409) when the register moved on, and write
exactly one audit entry per action (:func:`audit`) in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import cast

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, RoleAssignment
from certsvc.audit.service import Actor, record
from certsvc.config import setting_default, setting_value
from certsvc.core.records import MAX_ID
from certsvc.core.validation import FieldCollector, FieldError, clean_text, parse_count
from certsvc.custody.models import CustodyEvent, CustodyToken, Handover, HandoverStatus, keeper_ids
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.people.models import Person
from certsvc.policy import GRANTS, Permission, can, may_act_on_token, may_witness, orgs_in_scope
from certsvc.registry.models import Certificate, Token, TokenKind
from certsvc.timeutil import VIETNAM_TZ, format_vietnam, utcnow

__all__ = [
    "CustodySettings",
    "is_custody_item",
    "get_token",
    "get_handover",
    "custody_tokens",
    "current_keeper",
    "in_register",
    "events_of",
    "handovers_of",
    "unit_people",
    "unit_heads",
    "witness_candidates",
    "certificate_of",
    "effective_status",
    "pending_for",
    # The rules the changes of the register share (entries, handovers).
    "account_of",
    "actor_of",
    "audit",
    "clean_person_id",
    "clean_time",
    "ensure_visible",
    "field_moment",
    "lock_token",
    "may_keep",
    "name_of",
    "person_field",
    "take_token",
    "text_field",
    "token_facts",
]


@dataclass(frozen=True)
class CustodySettings:
    """``CERTSVC_CUSTODY_WITNESS_REQUIRED`` and ``CERTSVC_CUSTODY_PENDING_HOURS``."""

    witness_required: bool = setting_default("CERTSVC_CUSTODY_WITNESS_REQUIRED")
    pending_hours: int = setting_default("CERTSVC_CUSTODY_PENDING_HOURS")

    @classmethod
    def from_config(cls, config: Mapping) -> CustodySettings:
        """From the app's config, checked by :func:`certsvc.config.setting_value`."""
        return cls(
            witness_required=setting_value(config, "CERTSVC_CUSTODY_WITNESS_REQUIRED"),
            pending_hours=setting_value(config, "CERTSVC_CUSTODY_PENDING_HOURS"),
        )


# -- finding things -------------------------------------------------------------------------------


def is_custody_item(token: Token) -> bool:
    return token.kind is TokenKind.ORGANISATION or token.is_secret


def ensure_visible(session: Session, by: Account, org_id: int, permission: Permission, missing: str) -> None:
    """MẬT: whoever lacks the permission at the unit is told the item does not exist."""
    if not can(session, by, permission, org_id):
        raise NotFound(missing)


def get_token(
    session: Session,
    by: Account,
    token_id: int,
    permission: Permission = Permission.VIEW_CUSTODY,
) -> Token:
    """The custody item, if ``by`` holds ``permission`` at its unit."""
    token = session.get(Token, token_id)
    if token is None or not is_custody_item(token):
        raise NotFound("Không tìm thấy thiết bị.")
    ensure_visible(session, by, token.organisation_id, permission, "Không tìm thấy thiết bị.")
    return token


def get_handover(
    session: Session, by: Account, handover_id: int, permission: Permission = Permission.VIEW_CUSTODY
) -> Handover:
    """The handover, if ``by`` holds ``permission`` at its unit."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound("Không tìm thấy biên bản bàn giao.")
    ensure_visible(session, by, handover.organisation_id, permission, "Không tìm thấy biên bản bàn giao.")
    return handover


def custody_tokens(session: Session, by: Account) -> list[Token]:
    """The MẬT tokens (organisation tokens and tokens marked secret) of the units where ``by`` sees the register."""
    org_ids = orgs_in_scope(session, by, Permission.VIEW_CUSTODY)
    return list(
        session.scalars(
            select(Token)
            .where(Token.organisation_id.in_(org_ids), or_(Token.kind == TokenKind.ORGANISATION, Token.is_secret))
            .order_by(Token.organisation_id, Token.serial)
        )
    )


def current_keeper(session: Session, token: Token) -> Person | None:
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    return None if keeper_id is None else session.get(Person, keeper_id)


def in_register(session: Session, token: Token) -> bool:
    """Whether the token is in the custody register (then only the register changes its state)."""
    return session.get(CustodyToken, token.id) is not None


def events_of(session: Session, token: Token) -> list[CustodyEvent]:
    return list(
        session.scalars(select(CustodyEvent).where(CustodyEvent.token_id == token.id).order_by(CustodyEvent.seq))
    )


def handovers_of(session: Session, token: Token) -> list[Handover]:
    return list(session.scalars(select(Handover).where(Handover.token_id == token.id).order_by(Handover.id.desc())))


def certificate_of(session: Session, token: Token) -> Certificate | None:
    """The newest certificate on the token."""
    return session.scalar(
        select(Certificate).where(Certificate.token_id == token.id).order_by(Certificate.not_before.desc()).limit(1)
    )


def effective_status(handover: Handover, now: datetime | None = None) -> HandoverStatus:
    """The status as it stands now: a pending handover past its time has expired."""
    if handover.status is HandoverStatus.PENDING and (now or utcnow()) >= handover.expires_at:
        return HandoverStatus.EXPIRED
    return handover.status


def pending_for(session: Session, by: Account) -> list[Handover]:
    """Pending handovers that ``by`` sees: in the units where he records custody, or where he is a party."""
    now = utcnow()
    person_id = by.person_id
    concerned = or_(
        Handover.giver_id == person_id,
        Handover.receiver_id == person_id,
        Handover.witness_id == person_id,
        Handover.organisation_id.in_(orgs_in_scope(session, by, Permission.RECORD_CUSTODY)),
    )
    return list(
        session.scalars(
            select(Handover)
            .where(
                Handover.status == HandoverStatus.PENDING,
                Handover.expires_at > now,
                concerned,
                Handover.organisation_id.in_(orgs_in_scope(session, by, Permission.VIEW_CUSTODY)),
            )
            .order_by(Handover.created_at)
        )
    )


# -- input ------------------------------------------------------------------------------------------

_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def clean_time(value: object) -> time | None:
    text = str(value or "").strip()
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise FieldError("Giờ không hợp lệ; nhập theo dạng giờ:phút, ví dụ 14:30.")
    return time(int(match.group(1)), int(match.group(2)))


def text_field(max_length: int, required: bool = False):
    return lambda value: clean_text(str(value or ""), required=required, max_length=max_length)


def clean_person_id(value: object) -> int | None:
    return parse_count(value, minimum=1, maximum=MAX_ID, message="Chọn một người trong danh sách.")


def field_moment(fields: FieldCollector, day_name: str, time_name: str) -> datetime | None:
    """A Vietnam date and time, from a field cleaned by ``clean_day`` and one cleaned by :func:`clean_time`, as an
    aware UTC moment (None without a date; midnight without a time)."""
    day = fields.values.get(day_name)
    at = fields.values.get(time_name)
    if not isinstance(day, date | None) or not isinstance(at, time | None):
        raise TypeError(f"Fields {day_name!r} and {time_name!r} were not cleaned as a date and a time.")
    if day is None:
        return None
    return datetime.combine(day, at or time(0, 0), tzinfo=VIETNAM_TZ).astimezone(UTC)


def person_field(session: Session, fields: FieldCollector, name: str) -> Person | None:
    person_id = fields.values.get(name)
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None:
        fields.fail(name, "Không có người này.")
    return person


def unit_people(session: Session, org_id: int) -> list[Person]:
    """Who may take part in the unit's custody: its active people and whoever holds a role there."""
    with_role = select(Account.person_id).join(RoleAssignment).where(RoleAssignment.organisation_id == org_id)
    return list(
        session.scalars(
            select(Person)
            .where(or_(Person.organisation_id == org_id, Person.id.in_(with_role)), Person.is_active)
            .order_by(Person.full_name)
        )
    )


def unit_heads(session: Session, org_id: int) -> list[Person]:
    """The unit's people who sign in as its head (they approve handovers): who signs a loss minute for the unit."""
    return [
        person
        for person in unit_people(session, org_id)
        if can(session, account_of(session, person), Permission.APPROVE_HANDOVER, org_id)
    ]


def witness_candidates(session: Session, org_id: int, named_by: Account) -> list[Person]:
    """Who may witness a handover of the unit's token that ``named_by`` opens, as the handover checks it
    (:func:`certsvc.policy.may_witness`): people who sign in and see the unit's register, and of the unit
    unless the head names them (the district's inspector for a commune, say)."""
    viewing_roles = [role for role, granted in GRANTS.items() if Permission.VIEW_CUSTODY in granted]
    accounts = session.scalars(
        select(Account)
        .join(Person, Account.person_id == Person.id)
        .where(
            Account.is_disabled.is_(False),
            Person.is_active,
            Account.id.in_(select(RoleAssignment.account_id).where(RoleAssignment.role.in_(viewing_roles))),
        )
    )
    people = [account.person for account in accounts if may_witness(session, account, org_id, named_by)]
    return sorted(people, key=lambda person: person.full_name)


def account_of(session: Session, person: Person) -> Account | None:
    return session.scalar(select(Account).where(Account.person_id == person.id))


def may_keep(session: Session, person: Person, org_id: int) -> bool:
    """Whether the person signs in as clerk or head of the unit: who may keep its seal token."""
    return can(session, account_of(session, person), Permission.RECORD_CUSTODY, org_id)


def name_of(person: Person | None) -> str | None:
    return None if person is None else person.full_name


def token_facts(session: Session, token: Token) -> dict:
    certificate = certificate_of(session, token)
    return {
        "serial": token.serial,
        "model": token.model,
        "unit": token.organisation.name,
        "certificate_serial": certificate.serial_hex if certificate else None,
        "certificate_subject": certificate.subject_cn if certificate else None,
        "certificate_valid_to": format_vietnam(certificate.not_after) if certificate else None,
    }


def actor_of(account: Account) -> Actor:
    return Actor.of(account)


def audit(
    session: Session, account: Account, action: str, event: CustodyEvent | None, token: Token, extra: dict | None = None
) -> None:
    details = {"serial": token.serial, **(extra or {})}
    if event is not None:
        details.update(entry=event.seq, hash=event.hash, kind=event.kind.value)
    record(session, actor_of(account), action, "token", token.id, details)


# -- who acts, one at a time -------------------------------------------------------------------------


def lock_token(session: Session, token_id: int) -> bool:
    """Take the token's register row (False when it is not in the register). An UPDATE that changes
    nothing locks the row on PostgreSQL and takes the write lock on SQLite: concurrent changes of one
    token queue here, and each then reads what the one before did."""
    result = cast(
        CursorResult,
        session.execute(
            update(CustodyToken)
            .where(CustodyToken.token_id == token_id)
            .values(token_id=CustodyToken.token_id)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def take_token(session: Session, by: Account, token: Token, field: str = "kind") -> None:
    """Before any change of a registered token: 404 to whoever may not record the unit's custody (MẬT);
    the token's row locked and the token read afresh; then the keeper rule (403 to a recorder who neither
    keeps the token nor heads the unit)."""
    ensure_visible(session, by, token.organisation_id, Permission.RECORD_CUSTODY, "Không tìm thấy thiết bị.")
    if not lock_token(session, token.id):
        raise ValidationFailed({field: "Thiết bị chưa có trong sổ theo dõi: ghi việc nhận từ CA trước."})
    session.refresh(token)
    if not may_act_on_token(session, by, token.organisation_id, keeper_ids(session, [token.id]).get(token.id)):
        raise PermissionDenied("Chỉ người đang giữ thiết bị theo sổ theo dõi hoặc thủ trưởng đơn vị ghi việc này.")
