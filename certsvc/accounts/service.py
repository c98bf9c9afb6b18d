"""Accounts: authentication with throttling and lock-out, passwords, roles.

Every outcome of a login attempt, good or bad, is written to the audit log, and
so is every change an administrator makes to an account.
"""

from __future__ import annotations

import enum
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from certsvc.accounts.models import Account, Role, RoleAssignment, new_session_token
from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.core.enums import LabelledEnum
from certsvc.errors import Conflict, NotFound, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.orgs.service import to_id
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.timeutil import utcnow

__all__ = [
    "AccountPage",
    "AccountState",
    "LoginPolicy",
    "LoginOutcome",
    "LoginResult",
    "MIN_PASSWORD_LENGTH",
    "authenticate",
    "change_password",
    "check_new_password",
    "create_account",
    "find_accounts",
    "get_account",
    "get_assignment",
    "grant_role",
    "hash_password",
    "is_locked",
    "is_valid_username",
    "people_without_account",
    "reset_password",
    "revoke_role",
    "temporary_password",
    "set_disabled",
    "unlock",
]

MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
USERNAME_RULE = "Tên đăng nhập 3–64 ký tự: chữ thường không dấu, số, dấu chấm, gạch."
# A hash to compare against when the username is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def is_valid_username(username: str) -> bool:
    """Whether ``username`` (as typed: case and surrounding spaces do not matter) can name an account."""
    return USERNAME.match(username.strip().lower()) is not None


def check_new_password(password: str, username: str) -> str | None:
    """What is wrong with a new password, in Vietnamese, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự."
    if username and username.lower() in password.lower():
        return "Mật khẩu không được chứa tên đăng nhập."
    if len(set(password)) < 4:
        return "Mật khẩu quá đơn giản."
    return None


def temporary_password() -> str:
    return secrets.token_urlsafe(9)


@dataclass(frozen=True)
class LoginPolicy:
    """After ``throttle_after`` failures each attempt waits twice as long as the
    last (1 s, 2 s, 4 s… up to 5 min); after ``lock_after`` failures the account is
    locked for ``lock_minutes``."""

    throttle_after: int = 3
    lock_after: int = 10
    lock_minutes: int = 15

    def wait_after(self, failures: int) -> timedelta:
        if failures < self.throttle_after:
            return timedelta(0)
        return timedelta(seconds=min(2 ** (failures - self.throttle_after), 300))


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
    return session.scalar(select(Account).where(Account.username == username.strip().lower()))


def authenticate(
    session: Session, username: str, password: str, *, source: str, policy: LoginPolicy,
    now: datetime | None = None,
) -> LoginResult:
    """Check a login attempt and record it. The caller commits."""
    now = now or utcnow()
    account = _find_by_username(session, username)
    details = {"username": username.strip()[:64], "source": source}
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        record(session, SYSTEM, "auth.login_failed", "account", None, {**details, "reason": "unknown_user"})
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    actor = Actor.of(account)
    if account.locked_until is not None and account.locked_until > now:
        record(session, actor, "auth.login_refused", "account", account.id, {**details, "reason": "locked"})
        return LoginResult(LoginOutcome.LOCKED, account, account.locked_until)
    if account.last_failed_login_at is not None:
        retry_at = account.last_failed_login_at + policy.wait_after(account.failed_login_count)
        if retry_at > now:
            record(session, actor, "auth.login_refused", "account", account.id, {**details, "reason": "throttled"})
            return LoginResult(LoginOutcome.THROTTLED, account, retry_at)
    if not check_password_hash(account.password_hash, password):
        account.failed_login_count += 1
        account.last_failed_login_at = now
        locked = account.failed_login_count >= policy.lock_after
        if locked:
            account.locked_until = now + timedelta(minutes=policy.lock_minutes)
            account.failed_login_count = 0
            account.last_failed_login_at = None
        record(
            session, actor, "auth.login_failed", "account", account.id,
            {**details, "reason": "bad_password", "locked": locked},
        )
        if locked:
            return LoginResult(LoginOutcome.LOCKED, account, account.locked_until)
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


def change_password(session: Session, account: Account, current: str, new: str) -> None:
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
    account.session_token = new_session_token()
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
    session: Session, by: Account, *, org_id: int | None = None, state: AccountState | None = None,
    page: int = 1, per_page: int = 50, now: datetime | None = None,
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


def people_without_account(session: Session, by: Account) -> list[Person]:
    """Active people in ``by``'s MANAGE_ACCOUNTS scope who have no login yet, by unit and name."""
    scope = orgs_in_scope(session, by, Permission.MANAGE_ACCOUNTS)
    return list(session.scalars(
        select(Person)
        .join(Person.organisation)
        .where(
            Person.organisation_id.in_(scope),
            Person.is_active.is_(True),
            ~exists().where(Account.person_id == Person.id),
        )
        .options(contains_eager(Person.organisation))
        .order_by(Organisation.name, Person.full_name, Person.id)
    ))


def _ensure_manages(session: Session, by: Account, account: Account) -> None:
    ensure(session, by, Permission.MANAGE_ACCOUNTS, account.person.organisation_id)


def create_account(
    session: Session, by: Account, person: Person, username: str
) -> tuple[Account, str]:
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
    record(session, Actor.of(by), "account.created", "account", account.id,
           {"username": username, "person_id": person.id})
    return account, password


def reset_password(session: Session, by: Account, account: Account) -> str:
    """Give the account a one-time password; every open session of it ends."""
    _ensure_manages(session, by, account)
    password = temporary_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.session_token = new_session_token()
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
    account.session_token = new_session_token()
    record(session, Actor.of(by), "account.disabled" if disabled else "account.enabled", "account", account.id)


def unlock(session: Session, by: Account, account: Account) -> None:
    _ensure_manages(session, by, account)
    if account.locked_until is None and account.failed_login_count == 0:
        return
    account.locked_until = None
    account.failed_login_count = 0
    account.last_failed_login_at = None
    record(session, Actor.of(by), "account.unlocked", "account", account.id)


def grant_role(session: Session, by: Account, account: Account, org_id: int, role: Role) -> RoleAssignment:
    _ensure_manages(session, by, account)
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
    record(session, Actor.of(by), "role.granted", "account", account.id,
           {"role": role.value, "organisation_id": org_id, "assignment_id": assignment.id})
    return assignment


def revoke_role(session: Session, by: Account, assignment: RoleAssignment) -> None:
    account = assignment.account
    _ensure_manages(session, by, account)
    ensure(session, by, Permission.MANAGE_ACCOUNTS, assignment.organisation_id)
    if account.id == by.id and assignment.role is Role.ADMINISTRATOR:
        raise Conflict("Không thể tự thu hồi quyền quản trị của chính mình.")
    details = {"role": assignment.role.value, "organisation_id": assignment.organisation_id,
               "assignment_id": assignment.id}
    account.roles.remove(assignment)
    session.flush()
    record(session, Actor.of(by), "role.revoked", "account", account.id, details)
