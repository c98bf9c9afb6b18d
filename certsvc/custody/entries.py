"""Entries of the custody register other than handovers: receiving a token from the CA, the events of the
plain event form (inventory, damage, found, returned, destroyed) and a loss report.

The rules every change shares are :mod:`certsvc.custody.service`'s: the acting account is checked, bad input
changes nothing, one audit entry per action in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.validation import FieldCollector, clean_day, non_empty, validated
from certsvc.custody.chain import append_event
from certsvc.custody.models import CustodyEvent, CustodyEventKind, CustodyToken, Handover, HandoverStatus, keeper_ids
from certsvc.custody.service import (
    actor_of,
    audit,
    certificate_of,
    clean_person_id,
    clean_time,
    ensure_visible,
    field_moment,
    in_register,
    may_keep,
    name_of,
    person_field,
    take_token,
    text_field,
    token_facts,
    unit_heads,
)
from certsvc.errors import Conflict, ValidationFailed
from certsvc.people.models import Person
from certsvc.policy import Permission, can
from certsvc.registry.models import Token, TokenState
from certsvc.registry.service import open_returns, transition_token
from certsvc.registry.tokens import TRANSITIONS as TOKEN_TRANSITIONS
from certsvc.registry.tokens import custody_change
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType
from certsvc.requests.service import draft_lost_token_revocation
from certsvc.timeutil import to_vietnam, utcnow

__all__ = [
    "EVENT_FORM_KINDS",
    "EVENT_KIND_FIELDS",
    "EVENT_REQUIRED_FIELDS",
    "LossReport",
    "event_form_kind",
    "event_refusal",
    "receive",
    "record_event",
    "report_loss",
]

#: Events that end a token's custody or suspend it: a pending handover is cancelled.
_CANCELS_HANDOVER = {
    CustodyEventKind.LOST,
    CustodyEventKind.RETURNED,
    CustodyEventKind.DESTROYED,
    CustodyEventKind.DAMAGED,
}


#: The token state each event moves to (none: the state stays).
_STATE_AFTER = {
    CustodyEventKind.FOUND: TokenState.ACTIVE,
    CustodyEventKind.DAMAGED: TokenState.DAMAGED,
    CustodyEventKind.RETURNED: TokenState.RETURNED,
    CustodyEventKind.DESTROYED: TokenState.DESTROYED,
    CustodyEventKind.LOST: TokenState.LOST,
}


#: The note of an entry: free text.
_NOTE = text_field(1000)

#: The fields of the event form that only the kinds requiring them take (the other kinds ignore them).
_KIND_FIELDS = {
    "keeper_id": clean_person_id,
    "ca_name": text_field(255),
    "ca_representative": text_field(200),
    "reason": text_field(500),
}
EVENT_KIND_FIELDS = frozenset(_KIND_FIELDS)

#: The events recorded with the plain event form (receiving, loss and handover have their own), each with the
#: fields it refuses empty, which its form marks required: who keeps a token found; to whom and why a token
#: goes back to the CA; what happened, in the note, to a token damaged, found or destroyed.
EVENT_REQUIRED_FIELDS: dict[CustodyEventKind, tuple[str, ...]] = {
    CustodyEventKind.INVENTORY: (),
    CustodyEventKind.DAMAGED: ("note",),
    CustodyEventKind.FOUND: ("keeper_id", "note"),
    CustodyEventKind.RETURNED: ("ca_name", "ca_representative", "reason"),
    CustodyEventKind.DESTROYED: ("note",),
}
EVENT_FORM_KINDS = tuple(EVENT_REQUIRED_FIELDS)
_REQUIRED_CLEANERS = {**_KIND_FIELDS, "note": _NOTE}


def event_refusal(kind: CustodyEventKind, state: TokenState) -> str | None:
    """Why an event of ``kind`` cannot be recorded for a token in ``state``, or None when it can: the register's
    own rules, then the registry's table of token states for the state the event leads to."""
    if state in (TokenState.RETURNED, TokenState.DESTROYED) and kind is not CustodyEventKind.DESTROYED:
        return f"Thiết bị đang ở trạng thái «{state.label}»."
    if kind is CustodyEventKind.FOUND and state is not TokenState.LOST:
        return "Chỉ ghi «Tìm thấy» cho thiết bị đang báo mất."
    if kind is CustodyEventKind.INVENTORY and state is TokenState.LOST:
        return "Thiết bị đang báo mất: không kiểm kê được."
    after = _STATE_AFTER.get(kind)
    if after is not None and (state, after) not in TOKEN_TRANSITIONS:
        *others, last = [f"«{s.label}»" for s in TokenState if (s, after) in TOKEN_TRANSITIONS]
        sources = f"{', '.join(others)} hoặc {last}" if others else last
        return f"Chỉ ghi «{kind.label}» cho thiết bị ở trạng thái {sources}; thiết bị này đang «{state.label}»."
    return None


def event_form_kind(value: object) -> CustodyEventKind | None:
    """The kind of the event form named ``value`` (its enum value), or None."""
    return next((k for k in EVENT_FORM_KINDS if k.value == str(value or "")), None)


def _set_state(session: Session, by: Account, token: Token, to: TokenState, reason: str) -> None:
    """Through the registry's own transition (it closes an open return to the CA when the token goes back),
    as the custody register: the registry refuses anyone else a change of a token in the register."""
    with custody_change(session):
        transition_token(session, actor_of(by), token, to, reason)


def _cancel_pending(session: Session, token: Token) -> None:
    session.execute(
        update(Handover)
        .where(Handover.token_id == token.id, Handover.status == HandoverStatus.PENDING)
        .values(status=HandoverStatus.CANCELLED)
    )
    session.execute(
        update(CustodyToken).where(CustodyToken.token_id == token.id).values(claim_handover_id=None, claim_until=None)
    )


def _common_fields(raw: Mapping) -> FieldCollector:
    fields = FieldCollector(raw)
    fields.take("event_date", clean_day)
    fields.take("event_time", clean_time)
    fields.take("place", text_field(255))
    fields.take("condition", text_field(500))
    fields.take("seal_numbers", text_field(255))
    fields.take("note", _NOTE)
    if (
        fields.values.get("event_time")
        and fields.values.get("event_date") is None
        and "event_date" not in fields.errors
    ):
        fields.fail("event_date", "Đã nhập giờ thì nhập cả ngày xảy ra.")
    return fields


def _event_details(session: Session, token: Token, fields: FieldCollector, **extra) -> dict:
    values = fields.values
    happened = field_moment(fields, "event_date", "event_time") or utcnow()
    details = {
        **token_facts(session, token),
        "happened_at": happened.isoformat(),
        **{k: values.get(k) for k in ("place", "condition", "seal_numbers", "note") if values.get(k)},
    }
    details.update({k: v for k, v in extra.items() if v is not None})
    return details


def receive(session: Session, account: Account, token: Token, raw: Mapping) -> CustodyEvent:
    """The first entry of a token: received from the CA by the person who will keep it."""
    ensure_visible(session, account, token.organisation_id, Permission.RECORD_CUSTODY, "Không tìm thấy thiết bị.")
    fields = _common_fields(raw)
    fields.take("keeper_id", non_empty(clean_person_id))
    fields.take("accessories", text_field(500))
    keeper = person_field(session, fields, "keeper_id")
    if in_register(session, token):
        fields.fail("keeper_id", "Thiết bị đã có trong sổ theo dõi; việc nhận từ CA chỉ ghi một lần.")
    if keeper is not None and not may_keep(session, keeper, token.organisation_id):
        fields.fail("keeper_id", "Người giữ thiết bị phải là văn thư hoặc thủ trưởng đơn vị có tài khoản.")
    fields.raise_if_failed()
    keeper = validated(keeper, "keeper_id")
    session.add(CustodyToken(token_id=token.id))
    details = _event_details(
        session, token, fields, keeper_name=keeper.full_name, accessories=fields.values.get("accessories")
    )
    if token.state is TokenState.IN_STOCK:
        _set_state(session, account, token, TokenState.ACTIVE, "Nhận thiết bị từ tổ chức cung cấp dịch vụ")
    event = append_event(session, actor_of(account), token, CustodyEventKind.RECEIVED, keeper.id, details)
    audit(session, account, "custody.received", event, token)
    return event


def _revocation_facts(session: Session, token: Token) -> dict:
    """What a return to the CA follows, as Mẫu 08 names it: the revocation of the token's certificate (when,
    why, by which request and letter, and the return's deadline); nothing when the certificate was not revoked.
    Read before the return closes the token's open return."""
    pending = open_returns(session, [token.id])
    certificate = (pending[0].certificate if pending else None) or certificate_of(session, token)
    if certificate is None or certificate.revoked_at is None:
        return {}
    request = session.scalar(
        select(CertificateRequest)
        .where(
            CertificateRequest.request_type == RequestType.REVOCATION,
            CertificateRequest.certificate_id == certificate.id,
            CertificateRequest.status == RequestStatus.DONE,
        )
        .order_by(CertificateRequest.id.desc())
        .limit(1)
    )
    batch = request.batch if request is not None else None
    letter = batch.document_number if batch is not None else None
    if letter and batch is not None and batch.document_date:
        letter = f"{letter} ngày {batch.document_date:%d/%m/%Y}"
    return {
        "certificate_serial": certificate.serial_hex,
        "revoked_at": to_vietnam(certificate.revoked_at).date().isoformat(),
        "revocation_reason": certificate.revocation_reason,
        "revocation_request": request.id if request is not None else None,
        "revocation_letter": letter,
        "return_due_on": pending[0].due_on.isoformat() if pending else None,
    }


def record_event(session: Session, account: Account, token: Token, raw: Mapping) -> CustodyEvent:
    """Inventory check, damage, found, returned to the CA (Mẫu 08) or destroyed."""
    take_token(session, account, token)
    fields = _common_fields(raw)
    kind = event_form_kind(raw.get("kind"))
    if kind is None:
        fields.fail("kind", "Chọn loại sự kiện.")
    for name in EVENT_REQUIRED_FIELDS[kind] if kind is not None else ():
        fields.take(name, non_empty(_REQUIRED_CLEANERS[name]))
    keeper = person_field(session, fields, "keeper_id")
    if keeper is not None and not may_keep(session, keeper, token.organisation_id):
        fields.fail("keeper_id", "Người giữ thiết bị phải là văn thư hoặc thủ trưởng đơn vị có tài khoản.")
    fields.raise_if_failed()
    kind = validated(kind, "kind")
    keepers = keeper_ids(session, [token.id])
    if (refusal := event_refusal(kind, token.state)) is not None:
        raise ValidationFailed({"kind": refusal})
    new_keeper = keepers.get(token.id)
    if kind is CustodyEventKind.FOUND:
        new_keeper = validated(keeper, "keeper_id").id
    elif kind in (CustodyEventKind.RETURNED, CustodyEventKind.DESTROYED):
        new_keeper = None
    previous = session.get(Person, keepers[token.id]) if keepers.get(token.id) else None
    details = _event_details(
        session,
        token,
        fields,
        keeper_name=name_of(session.get(Person, new_keeper)) if new_keeper else None,
        previous_keeper_name=name_of(previous),
        ca_name=fields.values.get("ca_name"),
        ca_representative=fields.values.get("ca_representative"),
        reason=fields.values.get("reason"),
        **(_revocation_facts(session, token) if kind is CustodyEventKind.RETURNED else {}),
    )
    if kind in _STATE_AFTER:
        _set_state(session, account, token, _STATE_AFTER[kind], f"Sổ theo dõi: {kind.label}")
    if kind in _CANCELS_HANDOVER:
        _cancel_pending(session, token)
    event = append_event(session, actor_of(account), token, kind, new_keeper, details)
    audit(session, account, f"custody.{kind.value}", event, token)
    return event


@dataclass(frozen=True)
class LossReport:
    event: CustodyEvent
    #: The draft revocation request (Mẫu 05), when the requests capability offers one.
    revocation_request: CertificateRequest | None


def _draft_revocation(
    session: Session, account: Account, token: Token, event: CustodyEvent
) -> CertificateRequest | None:
    """Draft the revocation request (Mẫu 05) of the lost token's certificate, if it has one."""
    certificate = certificate_of(session, token)
    if certificate is None:
        return None
    fields = {
        "certificate_id": certificate.id,
        "reason": "lost_token",
        "reason_detail": f"Mất thiết bị lưu khóa bí mật số {token.serial} (sổ theo dõi, mục số {event.seq}).",
    }
    try:
        with session.begin_nested():
            return draft_lost_token_revocation(session, account, token.organisation_id, fields)
    except (ValidationFailed, Conflict):
        # e.g. a revocation of that certificate is already open: the loss stands on its own.
        return None


def _signing_head(session: Session, account: Account, token: Token, fields: FieldCollector) -> Person | None:
    """The unit head who signs the loss minute (Mẫu 09): the one chosen; else the reporter when he is a head,
    or the unit's only head; none when the unit has no head who signs in (the name is then written by hand)."""
    chosen = person_field(session, fields, "head_id")
    heads = unit_heads(session, token.organisation_id)
    if chosen is not None and chosen not in heads:
        fields.fail("head_id", "Chọn thủ trưởng đơn vị trong danh sách.")
    if chosen is not None or "head_id" in fields.errors:
        return chosen
    if can(session, account, Permission.APPROVE_HANDOVER, token.organisation_id):
        return account.person
    return heads[0] if len(heads) == 1 else None


def report_loss(session: Session, account: Account, token: Token, raw: Mapping) -> LossReport:
    """Mark the token lost at once, record it, draft the revocation request (Mẫu 05); minutes are Mẫu 09."""
    take_token(session, account, token, "circumstances")
    fields = _common_fields(raw)
    fields.take("circumstances", text_field(1000, required=True))
    fields.take("head_id", clean_person_id)
    head = _signing_head(session, account, token, fields)
    fields.raise_if_failed()
    if token.state in (TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED):
        raise ValidationFailed({"circumstances": f"Thiết bị đang ở trạng thái «{token.state.label}»."})
    keeper_id = keeper_ids(session, [token.id]).get(token.id)
    keeper = session.get(Person, keeper_id) if keeper_id else None
    details = _event_details(
        session,
        token,
        fields,
        circumstances=fields.values["circumstances"],
        previous_keeper_name=name_of(keeper),
        reporter_name=account.person.full_name,
        head_name=name_of(head),
        head_position=head.position if head is not None else None,
    )
    _set_state(session, account, token, TokenState.LOST, f"Báo mất: {fields.values['circumstances']}")
    _cancel_pending(session, token)
    event = append_event(session, actor_of(account), token, CustodyEventKind.LOST, None, details)
    draft = _draft_revocation(session, account, token, event)
    audit(session, account, "custody.lost", event, token, {"revocation_drafted": draft is not None})
    return LossReport(event, draft)
