"""Handovers of a custody token: started by the giver's side, confirmed by giver, receiver and witness,
approved by the unit head when a permission is asked; the register entry is written when all have agreed.

The rules every change shares are :mod:`certsvc.custody.service`'s: the acting account is checked, bad input
changes nothing, one audit entry per action in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.validation import FieldCollector, clean_day, clean_flag, non_empty, validated
from certsvc.custody.chain import append_event
from certsvc.custody.models import (
    CustodyEvent,
    CustodyEventKind,
    CustodyToken,
    Handover,
    HandoverStatus,
    PermissionKind,
    keeper_ids,
)
from certsvc.custody.service import (
    CustodySettings,
    account_of,
    actor_of,
    audit,
    certificate_of,
    clean_person_id,
    clean_time,
    effective_status,
    ensure_visible,
    field_moment,
    lock_token,
    may_keep,
    name_of,
    person_field,
    take_token,
    text_field,
    token_facts,
)
from certsvc.errors import Conflict, PermissionDenied, ValidationFailed
from certsvc.people.models import Person
from certsvc.policy import Permission, can, may_witness
from certsvc.registry.models import Token, TokenState
from certsvc.timeutil import format_vietnam, utcnow

__all__ = ["approve_handover", "confirm_handover", "start_handover"]

#: Tokens in these states cannot be handed over.
_NOT_HANDED = {TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED, TokenState.DAMAGED}

#: The settings of a handover started without the app's (:meth:`CustodySettings.from_config`).
_DEFAULT_SETTINGS = CustodySettings()


def _handover_fields(session: Session, token: Token, raw: Mapping, settings: CustodySettings) -> FieldCollector:
    fields = FieldCollector(raw)
    for name in ("giver_id", "receiver_id"):
        fields.take(name, non_empty(clean_person_id))
    fields.take("witness_id", clean_person_id)
    fields.take("handed_date", non_empty(clean_day))
    fields.take("handed_time", non_empty(clean_time))
    fields.take("place", text_field(255, required=True))
    fields.take("condition", text_field(500, required=True))
    fields.take("accessories", text_field(500))
    fields.take("seal_numbers", text_field(255))
    fields.take("reason", text_field(500, required=True))
    fields.take("decision_number", text_field(64))
    fields.take("decision_date", clean_day)
    fields.take("ask_approval", clean_flag)
    if settings.witness_required and "witness_id" not in fields.errors and fields.values.get("witness_id") is None:
        fields.fail("witness_id", "Phải có người chứng kiến việc bàn giao.")
    return fields


def _check_parties(
    session: Session, by: Account, token: Token, fields: FieldCollector
) -> tuple[Person | None, Person | None, Person | None]:
    org = token.organisation_id
    giver = person_field(session, fields, "giver_id")
    receiver = person_field(session, fields, "receiver_id")
    witness = person_field(session, fields, "witness_id")
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    if giver is not None and giver.id != keeper_id:
        fields.fail("giver_id", "Người giao không phải là người đang giữ thiết bị theo sổ theo dõi.")
    if giver is not None and receiver is not None and giver.id == receiver.id:
        fields.fail("receiver_id", "Không thể tự bàn giao thiết bị cho chính mình.")
    if witness is not None and witness.id in {getattr(giver, "id", None), getattr(receiver, "id", None)}:
        fields.fail("witness_id", "Người chứng kiến không được là bên giao hoặc bên nhận.")
    elif witness is not None and not may_witness(session, account_of(session, witness), org, by):
        fields.fail(
            "witness_id",
            "Người chứng kiến phải thuộc đơn vị (hoặc do thủ trưởng đơn vị chỉ định) và có "
            "tài khoản xem sổ theo dõi để tự xác nhận biên bản.",
        )
    if receiver is not None and receiver.id != getattr(giver, "id", None) and not may_keep(session, receiver, org):
        fields.fail("receiver_id", "Người nhận phải là văn thư hoặc thủ trưởng đơn vị có tài khoản để xác nhận.")
    return giver, receiver, witness


def _check_permission(fields: FieldCollector) -> PermissionKind | None:
    values = fields.values
    has_decision = bool(values.get("decision_number")) or values.get("decision_date") is not None
    if values.get("ask_approval") and not has_decision:
        return PermissionKind.APPROVAL
    if not has_decision:
        fields.fail(
            "decision_number",
            "Thiếu văn bản cho phép của người có thẩm quyền: nhập số và ngày văn bản, "
            "hoặc chọn xin thủ trưởng đơn vị phê duyệt trên hệ thống.",
        )
        return None
    if not values.get("decision_number"):
        fields.fail("decision_number", "Nhập số văn bản cho phép.")
    if values.get("decision_date") is None and "decision_date" not in fields.errors:
        fields.fail("decision_date", "Nhập ngày của văn bản cho phép.")
    return PermissionKind.DECISION


def _claim(session: Session, token: Token, handover: Handover, now: datetime) -> None:
    """Take the token for this handover with one conditional UPDATE: of two at once, one wins."""
    claim = cast(
        CursorResult,
        session.execute(
            update(CustodyToken)
            .where(
                CustodyToken.token_id == token.id,
                or_(CustodyToken.claim_handover_id.is_(None), CustodyToken.claim_until <= now),
            )
            .values(claim_handover_id=handover.id, claim_until=handover.expires_at)
            .execution_options(synchronize_session=False)
        ),
    )
    if claim.rowcount != 1:
        raise Conflict(
            "Thiết bị đang có một biên bản bàn giao khác chờ xác nhận; hoàn tất hoặc chờ biên bản đó hết hạn trước.",
            code="custody_handover_pending",
        )


def start_handover(
    session: Session, account: Account, token: Token, raw: Mapping, settings: CustodySettings = _DEFAULT_SETTINGS
) -> Handover:
    """Open a handover: pending until permission is there and giver, receiver and witness have confirmed."""
    take_token(session, account, token, "giver_id")
    if token.state in _NOT_HANDED:
        raise ValidationFailed(
            {"giver_id": f"Thiết bị đang ở trạng thái «{token.state.label}»: không bàn giao được."},
            f"Thiết bị «{token.state.label}» không bàn giao được.",
        )
    fields = _handover_fields(session, token, raw, settings)
    giver, receiver, witness = _check_parties(session, account, token, fields)
    permission = _check_permission(fields)
    fields.raise_if_failed()
    giver, receiver = validated(giver, "giver_id"), validated(receiver, "receiver_id")
    # _check_permission returns None only after failing a field.
    permission = validated(permission, "decision_number")
    values = fields.values
    now = utcnow()
    certificate = certificate_of(session, token)
    handover = Handover(
        token=token,
        organisation_id=token.organisation_id,
        giver=giver,
        receiver=receiver,
        witness=witness,
        certificate=certificate,
        permission_kind=permission,
        decision_number=values["decision_number"] if permission is PermissionKind.DECISION else None,
        decision_date=values["decision_date"] if permission is PermissionKind.DECISION else None,
        handed_at=field_moment(fields, "handed_date", "handed_time"),
        place=values["place"],
        condition=values["condition"],
        accessories=values.get("accessories"),
        seal_numbers=values.get("seal_numbers"),
        reason=values["reason"],
        status=HandoverStatus.PENDING,
        created_by_id=account.id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.pending_hours),
    )
    session.add(handover)
    session.flush()
    _claim(session, token, handover, now)
    audit(
        session,
        account,
        "custody.handover_started",
        None,
        token,
        {
            "handover": handover.id,
            "giver": giver.full_name,
            "receiver": receiver.full_name,
            "witness": name_of(witness),
            "permission": permission.value,
        },
    )
    return handover


def _ensure_open(handover: Handover) -> None:
    status = effective_status(handover)
    if status is HandoverStatus.EXPIRED:
        raise Conflict(
            f"Biên bản bàn giao đã hết hạn lúc {format_vietnam(handover.expires_at)}; hãy lập biên bản mới.",
            code="custody_handover_expired",
        )
    if status is not HandoverStatus.PENDING:
        raise Conflict(f"Biên bản bàn giao đã ở trạng thái «{status.label}».", code="custody_handover_closed")


def _handover_details(session: Session, handover: Handover) -> dict:
    """The details of a complete handover's register entry (both parties have confirmed: :func:`_complete_if_ready`)."""
    giver_confirmed_at = validated(handover.giver_confirmed_at, "giver_confirmed_at")
    receiver_confirmed_at = validated(handover.receiver_confirmed_at, "receiver_confirmed_at")
    details = token_facts(session, handover.token)
    details.update(
        {
            "handover": handover.id,
            "giver_name": handover.giver.full_name,
            "giver_position": handover.giver.position,
            "receiver_name": handover.receiver.full_name,
            "receiver_position": handover.receiver.position,
            "witness_name": name_of(handover.witness),
            "witness_position": handover.witness.position if handover.witness else None,
            "keeper_name": handover.receiver.full_name,
            "permission": handover.permission_kind.value,
            "decision_number": handover.decision_number,
            "decision_date": handover.decision_date.isoformat() if handover.decision_date else None,
            "approved_by": _approver_name(session, handover),
            "approved_at": handover.approved_at.isoformat() if handover.approved_at else None,
            "happened_at": handover.handed_at.isoformat(),
            "place": handover.place,
            "condition": handover.condition,
            "accessories": handover.accessories,
            "seal_numbers": handover.seal_numbers,
            "reason": handover.reason,
            "giver_confirmed_at": giver_confirmed_at.isoformat(),
            "receiver_confirmed_at": receiver_confirmed_at.isoformat(),
            "witness_confirmed_at": handover.witness_confirmed_at.isoformat()
            if handover.witness_confirmed_at
            else None,
        }
    )
    return {key: value for key, value in details.items() if value is not None}


def _approver_name(session: Session, handover: Handover) -> str | None:
    approver = session.get(Account, handover.approved_by_id) if handover.approved_by_id else None
    return None if approver is None else approver.person.full_name


def _complete_if_ready(session: Session, account: Account, handover: Handover) -> CustodyEvent | None:
    ready = (
        handover.giver_confirmed_at
        and handover.receiver_confirmed_at
        and (handover.witness_id is None or handover.witness_confirmed_at)
        and (handover.permission_kind is PermissionKind.DECISION or handover.approved_at)
    )
    if not ready:
        return None
    token = handover.token
    event = append_event(
        session,
        actor_of(account),
        token,
        CustodyEventKind.HANDED_OVER,
        handover.receiver_id,
        _handover_details(session, handover),
        from_keeper=handover.giver_id,
    )
    release = cast(
        CursorResult,
        session.execute(
            update(CustodyToken)
            .where(CustodyToken.token_id == token.id, CustodyToken.claim_handover_id == handover.id)
            .values(claim_handover_id=None, claim_until=None)
            .execution_options(synchronize_session=False)
        ),
    )
    if release.rowcount != 1:
        raise Conflict(
            "Biên bản bàn giao không còn giữ thiết bị (đã hết hạn và có biên bản khác).", code="custody_claim_lost"
        )
    handover.status = HandoverStatus.COMPLETED
    handover.event_seq = event.seq
    return event


def _take_handover(session: Session, by: Account, handover: Handover) -> None:
    """Before any change of a handover: 404 to whoever may not see the unit's register (MẬT); the token's
    register row locked (as every change of the token does, so that none deadlocks another), the handover
    read afresh and still open."""
    ensure_visible(session, by, handover.organisation_id, Permission.VIEW_CUSTODY, "Không tìm thấy biên bản bàn giao.")
    lock_token(session, handover.token_id)
    session.refresh(handover)
    _ensure_open(handover)


#: The parties who confirm a handover, each with the column of the confirmation.
_SIDES = (
    ("giver", "giver_id", "giver_confirmed_at"),
    ("receiver", "receiver_id", "receiver_confirmed_at"),
    ("witness", "witness_id", "witness_confirmed_at"),
)


def confirm_handover(session: Session, account: Account, handover: Handover) -> CustodyEvent | None:
    """The giver, the receiver and the witness confirm, each signed in as themselves; the last confirmation
    writes the register."""
    _take_handover(session, account, handover)
    own_side = next(
        ((side, column) for side, party, column in _SIDES if getattr(handover, party) == account.person_id), None
    )
    if own_side is None:
        raise PermissionDenied(
            "Chỉ người giao, người nhận và người chứng kiến tự xác nhận, mỗi người bằng tài khoản của mình."
        )
    side, confirmed = own_side
    if getattr(handover, confirmed) is not None:
        raise Conflict("Bạn đã xác nhận biên bản này rồi.", code="custody_already_confirmed")
    setattr(handover, confirmed, utcnow())
    session.flush()
    event = _complete_if_ready(session, account, handover)
    action = "custody.handover_completed" if event else "custody.handover_confirmed"
    audit(session, account, action, event, handover.token, {"handover": handover.id, "side": side})
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
    audit(session, account, "custody.handover_approved", event, handover.token, {"handover": handover.id})
    return event
