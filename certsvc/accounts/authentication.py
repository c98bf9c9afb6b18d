"""Signing in: authentication with throttling and lock-out, and the login sessions it opens.

Every outcome of a login attempt, good or bad, is written to the audit log. What must be
revocable (login sessions, failure counts) lives in the database, shared by every worker
and app server.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, contains_eager, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from certsvc.accounts.api_tokens import revoke_all_tokens
from certsvc.accounts.models import Account, LoginSession, LoginThrottle
from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.timeutil import utcnow

__all__ = [
    "LoginOutcome",
    "LoginPolicy",
    "LoginResult",
    "authenticate",
    "end_credentials",
    "end_session",
    "end_sessions",
    "login_session_for",
    "note_seen",
    "start_session",
]

# A hash to compare against when the username is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class LoginPolicy:
    """Failed logins are counted per client address and per username, known or not, and forgotten
    after ``lock_minutes`` without one.

    From ``throttle_after`` failures on, an address waits twice as long before each attempt as
    before the last (1 s, 2 s, 4 s… up to 5 min): guessing or spraying one password over many
    accounts from one place is slowed, and nobody else is shut out. A username is locked for
    ``lock_minutes`` only after ``lock_after`` failures from anywhere: under those waits one address
    needs more than an hour to get there, so locking someone takes many addresses."""

    throttle_after: int = 3
    lock_after: int = 30
    lock_minutes: int = 15

    def wait_after(self, failures: int) -> timedelta:
        if failures < self.throttle_after:
            return timedelta(0)
        return timedelta(seconds=min(2 ** (failures - self.throttle_after), 300))

    @property
    def memory(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    THROTTLED = "throttled"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    account: Account | None = None
    retry_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.OK


def _find_by_username(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == username.strip().lower()).with_for_update())


def _throttle_row(session: Session, scope: str, key: str) -> LoginThrottle:
    """The counter of ``scope`` and ``key``, created if missing, locked until the transaction ends:
    attempts from one address or on one name are decided one at a time."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(scope=scope, key=key, failed_login_count=0)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    return session.scalars(
        select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key).with_for_update()
    ).one()


def _forget_old_failures(session: Session, policy: LoginPolicy, now: datetime) -> None:
    """Drop the counters nothing needs any more, so names and addresses tried once do not pile up.
    Rows another attempt holds are left for later rather than waited for."""
    unused = (
        select(LoginThrottle.id)
        .where(
            or_(
                LoginThrottle.last_failed_login_at.is_(None), LoginThrottle.last_failed_login_at <= now - policy.memory
            ),
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(LoginThrottle).where(LoginThrottle.id.in_(unused)))


def _reset_if_quiet(counter: Account | LoginThrottle, policy: LoginPolicy, now: datetime) -> None:
    last = counter.last_failed_login_at
    if last is not None and last <= now - policy.memory:
        counter.failed_login_count = 0
        counter.last_failed_login_at = None


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    source: str,
    policy: LoginPolicy,
    now: datetime | None = None,
) -> LoginResult:
    """Check a login attempt and record it. The caller commits.

    A username that names no account is counted, throttled, locked and answered exactly like one
    that does: the answers tell nothing about which names exist."""
    now = now or utcnow()
    name = username.strip().lower()[:64]
    details = {"username": username.strip()[:64], "source": source}
    _forget_old_failures(session, policy, now)
    address = _throttle_row(session, "address", source[:128])
    account = _find_by_username(session, name)
    named = account if account is not None else _throttle_row(session, "username", name)
    for counter in (address, named):
        _reset_if_quiet(counter, policy, now)
    actor = Actor.of(account) if account is not None else SYSTEM
    account_id = account.id if account is not None else None
    if named.locked_until is not None and named.locked_until > now:
        record(session, actor, "auth.login_refused", "account", account_id, {**details, "reason": "locked"})
        return LoginResult(LoginOutcome.LOCKED, account, named.locked_until)
    if address.last_failed_login_at is not None:
        retry_at = address.last_failed_login_at + policy.wait_after(address.failed_login_count)
        if retry_at > now:
            record(session, actor, "auth.login_refused", "account", account_id, {**details, "reason": "throttled"})
            return LoginResult(LoginOutcome.THROTTLED, account, retry_at)
    # An unknown name is checked against a dummy hash, so both paths take as long.
    matches = check_password_hash(account.password_hash if account is not None else _DUMMY_HASH, password)
    if account is None or not matches:
        for counter in (address, named):
            counter.failed_login_count += 1
            counter.last_failed_login_at = now
        locked = named.failed_login_count >= policy.lock_after
        if locked:
            named.locked_until = now + policy.memory
            named.failed_login_count = 0
            named.last_failed_login_at = None
        reason = "bad_password" if account is not None else "unknown_user"
        record(
            session, actor, "auth.login_failed", "account", account_id, {**details, "reason": reason, "locked": locked}
        )
        if locked:
            return LoginResult(LoginOutcome.LOCKED, account, named.locked_until)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, account)
    if account.is_disabled:
        record(session, actor, "auth.login_refused", "account", account.id, {**details, "reason": "disabled"})
        return LoginResult(LoginOutcome.DISABLED, account)
    account.failed_login_count = 0
    account.last_failed_login_at = None
    account.locked_until = None
    account.last_login_at = now
    record(session, actor, "auth.login", "account", account.id, details)
    return LoginResult(LoginOutcome.OK, account)


def _secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(session: Session, account: Account, *, hours: int, now: datetime | None = None) -> str:
    """Open a login session of ``account`` lasting ``hours``; returns its secret, for the cookie only
    (also set as ``account.session_secret``, which Flask-Login stores)."""
    now = now or utcnow()
    # The account's expired sessions go now: nothing else removes them.
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id, LoginSession.expires_at <= now))
    secret = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            account=account,
            secret_sha256=_secret_digest(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    account.session_secret = secret
    return secret


#: The open session with a secret's digest, its account, person and roles with it: built once (every page
#: asks), read with the ``digest`` and ``now`` of the request.
_OPEN_SESSION = (
    select(LoginSession)
    .join(LoginSession.account)
    .where(LoginSession.secret_sha256 == bindparam("digest"), LoginSession.expires_at > bindparam("now"))
    .options(contains_eager(LoginSession.account).options(joinedload(Account.person), joinedload(Account.roles)))
)


def login_session_for(session: Session, secret: str, now: datetime | None = None) -> LoginSession | None:
    """The open session with this secret, its account, person and roles read with it in one query;
    None when it is unknown, ended, expired, or its account disabled."""
    if not secret or len(secret) > 100:
        return None
    found = session.scalars(_OPEN_SESSION, {"digest": _secret_digest(secret), "now": now or utcnow()})
    login = found.unique().first()
    if login is None or login.account.is_disabled:
        return None
    login.account.session_secret = secret
    return login


def note_seen(engine: Engine, login: LoginSession, now: datetime) -> None:
    """Record that the session was used, in a transaction of its own: the request's may only read."""
    with engine.begin() as connection:
        connection.execute(update(LoginSession).where(LoginSession.id == login.id).values(last_seen_at=now))


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.secret_sha256 == _secret_digest(secret)))


def end_sessions(session: Session, account: Account) -> None:
    """End every login session of ``account``, in every browser."""
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id))


def end_credentials(session: Session, by: Account, account: Account, reason: str) -> None:
    """End what let ``account`` in before: its login sessions and its API tokens."""
    end_sessions(session, account)
    revoke_all_tokens(session, by, account, reason)
