"""The token state machine: the only way a token's state changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.errors import Conflict, ValidationFailed
from certsvc.registry.models import Token, TokenEvent, TokenState

__all__ = [
    "TRANSITIONS",
    "allowed_next",
    "change_state",
    "move",
    "first_event",
    "custody_change",
    "kept_in_custody_register",
    "CustodyLookup",
    "register_custody",
    "custody_keeper_id",
]


#: Every allowed (from, to) pair. A token that is destroyed stays destroyed.
TRANSITIONS: frozenset[tuple[TokenState, TokenState]] = frozenset(
    {
        (TokenState.IN_STOCK, TokenState.ACTIVE),
        (TokenState.IN_STOCK, TokenState.LOST),
        (TokenState.IN_STOCK, TokenState.DAMAGED),
        (TokenState.IN_STOCK, TokenState.RETURNED),
        (TokenState.ACTIVE, TokenState.PIN_LOCKED),
        (TokenState.ACTIVE, TokenState.SUSPENDED),
        (TokenState.ACTIVE, TokenState.LOST),
        (TokenState.ACTIVE, TokenState.DAMAGED),
        (TokenState.ACTIVE, TokenState.RETURNED),
        (TokenState.PIN_LOCKED, TokenState.ACTIVE),
        (TokenState.PIN_LOCKED, TokenState.LOST),
        (TokenState.PIN_LOCKED, TokenState.DAMAGED),
        (TokenState.PIN_LOCKED, TokenState.RETURNED),
        (TokenState.SUSPENDED, TokenState.ACTIVE),
        (TokenState.SUSPENDED, TokenState.LOST),
        (TokenState.SUSPENDED, TokenState.RETURNED),
        (TokenState.LOST, TokenState.ACTIVE),
        (TokenState.LOST, TokenState.RETURNED),
        (TokenState.DAMAGED, TokenState.ACTIVE),
        (TokenState.DAMAGED, TokenState.RETURNED),
        (TokenState.DAMAGED, TokenState.DESTROYED),
        (TokenState.RETURNED, TokenState.DESTROYED),
    }
)


def allowed_next(state: TokenState) -> list[TokenState]:
    return [to for to in TokenState if (state, to) in TRANSITIONS]


#: Set in ``session.info`` while the custody register changes the state of one of its tokens.
_CUSTODY_CHANGE = "certsvc.registry.tokens.custody_change"


@contextmanager
def custody_change(session: Session) -> Iterator[None]:
    """State changes made inside are the custody register's own: the only way a token in that register
    changes state, since the register says who keeps it and why, and a change behind its back contradicts it."""
    session.info[_CUSTODY_CHANGE] = True
    try:
        yield
    finally:
        session.info.pop(_CUSTODY_CHANGE, None)


@dataclass(frozen=True)
class CustodyLookup:
    """How the custody register answers about a token. The custody capability adds it (see
    :func:`register_custody`): it sits above the registry, which does not import it, and the capabilities
    above both (documents: who may seal with an organisation's token) ask here instead of depending on it."""

    #: Whether the token is in the register.
    keeps: Callable[[Session, Token], bool]
    #: The person keeping it now, by the register (None when nobody does).
    keeper_id: Callable[[Session, Token], int | None]


_CUSTODY: list[CustodyLookup] = []


def register_custody(lookup: CustodyLookup) -> None:
    _CUSTODY.append(lookup)


def kept_in_custody_register(session: Session, token: Token) -> bool:
    """Whether the token is a MẬT item of the custody register: then only the register changes its state."""
    return any(lookup.keeps(session, token) for lookup in _CUSTODY)


def custody_keeper_id(session: Session, token: Token) -> int | None:
    """The person who keeps ``token`` by the custody register; None when nobody does or it is not in it."""
    return next((lookup.keeper_id(session, token) for lookup in _CUSTODY if lookup.keeps(session, token)), None)


def _refuse_behind_custody(session: Session, token: Token) -> None:
    if session.info.get(_CUSTODY_CHANGE):
        return
    if kept_in_custody_register(session, token):
        raise Conflict(
            f"Thiết bị {token.serial} được theo dõi trong sổ theo dõi thiết bị lưu khóa bí mật: "
            "thay đổi trạng thái của thiết bị phải ghi qua sổ theo dõi.",
            code="token_in_custody_register",
        )


def _actor(actor: Actor | Account) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.of(actor)


def _event(
    session: Session, actor: Actor, token: Token, to: TokenState, reason: str, from_state: TokenState | None
) -> TokenEvent:
    event = TokenEvent(
        token=token,
        from_state=from_state,
        to_state=to,
        reason=reason,
        actor_id=actor.account_id,
        actor_label=actor.label,
    )
    token.state = to
    session.add(event)
    session.flush()
    return event


def move(session: Session, actor: Actor | Account, token: Token, to: TokenState, reason: str) -> TokenEvent:
    """Move ``token`` to ``to`` if the table allows it and record the event, but no audit entry:
    for a service that writes one entry for a larger action (:func:`change_state` is the usual way)."""
    _refuse_behind_custody(session, token)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": "Ghi rõ lý do chuyển trạng thái."})
    if len(reason) > 1000:
        raise ValidationFailed({"reason": "Lý do dài quá 1000 ký tự."})
    if (token.state, to) not in TRANSITIONS:
        raise Conflict(
            f"Không thể chuyển thiết bị từ «{token.state.label}» sang «{to.label}».", code="token_transition_refused"
        )
    return _event(session, _actor(actor), token, to, reason, token.state)


def first_event(session: Session, actor: Actor | Account, token: Token, reason: str) -> TokenEvent:
    """The event that opens a new token's history (from no state to the state it was created in)."""
    return _event(session, _actor(actor), token, token.state, reason, None)


def change_state(
    session: Session,
    actor: Actor | Account,
    token: Token,
    to: TokenState,
    reason: str,
    *,
    action: str = "token.state_changed",
    details: dict | None = None,
) -> TokenEvent:
    """Move ``token`` to ``to`` if the table allows it, recording the event and one audit entry
    (``action``, with ``details`` added to the serial, states and reason).

    Callers check permissions; ``actor`` may be an account or a system actor.
    """
    from_state = token.state
    event = move(session, actor, token, to, reason)
    record(
        session,
        _actor(actor),
        action,
        "token",
        token.id,
        {
            "serial": token.serial,
            "from": from_state.value,
            "to": to.value,
            "reason": event.reason,
            **(details or {}),
        },
    )
    return event
