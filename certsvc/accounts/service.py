"""Accounts: authentication with throttling and lock-out, login sessions, passwords, roles.

Every outcome of a login attempt, good or bad, is written to the audit log, and
so is every change an administrator makes to an account. What must be revocable
(login sessions, failure counts) lives in the database, shared by every worker
and app server.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from certsvc.accounts.api_tokens import revoke_all_tokens
from certsvc.accounts.models import Account, LoginSession, LoginThrottle, Role, RoleAssignment
from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import to_id
from certsvc.errors import Conflict, NotFound, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.timeutil import utcnow

__all__ = [
    "AccountPage",
    "AccountState",
    "accounts_of",
    "LoginPolicy",
    "LoginOutcome",
    "LoginResult",
    "MIN_PASSWORD_LENGTH",
    "authenticate",
    "change_password",
    "check_new_password",
    "create_account",
    "end_session",
    "end_sessions",
    "find_accounts",
    "get_account",
    "get_assignment",
    "grant_role",
    "hash_password",
    "is_locked",
    "is_valid_username",
    "login_session_for",
    "note_seen",
    "people_without_account",
    "reset_password",
    "revoke_role",
    "temporary_password",
    "set_disabled",
    "start_session",
    "unlock",
]

MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
OWN_ROLES = "Không thể tự giao hoặc thu hồi vai trò của chính mình. Hãy nhờ một quản trị viên khác."
USERNAME_RULE = "Tên đăng nhập 3–64 ký tự: chữ thường không dấu, số, dấu chấm, gạch."
# A hash to compare against when the username is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def is_valid_username(username: str) -> bool:
    """Whether ``username`` (as typed: case and surrounding spaces do not matter) can name an account."""
    return USERNAME.match(username.strip().lower()) is not None


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The list shipped with the package: passwords tried first by anyone guessing (lower case)."""
    text = files("certsvc.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_new_password(password: str, username: str) -> str | None:
    """What is wrong with a new password, in Vietnamese, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự."
    if username and username.lower() in password.lower():
        return "Mật khẩu không được chứa tên đăng nhập."
    if len(set(password)) < 4 or password.lower() in _common_passwords():
        return "Mật khẩu quá đơn giản hoặc quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác."
    return None


def temporary_password() -> str:
    return secrets.token_urlsafe(9)


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


def login_session_for(session: Session, secret: str, now: datetime | None = None) -> LoginSession | None:
    """The open session with this secret, its account, person and roles read with it in one query;
    None when it is unknown, ended, expired, or its account disabled."""
    if not secret or len(secret) > 100:
        return None
    login = (
        session.scalars(
            select(LoginSession)
            .join(LoginSession.account)
            .where(LoginSession.secret_sha256 == _secret_digest(secret), LoginSession.expires_at > (now or utcnow()))
            .options(
                contains_eager(LoginSession.account).options(joinedload(Account.person), joinedload(Account.roles))
            )
        )
        .unique()
        .first()
    )
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


def _end_credentials(session: Session, by: Account, account: Account, reason: str) -> None:
    """End what let ``account`` in before: its login sessions and its API tokens."""
    end_sessions(session, account)
    revoke_all_tokens(session, by, account, reason)


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    """Change one's own password; every session and API token of the account ends (the caller
    opens a new session for the browser that changed it)."""
    errors: dict[str, str] = {}
    if not check_password_hash(account.password_hash, current):
        errors["current_password"] = "Mật khẩu hiện tại không đúng."
    problem = check_new_password(new, account.username)
    if problem:
        errors["new_password"] = problem
    elif check_password_hash(account.password_hash, new):
        errors["new_password"] = "Mật khẩu mới phải khác mật khẩu hiện tại."
    if errors:
        raise ValidationFailed(errors)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.password_changed_at = utcnow()
    _end_credentials(session, account, account, "password_changed")
    record(session, Actor.of(account), "account.password_changed", "account", account.id)


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id) if to_id(account_id) == account_id else None
    if account is None:
        raise NotFound("Không tìm thấy tài khoản.")
    return account


def get_assignment(session: Session, account: Account, assignment_id: int) -> RoleAssignment:
    """One role of ``account``; a role of another account is not found, like a missing one."""
    assignment = session.get(RoleAssignment, assignment_id) if to_id(assignment_id) == assignment_id else None
    if assignment is None or assignment.account_id != account.id:
        raise NotFound("Không tìm thấy vai trò này của tài khoản.")
    return assignment


def is_locked(account: Account, now: datetime | None = None) -> bool:
    """Whether failed logins have locked the account at ``now``."""
    return account.locked_until is not None and account.locked_until > (now or utcnow())


class AccountState(LabelledEnum):
    """The states an administrator filters the account list by."""

    ACTIVE = "active", "Đang hoạt động"
    DISABLED = "disabled", "Đã vô hiệu hóa"
    LOCKED = "locked", "Đang tạm khóa"
    MUST_CHANGE_PASSWORD = "must_change_password", "Phải đổi mật khẩu"

    def condition(self, now: datetime) -> ColumnElement[bool]:
        """The SQL condition an account in this state meets at ``now``."""
        if self is AccountState.DISABLED:
            return Account.is_disabled.is_(True)
        if self is AccountState.LOCKED:
            return Account.locked_until > now
        if self is AccountState.MUST_CHANGE_PASSWORD:
            return Account.must_change_password.is_(True)
        return Account.is_disabled.is_(False) & or_(Account.locked_until.is_(None), Account.locked_until <= now)


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    page: int
    pages: int
    total: int


def find_accounts(
    session: Session,
    by: Account,
    *,
    org_id: int | None = None,
    state: AccountState | None = None,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> AccountPage:
    """The accounts of people in ``by``'s VIEW_ACCOUNTS scope, by username, one page of them."""
    scope = orgs_in_scope(session, by, Permission.VIEW_ACCOUNTS)
    if org_id is not None:
        scope &= {org_id}
    query = select(Account).join(Account.person).where(Person.organisation_id.in_(scope))
    if state is not None:
        query = query.where(state.condition(now or utcnow()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    accounts = session.scalars(
        query.options(
            contains_eager(Account.person).joinedload(Person.organisation),
            selectinload(Account.roles).joinedload(RoleAssignment.organisation),
        )
        .order_by(Account.username)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AccountPage(accounts=list(accounts), page=page, pages=pages, total=total)


def accounts_of(session: Session, people: Collection[Person]) -> dict[int, Account]:
    """The login account of each of ``people`` that has one, by person id."""
    ids = {person.id for person in people}
    if not ids:
        return {}
    return {a.person_id: a for a in session.scalars(select(Account).where(Account.person_id.in_(ids)))}


def people_without_account(session: Session, by: Account) -> list[Person]:
    """Active people in ``by``'s MANAGE_ACCOUNTS scope who have no login yet, by unit and name."""
    scope = orgs_in_scope(session, by, Permission.MANAGE_ACCOUNTS)
    return list(
        session.scalars(
            select(Person)
            .join(Person.organisation)
            .where(
                Person.organisation_id.in_(scope),
                Person.is_active.is_(True),
                ~exists().where(Account.person_id == Person.id),
            )
            .options(contains_eager(Person.organisation))
            .order_by(Organisation.name, Person.full_name, Person.id)
        )
    )


def _ensure_manages(session: Session, by: Account, account: Account) -> None:
    ensure(session, by, Permission.MANAGE_ACCOUNTS, account.person.organisation_id)


def create_account(session: Session, by: Account, person: Person, username: str) -> tuple[Account, str]:
    """Open a login for ``person``; returns it with a one-time password to hand over."""
    ensure(session, by, Permission.MANAGE_ACCOUNTS, person.organisation_id)
    username = username.strip().lower()
    errors: dict[str, str] = {}
    if not is_valid_username(username):
        errors["username"] = USERNAME_RULE
    elif session.scalar(select(func.count()).select_from(Account).where(Account.username == username)):
        errors["username"] = "Tên đăng nhập này đã có người dùng."
    if session.scalar(select(Account).where(Account.person_id == person.id)) is not None:
        errors["person_id"] = "Người này đã có tài khoản."
    if errors:
        raise ValidationFailed(errors)
    password = temporary_password()
    account = Account(
        person=person, username=username, password_hash=hash_password(password), must_change_password=True
    )
    session.add(account)
    session.flush()
    record(
        session, Actor.of(by), "account.created", "account", account.id, {"username": username, "person_id": person.id}
    )
    return account, password


def reset_password(session: Session, by: Account, account: Account) -> str:
    """Give the account a one-time password; its open sessions and API tokens end."""
    _ensure_manages(session, by, account)
    password = temporary_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    _end_credentials(session, by, account, "password_reset")
    account.failed_login_count = 0
    account.last_failed_login_at = None
    account.locked_until = None
    record(session, Actor.of(by), "account.password_reset", "account", account.id)
    return password


def set_disabled(session: Session, by: Account, account: Account, disabled: bool) -> None:
    _ensure_manages(session, by, account)
    if account.id == by.id and disabled:
        raise Conflict("Không thể tự khóa tài khoản của chính mình.")
    if account.is_disabled == disabled:
        return
    account.is_disabled = disabled
    if disabled:
        _end_credentials(session, by, account, "account_disabled")
    record(session, Actor.of(by), "account.disabled" if disabled else "account.enabled", "account", account.id)


def unlock(session: Session, by: Account, account: Account) -> None:
    _ensure_manages(session, by, account)
    if account.locked_until is None and account.failed_login_count == 0:
        return
    account.locked_until = None
    account.failed_login_count = 0
    account.last_failed_login_at = None
    record(session, Actor.of(by), "account.unlocked", "account", account.id)


def _ensure_not_own_roles(by: Account, account: Account) -> None:
    """Nobody grants or revokes their own roles: another administrator must, and the audit log names them."""
    if account.id == by.id:
        raise Conflict(OWN_ROLES, code="own_roles")


def grant_role(session: Session, by: Account, account: Account, org_id: int, role: Role) -> RoleAssignment:
    """Give ``account`` a role at an organisation. Roles are read again on every request, so a change
    takes effect on the account's next page or API call without ending its sessions."""
    _ensure_manages(session, by, account)
    _ensure_not_own_roles(by, account)
    ensure(session, by, Permission.MANAGE_ACCOUNTS, org_id)
    existing = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.account_id == account.id,
            RoleAssignment.organisation_id == org_id,
            RoleAssignment.role == role,
        )
    )
    if existing is not None:
        raise Conflict("Tài khoản đã có vai trò này tại tổ chức này.")
    assignment = RoleAssignment(account=account, organisation_id=org_id, role=role)
    session.add(assignment)
    session.flush()
    record(
        session,
        Actor.of(by),
        "role.granted",
        "account",
        account.id,
        {"role": role.value, "organisation_id": org_id, "assignment_id": assignment.id},
    )
    return assignment


def revoke_role(session: Session, by: Account, assignment: RoleAssignment) -> None:
    account = assignment.account
    _ensure_manages(session, by, account)
    _ensure_not_own_roles(by, account)
    ensure(session, by, Permission.MANAGE_ACCOUNTS, assignment.organisation_id)
    details = {
        "role": assignment.role.value,
        "organisation_id": assignment.organisation_id,
        "assignment_id": assignment.id,
    }
    account.roles.remove(assignment)
    session.flush()
    record(session, Actor.of(by), "role.revoked", "account", account.id, details)
