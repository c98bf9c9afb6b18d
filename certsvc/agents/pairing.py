"""Pairing a signing agent with an account: one-time codes, the agents' credentials, and revoking them.

A user asks for a code on "Thiết bị ký số của tôi" and gives it to ``token-agent pair``; the agent trades it
(once, within :data:`CODE_LIFETIME`) for a credential that acts for that account until someone revokes it.
Only SHA-256 digests of codes and credentials are stored. Failed tries are counted per client address with
the login throttle's counters (:mod:`certsvc.accounts.authentication`), so codes cannot be guessed quickly.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload

from certsvc.accounts.authentication import LoginPolicy, _throttle_row
from certsvc.accounts.models import Account, LoginThrottle
from certsvc.agents.errors import AgentRevoked, AgentUnauthenticated, Gone, Throttled
from certsvc.agents.models import PairingCode, SigningAgent
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldCollector, FieldError, clean_text, validated
from certsvc.errors import CertsvcError, Conflict, NotFound, PermissionDenied
from certsvc.policy import Permission, can
from certsvc.timeutil import utcnow

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_LIFETIME",
    "CREDENTIAL_PREFIX",
    "LAST_USED_EVERY",
    "PairingCodeIssued",
    "Pairing",
    "new_pairing_code",
    "pair",
    "agent_for_credential",
    "agents_of",
    "may_manage_agents",
    "revoke_agent",
]

#: A pairing code's characters: no 0/O, 1/I/L that read alike.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(minutes=5)
#: Every credential starts with this, so a leaked one is easy to recognise.
CREDENTIAL_PREFIX = "cag1_"
#: ``last_used_at`` is written at most this often, not on every call.
LAST_USED_EVERY = timedelta(minutes=1)
DEVICE_NAME_LENGTH = 100
#: Failed pairings from one address wait as failed logins do (1 s, 2 s, 4 s… after the third).
_THROTTLE = LoginPolicy()
_THROTTLE_SCOPE = "agent_pairing"


@dataclass(frozen=True)
class PairingCodeIssued:
    """A new code as the page shows it (``ABCD-EFGH``), and until when it may be used."""

    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Pairing:
    """A newly paired agent and its credential, which is shown to the agent this once and never stored."""

    agent: SigningAgent
    credential: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _normalised_code(value: object) -> str:
    """The code as stored: upper case, without dashes and spaces; FieldError when it cannot be a code."""
    text = "".join(str(value or "").split()).replace("-", "").upper()
    if not text:
        raise FieldError("Nhập mã ghép nối.")
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        raise FieldError(f"Mã ghép nối gồm {CODE_LENGTH} ký tự, dạng ABCD-EFGH.")
    return text


def new_pairing_code(session: Session, account: Account) -> PairingCodeIssued:
    """A new one-time code for ``account``; any code it had not used yet stops working."""
    now = utcnow()
    session.execute(
        update(PairingCode)
        .where(PairingCode.account_id == account.id, PairingCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    row = PairingCode(account_id=account.id, code_sha256=_digest(code), created_at=now, expires_at=now + CODE_LIFETIME)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(account),
        "agent.pairing_code_created",
        "pairing_code",
        row.id,
        {"expires_at": str(row.expires_at)},
    )
    return PairingCodeIssued(code=f"{code[:4]}-{code[4:]}", expires_at=row.expires_at)


def _counter(session: Session, source: str) -> LoginThrottle:
    """The failed tries of ``source``, locked until the transaction ends, forgotten after a quiet while."""
    counter = _throttle_row(session, _THROTTLE_SCOPE, source[:128])
    last = counter.last_failed_login_at
    if last is not None and last <= utcnow() - _THROTTLE.memory:
        counter.failed_login_count = 0
        counter.last_failed_login_at = None
    return counter


def _refuse_pairing(session: Session, source: str, refusal: CertsvcError) -> CertsvcError:
    """Count the failed try against ``source`` and keep the count (commit); the refusal to raise."""
    session.rollback()
    counter = _counter(session, source)
    counter.failed_login_count = counter.failed_login_count + 1
    counter.last_failed_login_at = utcnow()
    session.commit()
    return refusal


def _throttled(session: Session, source: str) -> None:
    counter = _counter(session, source)
    last = counter.last_failed_login_at
    if last is not None and utcnow() < last + _THROTTLE.wait_after(counter.failed_login_count):
        raise Throttled("Thử ghép nối sai quá nhiều lần từ máy này. Hãy chờ một lát rồi thử lại.")


def pair(session: Session, raw: dict, *, source: str) -> Pairing:
    """Trade a pairing code for a new agent of the code's account (``raw``: ``code``, ``device_name``).

    ``source`` is the client's address, whose failed tries are counted. Refusals: ValidationFailed,
    NotFound ``pairing_code_unknown``, Gone ``pairing_code_expired``, Conflict ``pairing_code_used``,
    Throttled. Of two pairings with one code at the same moment exactly one succeeds.
    """
    _throttled(session, source)
    fields = FieldCollector(raw)
    code = fields.take("code", _normalised_code)
    device = fields.take("device_name", lambda value: clean_text(value, required=True, max_length=DEVICE_NAME_LENGTH))
    fields.raise_if_failed()
    row = session.scalar(select(PairingCode).where(PairingCode.code_sha256 == _digest(validated(code, "code"))))
    now = utcnow()
    if row is None:
        raise _refuse_pairing(session, source, NotFound("Mã ghép nối không đúng.", code="pairing_code_unknown"))
    if row.used_at is not None:
        raise _refuse_pairing(
            session, source, Conflict("Mã ghép nối đã được dùng hoặc đã bị thay bằng mã mới.", code="pairing_code_used")
        )
    if row.expires_at <= now:
        raise _refuse_pairing(
            session, source, Gone("Mã ghép nối đã hết hạn. Hãy tạo mã mới.", code="pairing_code_expired")
        )
    if not _claim_code(session, row, now):
        raise Conflict("Mã ghép nối đã được dùng hoặc đã bị thay bằng mã mới.", code="pairing_code_used")
    account = row.account
    if account.is_disabled:
        raise PermissionDenied("Tài khoản đã bị vô hiệu hóa.")
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    agent = SigningAgent(
        account_id=account.id,
        device_name=validated(device, "device_name"),
        credential_sha256=_digest(credential),
        credential_prefix=credential[: len(CREDENTIAL_PREFIX) + 6],
        created_at=now,
    )
    session.add(agent)
    session.flush()
    record(
        session,
        Actor.of(account),
        "agent.paired",
        "signing_agent",
        agent.id,
        {"device_name": agent.device_name, "prefix": agent.credential_prefix, "source": source[:128]},
    )
    return Pairing(agent=agent, credential=credential)


def _claim_code(session: Session, row: PairingCode, now: datetime) -> bool:
    """Mark the code used, if nobody did meanwhile (one UPDATE: of simultaneous pairings one wins)."""
    claimed = cast(
        CursorResult,
        session.execute(
            update(PairingCode)
            .where(PairingCode.id == row.id, PairingCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    row.used_at = now
    return claimed.rowcount == 1


def agent_for_credential(session: Session, header: str) -> SigningAgent:
    """The agent an ``Authorization: Agent <credential>`` header names; notes its use (at most once a minute).

    AgentUnauthenticated for a missing, malformed or unknown credential, AgentRevoked for a revoked one or
    one whose account is disabled."""
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "agent" or not credential.startswith(CREDENTIAL_PREFIX) or len(credential) > 100:
        raise AgentUnauthenticated("Thiếu thông tin xác thực của phần mềm ký số (Authorization: Agent ...).")
    agent = session.scalar(
        select(SigningAgent)
        .options(joinedload(SigningAgent.account))
        .where(SigningAgent.credential_sha256 == _digest(credential))
    )
    if agent is None:
        raise AgentUnauthenticated("Phần mềm ký số chưa được ghép nối với hệ thống này.")
    if agent.revoked_at is not None or agent.account.is_disabled:
        raise AgentRevoked("Thiết bị ký số này đã bị thu hồi ghép nối. Hãy ghép nối lại.")
    now = utcnow()
    if agent.last_used_at is None or now - agent.last_used_at >= LAST_USED_EVERY:
        agent.last_used_at = now
    return agent


def agents_of(session: Session, account: Account) -> list[SigningAgent]:
    """The account's agents, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(SigningAgent)
            .where(SigningAgent.account_id == account.id)
            .order_by(SigningAgent.created_at.desc(), SigningAgent.id.desc())
        )
    )


def may_manage_agents(session: Session, by: Account, account: Account) -> bool:
    """Whether ``by`` may revoke ``account``'s agents: the account itself, or an administrator of its unit."""
    return by.id == account.id or can(session, by, Permission.MANAGE_ACCOUNTS, account.person.organisation_id)


def revoke_agent(session: Session, by: Account, agent_id: object) -> SigningAgent:
    """Revoke an agent (revoking twice changes nothing). NotFound for an agent ``by`` may not manage."""
    agent = session.get(SigningAgent, agent_id) if isinstance(agent_id, int) else None
    if agent is None or not may_manage_agents(session, by, agent.account):
        raise NotFound("Không có thiết bị ký số này.")
    if agent.revoked_at is None:
        agent.revoked_at = utcnow()
        agent.revoked_by_id = by.id
        record(
            session,
            Actor.of(by),
            "agent.revoked",
            "signing_agent",
            agent.id,
            {"account_id": agent.account_id, "device_name": agent.device_name, "prefix": agent.credential_prefix},
        )
    return agent
