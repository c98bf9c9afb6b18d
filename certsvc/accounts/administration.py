"""Account administration: finding accounts, opening them, resetting, disabling, unlocking, and
the roles they hold in organisations.

Every change an administrator makes is written to the audit log, and each is checked against
the administrator's MANAGE_ACCOUNTS scope here, whatever the page already checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from certsvc.accounts.authentication import end_credentials
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password, temporary_password
from certsvc.audit.service import Actor, record
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import to_id
from certsvc.errors import Conflict, NotFound, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.timeutil import utcnow

__all__ = [
    "USERNAME_RULE",
    "AccountPage",
    "AccountState",
    "accounts_of",
    "create_account",
    "find_accounts",
    "get_account",
    "get_assignment",
    "grant_role",
    "is_locked",
    "is_valid_username",
    "people_without_account",
    "reset_password",
    "revoke_role",
    "set_disabled",
    "unlock",
]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
USERNAME_RULE = "Tên đăng nhập 3–64 ký tự: chữ thường không dấu, số, dấu chấm, gạch."
OWN_ROLES = "Không thể tự giao hoặc thu hồi vai trò của chính mình. Hãy nhờ một quản trị viên khác."


def is_valid_username(username: str) -> bool:
    """Whether ``username`` (as typed: case and surrounding spaces do not matter) can name an account."""
    return USERNAME.match(username.strip().lower()) is not None


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
    end_credentials(session, by, account, "password_reset")
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
        end_credentials(session, by, account, "account_disabled")
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
