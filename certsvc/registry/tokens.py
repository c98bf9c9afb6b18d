"""The token state machine: the only way a token's state changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.errors import Conflict, ValidationFailed
from certsvc.registry.models import Token, TokenEvent, TokenState

__all__ = ["TRANSITIONS", "allowed_next", "change_state", "move", "first_event"]

S = TokenState

#: Every allowed (from, to) pair. A token that is destroyed stays destroyed.
TRANSITIONS: frozenset[tuple[TokenState, TokenState]] = frozenset({
    (S.IN_STOCK, S.ACTIVE), (S.IN_STOCK, S.LOST), (S.IN_STOCK, S.DAMAGED), (S.IN_STOCK, S.RETURNED),
    (S.ACTIVE, S.PIN_LOCKED), (S.ACTIVE, S.SUSPENDED), (S.ACTIVE, S.LOST), (S.ACTIVE, S.DAMAGED),
    (S.ACTIVE, S.RETURNED),
    (S.PIN_LOCKED, S.ACTIVE), (S.PIN_LOCKED, S.LOST), (S.PIN_LOCKED, S.DAMAGED), (S.PIN_LOCKED, S.RETURNED),
    (S.SUSPENDED, S.ACTIVE), (S.SUSPENDED, S.LOST), (S.SUSPENDED, S.RETURNED),
    (S.LOST, S.ACTIVE), (S.LOST, S.RETURNED),
    (S.DAMAGED, S.ACTIVE), (S.DAMAGED, S.RETURNED), (S.DAMAGED, S.DESTROYED),
    (S.RETURNED, S.DESTROYED),
})


def allowed_next(state: TokenState) -> list[TokenState]:
    return [to for to in TokenState if (state, to) in TRANSITIONS]


def _actor(actor: Actor | Account) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.of(actor)


def _event(session: Session, actor: Actor, token: Token, to: TokenState, reason: str,
           from_state: TokenState | None) -> TokenEvent:
    event = TokenEvent(token=token, from_state=from_state, to_state=to, reason=reason,
                       actor_id=actor.account_id, actor_label=actor.label)
    token.state = to
    session.add(event)
    session.flush()
    return event


def move(session: Session, actor: Actor | Account, token: Token, to: TokenState, reason: str) -> TokenEvent:
    """Move ``token`` to ``to`` if the table allows it and record the event, but no audit entry:
    for a service that writes one entry for a larger action (:func:`change_state` is the usual way)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": "Ghi rõ lý do chuyển trạng thái."})
    if len(reason) > 1000:
        raise ValidationFailed({"reason": "Lý do dài quá 1000 ký tự."})
    if (token.state, to) not in TRANSITIONS:
        raise Conflict(f"Không thể chuyển thiết bị từ «{token.state.label}» sang «{to.label}».",
                       code="token_transition_refused")
    return _event(session, _actor(actor), token, to, reason, token.state)


def first_event(session: Session, actor: Actor | Account, token: Token, reason: str) -> TokenEvent:
    """The event that opens a new token's history (from no state to the state it was created in)."""
    return _event(session, _actor(actor), token, token.state, reason, None)


def change_state(
    session: Session, actor: Actor | Account, token: Token, to: TokenState, reason: str, *,
    action: str = "token.state_changed", details: dict | None = None,
) -> TokenEvent:
    """Move ``token`` to ``to`` if the table allows it, recording the event and one audit entry
    (``action``, with ``details`` added to the serial, states and reason).

    Callers check permissions; ``actor`` may be an account or a system actor.
    """
    event = move(session, actor, token, to, reason)
    record(session, _actor(actor), action, "token", token.id,
           {"serial": token.serial, "from": event.from_state.value, "to": to.value, "reason": event.reason,
            **(details or {})})
    return event
