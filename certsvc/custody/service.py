"""Rules of the custody register: receiving, handing over, checking, losing and returning MẬT tokens.

No Flask here. Every function takes the acting account and asks :mod:`certsvc.policy`
(the JSON API calls them directly): a token or handover of a unit where the account may not
see the register is not found (MẬT), and only the keeper and the unit head act on a token
(:func:`certsvc.policy.may_act_on_token`). Each change first takes the token's register row
(:func:`_take`), so that of two changes at once one waits for the other and then sees what it
did. The functions check the domain rules, raise :class:`ValidationFailed` (400, nothing
written) for bad input and :class:`Conflict` (409) when the register moved on, and
write exactly one audit entry per action in the caller's transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, RoleAssignment
from certsvc.audit.service import Actor, record
from certsvc.config import setting_default, setting_value
from certsvc.core.records import MAX_ID
from certsvc.core.validation import (
    FieldCollector,
    FieldError,
    clean_day,
    clean_flag,
    clean_text,
    non_empty,
    parse_count,
)
from certsvc.custody.chain import append_event, keeper_ids
from certsvc.custody.models import (
    CustodyEvent,
    CustodyEventKind,
    CustodyToken,
    Handover,
    HandoverStatus,
    PermissionKind,
)
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.people.models import Person
from certsvc.policy import Permission, can, may_act_on_token, may_witness, orgs_in_scope
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.registry.service import transition_token
from certsvc.registry.tokens import custody_change
from certsvc.requests.models import CertificateRequest
from certsvc.requests.service import draft_lost_token_revocation
from certsvc.timeutil import VIETNAM_TZ, format_vietnam, utcnow

__all__ = [
    "CustodySettings", "EVENT_FORM_KINDS", "is_custody_item", "get_token", "get_handover", "custody_tokens",
    "current_keeper", "in_register", "events_of", "handovers_of", "unit_people", "certificate_of",
    "effective_status", "receive", "record_event",
    "report_loss", "start_handover", "confirm_handover", "approve_handover", "pending_for", "book_events",
    "details_of", "happened_at", "summary", "LossReport",
]

E = CustodyEventKind
#: Tokens in these states cannot be handed over.
_NOT_HANDED = {TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED, TokenState.DAMAGED}
#: Events that end a token's custody or suspend it: a pending handover is cancelled.
_CANCELS_HANDOVER = {E.LOST, E.RETURNED, E.DESTROYED, E.DAMAGED}
#: The token state each event moves to (none: the state stays).
_STATE_AFTER = {E.FOUND: TokenState.ACTIVE, E.DAMAGED: TokenState.DAMAGED, E.RETURNED: TokenState.RETURNED,
                E.DESTROYED: TokenState.DESTROYED, E.LOST: TokenState.LOST}
#: Events recorded with the plain event form (receiving, loss and handover have their own).
EVENT_FORM_KINDS = (E.INVENTORY, E.DAMAGED, E.FOUND, E.RETURNED, E.DESTROYED)


@dataclass(frozen=True)
class CustodySettings:
    """``CERTSVC_CUSTODY_WITNESS_REQUIRED`` and ``CERTSVC_CUSTODY_PENDING_HOURS``."""

    witness_required: bool = setting_default("CERTSVC_CUSTODY_WITNESS_REQUIRED")
    pending_hours: int = setting_default("CERTSVC_CUSTODY_PENDING_HOURS")

    @classmethod
    def from_config(cls, config: Mapping) -> CustodySettings:
        """From the app's config, checked by :func:`certsvc.config.setting_value`."""
        return cls(witness_required=setting_value(config, "CERTSVC_CUSTODY_WITNESS_REQUIRED"),
                   pending_hours=setting_value(config, "CERTSVC_CUSTODY_PENDING_HOURS"))


# -- finding things -------------------------------------------------------------------------------

def is_custody_item(token: Token) -> bool:
    return token.kind is TokenKind.ORGANISATION or token.is_secret


def _visible(session: Session, by: Account, org_id: int, permission: Permission, missing: str) -> None:
    """MẬT: whoever lacks the permission at the unit is told the item does not exist."""
    if not can(session, by, permission, org_id):
        raise NotFound(missing)


def get_token(session: Session, by: Account, token_id: int, permission: Permission = Permission.VIEW_CUSTODY,
              ) -> Token:
    """The custody item, if ``by`` holds ``permission`` at its unit."""
    token = session.get(Token, token_id)
    if token is None or not is_custody_item(token):
        raise NotFound("Không tìm thấy thiết bị.")
    _visible(session, by, token.organisation_id, permission, "Không tìm thấy thiết bị.")
    return token


def get_handover(session: Session, by: Account, handover_id: int,
                 permission: Permission = Permission.VIEW_CUSTODY) -> Handover:
    """The handover, if ``by`` holds ``permission`` at its unit."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound("Không tìm thấy biên bản bàn giao.")
    _visible(session, by, handover.organisation_id, permission, "Không tìm thấy biên bản bàn giao.")
    return handover


def custody_tokens(session: Session, by: Account) -> list[Token]:
    """The MẬT tokens (organisation tokens and tokens marked secret) of the units where ``by`` sees the register."""
    org_ids = orgs_in_scope(session, by, Permission.VIEW_CUSTODY)
    return list(session.scalars(
        select(Token)
        .where(Token.organisation_id.in_(org_ids), or_(Token.kind == TokenKind.ORGANISATION, Token.is_secret))
        .order_by(Token.organisation_id, Token.serial)
    ))


def current_keeper(session: Session, token: Token) -> Person | None:
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    return None if keeper_id is None else session.get(Person, keeper_id)


def in_register(session: Session, token: Token) -> bool:
    """Whether the token is in the custody register (then only the register changes its state)."""
    return session.get(CustodyToken, token.id) is not None


def events_of(session: Session, token: Token) -> list[CustodyEvent]:
    return list(session.scalars(select(CustodyEvent).where(CustodyEvent.token_id == token.id)
                                .order_by(CustodyEvent.seq)))


def handovers_of(session: Session, token: Token) -> list[Handover]:
    return list(session.scalars(select(Handover).where(Handover.token_id == token.id).order_by(Handover.id.desc())))


def certificate_of(session: Session, token: Token) -> Certificate | None:
    """The newest certificate on the token."""
    return session.scalar(select(Certificate).where(Certificate.token_id == token.id)
                          .order_by(Certificate.not_before.desc()).limit(1))


def effective_status(handover: Handover, now: datetime | None = None) -> HandoverStatus:
    """The status as it stands now: a pending handover past its time has expired."""
    if handover.status is HandoverStatus.PENDING and (now or utcnow()) >= handover.expires_at:
        return HandoverStatus.EXPIRED
    return handover.status


def pending_for(session: Session, by: Account) -> list[Handover]:
    """Pending handovers that ``by`` sees: in the units where he records custody, or where he is a party."""
    now = utcnow()
    person_id = by.person_id
    concerned = or_(Handover.giver_id == person_id, Handover.receiver_id == person_id,
                    Handover.witness_id == person_id,
                    Handover.organisation_id.in_(orgs_in_scope(session, by, Permission.RECORD_CUSTODY)))
    return list(session.scalars(
        select(Handover).where(Handover.status == HandoverStatus.PENDING, Handover.expires_at > now, concerned,
                               Handover.organisation_id.in_(orgs_in_scope(session, by, Permission.VIEW_CUSTODY)))
        .order_by(Handover.created_at)
    ))


# -- input ------------------------------------------------------------------------------------------

_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def _clean_time(value: object) -> time | None:
    text = str(value or "").strip()
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise FieldError("Giờ không hợp lệ; nhập theo dạng giờ:phút, ví dụ 14:30.")
    return time(int(match.group(1)), int(match.group(2)))


def _text(max_length: int, required: bool = False):
    return lambda value: clean_text(str(value or ""), required=required, max_length=max_length)


def _person_id(value: object) -> int | None:
    return parse_count(value, minimum=1, maximum=MAX_ID, message="Chọn một người trong danh sách.")


def _moment(day: date | None, at: time | None) -> datetime | None:
    """A Vietnam date and time as an aware UTC moment."""
    if day is None:
        return None
    return datetime.combine(day, at or time(0, 0), tzinfo=VIETNAM_TZ).astimezone(UTC)


def _person(session: Session, fields: FieldCollector, name: str) -> Person | None:
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
    return list(session.scalars(select(Person).where(
        or_(Person.organisation_id == org_id, Person.id.in_(with_role)), Person.is_active).order_by(Person.full_name)))


def _account_of(session: Session, person: Person) -> Account | None:
    return session.scalar(select(Account).where(Account.person_id == person.id))


def _may_keep(session: Session, person: Person, org_id: int) -> bool:
    """Whether the person signs in as clerk or head of the unit: who may keep its seal token."""
    return can(session, _account_of(session, person), Permission.RECORD_CUSTODY, org_id)


def _name(person: Person | None) -> str | None:
    return None if person is None else person.full_name


def _token_facts(session: Session, token: Token) -> dict:
    certificate = certificate_of(session, token)
    return {
        "serial": token.serial,
        "model": token.model,
        "unit": token.organisation.name,
        "certificate_serial": certificate.serial_hex if certificate else None,
        "certificate_subject": certificate.subject_cn if certificate else None,
        "certificate_valid_to": format_vietnam(certificate.not_after) if certificate else None,
    }


def _actor(account: Account) -> Actor:
    return Actor.of(account)


def _audit(session: Session, account: Account, action: str, event: CustodyEvent | None, token: Token,
           extra: dict | None = None) -> None:
    details = {"serial": token.serial, **(extra or {})}
    if event is not None:
        details.update(entry=event.seq, hash=event.hash, kind=event.kind.value)
    record(session, _actor(account), action, "token", token.id, details)


# -- who acts, one at a time -------------------------------------------------------------------------

def _lock(session: Session, token_id: int) -> bool:
    """Take the token's register row (False when it is not in the register). An UPDATE that changes
    nothing locks the row on PostgreSQL and takes the write lock on SQLite: concurrent changes of one
    token queue here, and each then reads what the one before did."""
    return session.execute(
        update(CustodyToken).where(CustodyToken.token_id == token_id)
        .values(token_id=CustodyToken.token_id).execution_options(synchronize_session=False)
    ).rowcount == 1


def _take(session: Session, by: Account, token: Token, field: str = "kind") -> None:
    """Before any change of a registered token: 404 to whoever may not record the unit's custody (MẬT);
    the token's row locked and the token read afresh; then the keeper rule (403 to a recorder who neither
    keeps the token nor heads the unit)."""
    _visible(session, by, token.organisation_id, Permission.RECORD_CUSTODY, "Không tìm thấy thiết bị.")
    if not _lock(session, token.id):
        raise ValidationFailed({field: "Thiết bị chưa có trong sổ theo dõi: ghi việc nhận từ CA trước."})
    session.refresh(token)
    if not may_act_on_token(session, by, token.organisation_id, keeper_ids(session, [token.id]).get(token.id)):
        raise PermissionDenied("Chỉ người đang giữ thiết bị theo sổ theo dõi hoặc thủ trưởng đơn vị ghi việc này.")


def _set_state(session: Session, by: Account, token: Token, to: TokenState, reason: str) -> None:
    """Through the registry's own transition (it closes an open return to the CA when the token goes back),
    as the custody register: the registry refuses anyone else a change of a token in the register."""
    with custody_change(session):
        transition_token(session, _actor(by), token, to, reason)


# -- simple events ------------------------------------------------------------------------------------

def _cancel_pending(session: Session, token: Token) -> None:
    session.execute(update(Handover).where(Handover.token_id == token.id, Handover.status == HandoverStatus.PENDING)
                    .values(status=HandoverStatus.CANCELLED))
    session.execute(update(CustodyToken).where(CustodyToken.token_id == token.id)
                    .values(claim_handover_id=None, claim_until=None))


def _common_fields(raw: Mapping) -> FieldCollector:
    fields = FieldCollector(raw)
    fields.take("event_date", clean_day)
    fields.take("event_time", _clean_time)
    fields.take("place", _text(255))
    fields.take("condition", _text(500))
    fields.take("seal_numbers", _text(255))
    fields.take("note", _text(1000))
    if fields.values.get("event_time") and fields.values.get("event_date") is None \
            and "event_date" not in fields.errors:
        fields.fail("event_date", "Đã nhập giờ thì nhập cả ngày xảy ra.")
    return fields


def _event_details(session: Session, token: Token, fields: FieldCollector, **extra) -> dict:
    values = fields.values
    happened = _moment(values.get("event_date"), values.get("event_time")) or utcnow()
    details = {**_token_facts(session, token), "happened_at": happened.isoformat(),
               **{k: values.get(k) for k in ("place", "condition", "seal_numbers", "note") if values.get(k)}}
    details.update({k: v for k, v in extra.items() if v is not None})
    return details


def receive(session: Session, account: Account, token: Token, raw: Mapping) -> CustodyEvent:
    """The first entry of a token: received from the CA by the person who will keep it."""
    _visible(session, account, token.organisation_id, Permission.RECORD_CUSTODY, "Không tìm thấy thiết bị.")
    fields = _common_fields(raw)
    fields.take("keeper_id", non_empty(_person_id))
    fields.take("accessories", _text(500))
    keeper = _person(session, fields, "keeper_id")
    if in_register(session, token):
        fields.fail("keeper_id", "Thiết bị đã có trong sổ theo dõi; việc nhận từ CA chỉ ghi một lần.")
    if keeper is not None and not _may_keep(session, keeper, token.organisation_id):
        fields.fail("keeper_id", "Người giữ thiết bị phải là văn thư hoặc thủ trưởng đơn vị có tài khoản.")
    fields.raise_if_failed()
    session.add(CustodyToken(token_id=token.id))
    details = _event_details(session, token, fields, keeper_name=keeper.full_name,
                             accessories=fields.values.get("accessories"))
    if token.state is TokenState.IN_STOCK:
        _set_state(session, account, token, TokenState.ACTIVE, "Nhận thiết bị từ tổ chức cung cấp dịch vụ")
    event = append_event(session, _actor(account), token, E.RECEIVED, keeper.id, details)
    _audit(session, account, "custody.received", event, token)
    return event


def record_event(session: Session, account: Account, token: Token, raw: Mapping) -> CustodyEvent:
    """Inventory check, damage, found, returned to the CA (Mẫu 08) or destroyed."""
    _take(session, account, token)
    fields = _common_fields(raw)
    kind_text = str(raw.get("kind") or "")
    kind = next((k for k in EVENT_FORM_KINDS if k.value == kind_text), None)
    if kind is None:
        fields.fail("kind", "Chọn loại sự kiện.")
    if kind is E.FOUND:
        fields.take("keeper_id", non_empty(_person_id))
    if kind is E.RETURNED:
        fields.take("ca_name", _text(255, required=True))
        fields.take("ca_representative", _text(200, required=True))
        fields.take("reason", _text(500, required=True))
    if kind in (E.DAMAGED, E.DESTROYED, E.FOUND):
        fields.take("note", _text(1000, required=True))
    keeper = _person(session, fields, "keeper_id")
    if keeper is not None and not _may_keep(session, keeper, token.organisation_id):
        fields.fail("keeper_id", "Người giữ thiết bị phải là văn thư hoặc thủ trưởng đơn vị có tài khoản.")
    fields.raise_if_failed()
    keepers = keeper_ids(session, [token.id])
    if token.state in (TokenState.RETURNED, TokenState.DESTROYED) and kind is not E.DESTROYED:
        raise ValidationFailed({"kind": f"Thiết bị đang ở trạng thái «{token.state.label}»."})
    if kind is E.FOUND and token.state is not TokenState.LOST:
        raise ValidationFailed({"kind": "Chỉ ghi «Tìm thấy» cho thiết bị đang báo mất."})
    if kind is E.INVENTORY and token.state is TokenState.LOST:
        raise ValidationFailed({"kind": "Thiết bị đang báo mất: không kiểm kê được."})
    new_keeper = keepers.get(token.id)
    if kind is E.FOUND:
        new_keeper = keeper.id
    elif kind in (E.RETURNED, E.DESTROYED):
        new_keeper = None
    previous = session.get(Person, keepers[token.id]) if keepers.get(token.id) else None
    details = _event_details(
        session, token, fields, keeper_name=_name(session.get(Person, new_keeper)) if new_keeper else None,
        previous_keeper_name=_name(previous), ca_name=fields.values.get("ca_name"),
        ca_representative=fields.values.get("ca_representative"), reason=fields.values.get("reason"),
    )
    if kind in _STATE_AFTER:
        _set_state(session, account, token, _STATE_AFTER[kind], f"Sổ theo dõi: {kind.label}")
    if kind in _CANCELS_HANDOVER:
        _cancel_pending(session, token)
    event = append_event(session, _actor(account), token, kind, new_keeper, details)
    _audit(session, account, f"custody.{kind.value}", event, token)
    return event


@dataclass(frozen=True)
class LossReport:
    event: CustodyEvent
    #: The draft revocation request (Mẫu 05), when the requests capability offers one.
    revocation_request: CertificateRequest | None


def _draft_revocation(session: Session, account: Account, token: Token, event: CustodyEvent):
    """Draft the revocation request (Mẫu 05) of the lost token's certificate, if it has one."""
    certificate = certificate_of(session, token)
    if certificate is None:
        return None
    fields = {"certificate_id": certificate.id, "reason": "lost_token",
              "reason_detail": f"Mất thiết bị lưu khóa bí mật số {token.serial} (sổ theo dõi, mục số {event.seq})."}
    try:
        with session.begin_nested():
            return draft_lost_token_revocation(session, account, token.organisation_id, fields)
    except (ValidationFailed, Conflict):
        # e.g. a revocation of that certificate is already open: the loss stands on its own.
        return None


def report_loss(session: Session, account: Account, token: Token, raw: Mapping) -> LossReport:
    """Mark the token lost at once, record it, draft the revocation request (Mẫu 05); minutes are Mẫu 09."""
    _take(session, account, token, "circumstances")
    fields = _common_fields(raw)
    fields.take("circumstances", _text(1000, required=True))
    fields.raise_if_failed()
    if token.state in (TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED):
        raise ValidationFailed({"circumstances": f"Thiết bị đang ở trạng thái «{token.state.label}»."})
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    keeper = session.get(Person, keeper_id) if keeper_id else None
    details = _event_details(session, token, fields, circumstances=fields.values["circumstances"],
                             previous_keeper_name=_name(keeper), reporter_name=account.person.full_name)
    _set_state(session, account, token, TokenState.LOST, f"Báo mất: {fields.values['circumstances']}")
    _cancel_pending(session, token)
    event = append_event(session, _actor(account), token, E.LOST, None, details)
    draft = _draft_revocation(session, account, token, event)
    _audit(session, account, "custody.lost", event, token, {"revocation_drafted": draft is not None})
    return LossReport(event, draft)


# -- handovers ------------------------------------------------------------------------------------------

def _handover_fields(session: Session, token: Token, raw: Mapping, settings: CustodySettings) -> FieldCollector:
    fields = FieldCollector(raw)
    for name in ("giver_id", "receiver_id"):
        fields.take(name, non_empty(_person_id))
    fields.take("witness_id", _person_id)
    fields.take("handed_date", non_empty(clean_day))
    fields.take("handed_time", non_empty(_clean_time))
    fields.take("place", _text(255, required=True))
    fields.take("condition", _text(500, required=True))
    fields.take("accessories", _text(500))
    fields.take("seal_numbers", _text(255))
    fields.take("reason", _text(500, required=True))
    fields.take("decision_number", _text(64))
    fields.take("decision_date", clean_day)
    fields.take("ask_approval", clean_flag)
    if settings.witness_required and "witness_id" not in fields.errors and fields.values.get("witness_id") is None:
        fields.fail("witness_id", "Phải có người chứng kiến việc bàn giao.")
    return fields


def _check_parties(session: Session, by: Account, token: Token, fields: FieldCollector) -> tuple:
    org = token.organisation_id
    giver = _person(session, fields, "giver_id")
    receiver = _person(session, fields, "receiver_id")
    witness = _person(session, fields, "witness_id")
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    if giver is not None and giver.id != keeper_id:
        fields.fail("giver_id", "Người giao không phải là người đang giữ thiết bị theo sổ theo dõi.")
    if giver is not None and receiver is not None and giver.id == receiver.id:
        fields.fail("receiver_id", "Không thể tự bàn giao thiết bị cho chính mình.")
    if witness is not None and witness.id in {getattr(giver, "id", None), getattr(receiver, "id", None)}:
        fields.fail("witness_id", "Người chứng kiến không được là bên giao hoặc bên nhận.")
    elif witness is not None and not may_witness(session, _account_of(session, witness), org, by):
        fields.fail("witness_id", "Người chứng kiến phải thuộc đơn vị (hoặc do thủ trưởng đơn vị chỉ định) và có "
                                  "tài khoản xem sổ theo dõi để tự xác nhận biên bản.")
    if receiver is not None and receiver.id != getattr(giver, "id", None) and not _may_keep(session, receiver, org):
        fields.fail("receiver_id", "Người nhận phải là văn thư hoặc thủ trưởng đơn vị có tài khoản để xác nhận.")
    return giver, receiver, witness


def _check_permission(fields: FieldCollector) -> PermissionKind | None:
    values = fields.values
    has_decision = bool(values.get("decision_number")) or values.get("decision_date") is not None
    if values.get("ask_approval") and not has_decision:
        return PermissionKind.APPROVAL
    if not has_decision:
        fields.fail("decision_number", "Thiếu văn bản cho phép của người có thẩm quyền: nhập số và ngày văn bản, "
                                       "hoặc chọn xin thủ trưởng đơn vị phê duyệt trên hệ thống.")
        return None
    if not values.get("decision_number"):
        fields.fail("decision_number", "Nhập số văn bản cho phép.")
    if values.get("decision_date") is None and "decision_date" not in fields.errors:
        fields.fail("decision_date", "Nhập ngày của văn bản cho phép.")
    return PermissionKind.DECISION


def _claim(session: Session, token: Token, handover: Handover, now: datetime) -> None:
    """Take the token for this handover with one conditional UPDATE: of two at once, one wins."""
    claimed = session.execute(
        update(CustodyToken)
        .where(CustodyToken.token_id == token.id,
               or_(CustodyToken.claim_handover_id.is_(None), CustodyToken.claim_until <= now))
        .values(claim_handover_id=handover.id, claim_until=handover.expires_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict("Thiết bị đang có một biên bản bàn giao khác chờ xác nhận; hoàn tất hoặc chờ biên bản đó "
                       "hết hạn trước.", code="custody_handover_pending")


def start_handover(session: Session, account: Account, token: Token, raw: Mapping,
                   settings: CustodySettings = CustodySettings()) -> Handover:
    """Open a handover: pending until permission is there and giver, receiver and witness have confirmed."""
    _take(session, account, token, "giver_id")
    if token.state in _NOT_HANDED:
        raise ValidationFailed({"giver_id": f"Thiết bị đang ở trạng thái «{token.state.label}»: không bàn giao "
                                            "được."}, f"Thiết bị «{token.state.label}» không bàn giao được.")
    fields = _handover_fields(session, token, raw, settings)
    giver, receiver, witness = _check_parties(session, account, token, fields)
    permission = _check_permission(fields)
    fields.raise_if_failed()
    values = fields.values
    now = utcnow()
    certificate = certificate_of(session, token)
    handover = Handover(
        token=token, organisation_id=token.organisation_id, giver=giver, receiver=receiver, witness=witness,
        certificate=certificate, permission_kind=permission,
        decision_number=values["decision_number"] if permission is PermissionKind.DECISION else None,
        decision_date=values["decision_date"] if permission is PermissionKind.DECISION else None,
        handed_at=_moment(values["handed_date"], values["handed_time"]), place=values["place"],
        condition=values["condition"], accessories=values.get("accessories"), seal_numbers=values.get("seal_numbers"),
        reason=values["reason"], status=HandoverStatus.PENDING, created_by_id=account.id, created_at=now,
        expires_at=now + timedelta(hours=settings.pending_hours),
    )
    session.add(handover)
    session.flush()
    _claim(session, token, handover, now)
    _audit(session, account, "custody.handover_started", None, token,
           {"handover": handover.id, "giver": giver.full_name, "receiver": receiver.full_name,
            "witness": _name(witness), "permission": permission.value})
    return handover


def _ensure_open(handover: Handover) -> None:
    status = effective_status(handover)
    if status is HandoverStatus.EXPIRED:
        raise Conflict(f"Biên bản bàn giao đã hết hạn lúc {format_vietnam(handover.expires_at)}; "
                       "hãy lập biên bản mới.", code="custody_handover_expired")
    if status is not HandoverStatus.PENDING:
        raise Conflict(f"Biên bản bàn giao đã ở trạng thái «{status.label}».", code="custody_handover_closed")


def _handover_details(session: Session, handover: Handover) -> dict:
    details = _token_facts(session, handover.token)
    details.update({
        "handover": handover.id,
        "giver_name": handover.giver.full_name, "giver_position": handover.giver.position,
        "receiver_name": handover.receiver.full_name, "receiver_position": handover.receiver.position,
        "witness_name": _name(handover.witness),
        "witness_position": handover.witness.position if handover.witness else None,
        "keeper_name": handover.receiver.full_name,
        "permission": handover.permission_kind.value,
        "decision_number": handover.decision_number,
        "decision_date": handover.decision_date.isoformat() if handover.decision_date else None,
        "approved_by": _approver_name(session, handover),
        "approved_at": handover.approved_at.isoformat() if handover.approved_at else None,
        "happened_at": handover.handed_at.isoformat(), "place": handover.place, "condition": handover.condition,
        "accessories": handover.accessories, "seal_numbers": handover.seal_numbers, "reason": handover.reason,
        "giver_confirmed_at": handover.giver_confirmed_at.isoformat(),
        "receiver_confirmed_at": handover.receiver_confirmed_at.isoformat(),
        "witness_confirmed_at": handover.witness_confirmed_at.isoformat() if handover.witness_confirmed_at else None,
    })
    return {key: value for key, value in details.items() if value is not None}


def _approver_name(session: Session, handover: Handover) -> str | None:
    approver = session.get(Account, handover.approved_by_id) if handover.approved_by_id else None
    return None if approver is None else approver.person.full_name


def _complete_if_ready(session: Session, account: Account, handover: Handover) -> CustodyEvent | None:
    ready = (handover.giver_confirmed_at and handover.receiver_confirmed_at
             and (handover.witness_id is None or handover.witness_confirmed_at)
             and (handover.permission_kind is PermissionKind.DECISION or handover.approved_at))
    if not ready:
        return None
    token = handover.token
    event = append_event(session, _actor(account), token, E.HANDED_OVER, handover.receiver_id,
                         _handover_details(session, handover), from_keeper=handover.giver_id)
    released = session.execute(
        update(CustodyToken)
        .where(CustodyToken.token_id == token.id, CustodyToken.claim_handover_id == handover.id)
        .values(claim_handover_id=None, claim_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if released != 1:
        raise Conflict("Biên bản bàn giao không còn giữ thiết bị (đã hết hạn và có biên bản khác).",
                       code="custody_claim_lost")
    handover.status = HandoverStatus.COMPLETED
    handover.event_seq = event.seq
    return event


def _take_handover(session: Session, by: Account, handover: Handover) -> None:
    """Before any change of a handover: 404 to whoever may not see the unit's register (MẬT); the token's
    register row locked (as every change of the token does, so that none deadlocks another), the handover
    read afresh and still open."""
    _visible(session, by, handover.organisation_id, Permission.VIEW_CUSTODY, "Không tìm thấy biên bản bàn giao.")
    _lock(session, handover.token_id)
    session.refresh(handover)
    _ensure_open(handover)


#: The parties who confirm a handover, each with the column of the confirmation.
_SIDES = (("giver", "giver_id", "giver_confirmed_at"), ("receiver", "receiver_id", "receiver_confirmed_at"),
          ("witness", "witness_id", "witness_confirmed_at"))


def confirm_handover(session: Session, account: Account, handover: Handover) -> CustodyEvent | None:
    """The giver, the receiver and the witness confirm, each signed in as themselves; the last confirmation
    writes the register."""
    _take_handover(session, account, handover)
    side, confirmed = next(((side, column) for side, party, column in _SIDES
                            if getattr(handover, party) == account.person_id), (None, None))
    if side is None:
        raise PermissionDenied("Chỉ người giao, người nhận và người chứng kiến tự xác nhận, mỗi người bằng tài "
                               "khoản của mình.")
    if getattr(handover, confirmed) is not None:
        raise Conflict("Bạn đã xác nhận biên bản này rồi.", code="custody_already_confirmed")
    setattr(handover, confirmed, utcnow())
    session.flush()
    event = _complete_if_ready(session, account, handover)
    action = "custody.handover_completed" if event else "custody.handover_confirmed"
    _audit(session, account, action, event, handover.token, {"handover": handover.id, "side": side})
    return event


def approve_handover(session: Session, account: Account, handover: Handover) -> CustodyEvent | None:
    """The unit head gives the written permission in the application."""
    _take_handover(session, account, handover)
    if not can(session, account, Permission.APPROVE_HANDOVER, handover.organisation_id):
        raise PermissionDenied("Chỉ thủ trưởng đơn vị phê duyệt việc bàn giao.")
    if handover.permission_kind is not PermissionKind.APPROVAL or handover.approved_at is not None:
        raise Conflict("Biên bản này không chờ phê duyệt.", code="custody_not_awaiting_approval")
    handover.approved_at = utcnow()
    handover.approved_by_id = account.id
    session.flush()
    event = _complete_if_ready(session, account, handover)
    _audit(session, account, "custody.handover_approved", event, handover.token, {"handover": handover.id})
    return event


# -- reading entries -------------------------------------------------------------------------------------

def details_of(event: CustodyEvent) -> dict:
    try:
        value = json.loads(event.details)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def happened_at(event: CustodyEvent) -> datetime:
    """When the event happened, as recorded (the register time when none was given)."""
    text = details_of(event).get("happened_at")
    try:
        return datetime.fromisoformat(text).astimezone(UTC) if text else event.occurred_at
    except (TypeError, ValueError):
        return event.occurred_at


def summary(event: CustodyEvent) -> str:
    """One line saying what the entry records."""
    d = details_of(event)
    if event.kind is E.HANDED_OVER:
        text = f"{d.get('giver_name')} giao cho {d.get('receiver_name')}"
        if d.get("witness_name"):
            text += f", chứng kiến: {d['witness_name']}"
        if d.get("decision_number"):
            text += f"; theo văn bản số {d['decision_number']}"
        elif d.get("approved_by"):
            text += f"; {d['approved_by']} phê duyệt trên hệ thống"
        return text
    parts = {
        E.RECEIVED: f"Người giữ: {d.get('keeper_name')}",
        E.LOST: d.get("circumstances"),
        E.FOUND: f"Người giữ: {d.get('keeper_name')}",
        E.RETURNED: f"Nộp lại {d.get('ca_name')} ({d.get('ca_representative')}): {d.get('reason')}",
    }
    pieces = [parts.get(event.kind), d.get("condition") and f"Tình trạng: {d['condition']}",
              d.get("seal_numbers") and f"Niêm phong: {d['seal_numbers']}", d.get("note")]
    return "; ".join(p for p in pieces if p)


# -- the yearly book -------------------------------------------------------------------------------------

def book_events(session: Session, org_id: int, year: int) -> list[CustodyEvent]:
    """The unit's register entries of a year (Vietnam calendar)."""
    start = datetime(year, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    return list(session.scalars(
        select(CustodyEvent)
        .where(CustodyEvent.organisation_id == org_id, CustodyEvent.occurred_at >= start,
               CustodyEvent.occurred_at < end)
        .order_by(CustodyEvent.seq)
    ))
