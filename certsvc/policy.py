"""Every permission decision of the service, in one place.

A role is held in one organisation. What it reaches depends on the role:

* administrator and auditor reach the organisation and everything below it;
* focal officer reaches the organisations the office serves as focal point
  (set on the organisation or inherited from the nearest ancestor);
* unit officer, unit head, reviewer and clerk reach their own organisation.

Custody items are "MẬT": views must answer 404, not 403, to anyone without
VIEW_CUSTODY at the token's organisation (see :func:`can`).

Views and services ask :func:`can` or :func:`ensure`; nothing else decides.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.errors import PermissionDenied
from certsvc.orgs.models import Organisation

__all__ = ["Permission", "OrgTree", "can", "ensure", "orgs_in_scope", "nav_permissions"]


class Permission(enum.StrEnum):
    VIEW_ORGS = "orgs.view"
    MANAGE_ORGS = "orgs.manage"
    VIEW_PEOPLE = "people.view"
    MANAGE_PEOPLE = "people.manage"
    VIEW_ACCOUNTS = "accounts.view"
    MANAGE_ACCOUNTS = "accounts.manage"
    IMPORT_DATA = "data.import"
    VIEW_AUDIT = "audit.view"
    # Certificate requests and their consolidation
    VIEW_REQUESTS = "requests.view"
    DRAFT_REQUESTS = "requests.draft"
    APPROVE_REQUESTS = "requests.approve"
    REVIEW_REQUESTS = "requests.review"
    MANAGE_BATCHES = "batches.manage"
    # Certificate and token registries
    VIEW_REGISTRY = "registry.view"
    MANAGE_REGISTRY = "registry.manage"
    # Custody register of "MẬT" tokens
    VIEW_CUSTODY = "custody.view"
    RECORD_CUSTODY = "custody.record"


_ADMINISTRATION = {
    Permission.VIEW_ORGS, Permission.MANAGE_ORGS, Permission.VIEW_PEOPLE, Permission.MANAGE_PEOPLE,
    Permission.VIEW_ACCOUNTS, Permission.MANAGE_ACCOUNTS, Permission.IMPORT_DATA, Permission.VIEW_AUDIT,
}
_READ_ALL = {
    Permission.VIEW_ORGS, Permission.VIEW_PEOPLE, Permission.VIEW_ACCOUNTS, Permission.VIEW_AUDIT,
    Permission.VIEW_REQUESTS, Permission.VIEW_REGISTRY, Permission.VIEW_CUSTODY,
}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(_ADMINISTRATION),
    Role.AUDITOR: frozenset(_READ_ALL),
    Role.FOCAL_OFFICER: frozenset({
        Permission.VIEW_ORGS, Permission.VIEW_PEOPLE, Permission.VIEW_REQUESTS, Permission.REVIEW_REQUESTS,
        Permission.MANAGE_BATCHES, Permission.VIEW_REGISTRY, Permission.MANAGE_REGISTRY, Permission.VIEW_CUSTODY,
    }),
    Role.UNIT_HEAD: frozenset({
        Permission.VIEW_PEOPLE, Permission.VIEW_REQUESTS, Permission.APPROVE_REQUESTS, Permission.VIEW_REGISTRY,
        Permission.VIEW_CUSTODY, Permission.RECORD_CUSTODY,
    }),
    Role.UNIT_OFFICER: frozenset({Permission.VIEW_REQUESTS, Permission.DRAFT_REQUESTS, Permission.VIEW_REGISTRY}),
    Role.REVIEWER: frozenset(),
    Role.CLERK: frozenset({Permission.VIEW_REGISTRY, Permission.VIEW_CUSTODY, Permission.RECORD_CUSTODY}),
}

_SUBTREE_ROLES = {Role.ADMINISTRATOR, Role.AUDITOR}


@dataclass(frozen=True)
class OrgTree:
    """Parent and focal-office links of every organisation, loaded in one query."""

    parent: dict[int, int | None]
    focal_office: dict[int, int | None]

    @classmethod
    def load(cls, session: Session) -> OrgTree:
        rows = session.execute(
            select(Organisation.id, Organisation.parent_id, Organisation.focal_office_id)
        ).all()
        return cls(
            parent={row.id: row.parent_id for row in rows},
            focal_office={row.id: row.focal_office_id for row in rows},
        )

    def ancestors_and_self(self, org_id: int) -> Iterable[int]:
        seen: set[int] = set()
        current: int | None = org_id
        while current is not None and current not in seen:
            seen.add(current)
            yield current
            current = self.parent.get(current)

    def subtree(self, root_id: int) -> set[int]:
        return {org for org in self.parent if root_id in self.ancestors_and_self(org)}

    def effective_focal_office(self, org_id: int) -> int | None:
        for org in self.ancestors_and_self(org_id):
            if self.focal_office.get(org) is not None:
                return self.focal_office[org]
        return None

    def served_by(self, focal_id: int) -> set[int]:
        return {org for org in self.parent if self.effective_focal_office(org) == focal_id}


def _reach(tree: OrgTree, role: Role, org_id: int) -> set[int]:
    if role in _SUBTREE_ROLES:
        return tree.subtree(org_id)
    if role is Role.FOCAL_OFFICER:
        return tree.served_by(org_id) | {org_id}
    return {org_id}


def orgs_in_scope(session: Session, account: Account, permission: Permission) -> set[int]:
    """Ids of the organisations where ``account`` holds ``permission``."""
    if account.is_disabled:
        return set()
    tree = OrgTree.load(session)
    scope: set[int] = set()
    for assignment in account.roles:
        if permission in GRANTS[assignment.role]:
            scope |= _reach(tree, assignment.role, assignment.organisation_id)
    return scope


def can(session: Session, account: Account | None, permission: Permission, org_id: int | None = None) -> bool:
    """Whether ``account`` holds ``permission`` at ``org_id`` (anywhere, when ``org_id`` is None)."""
    if account is None or not getattr(account, "is_authenticated", False) or account.is_disabled:
        return False
    if org_id is None:
        return any(permission in GRANTS[a.role] for a in account.roles)
    return org_id in orgs_in_scope(session, account, permission)


def ensure(session: Session, account: Account | None, permission: Permission, org_id: int | None = None) -> None:
    if not can(session, account, permission, org_id):
        raise PermissionDenied()


def nav_permissions(account: Account | None) -> frozenset[Permission]:
    """The permissions the account holds somewhere: what the navigation shows."""
    if account is None or not getattr(account, "is_authenticated", False) or account.is_disabled:
        return frozenset()
    held: set[Permission] = set()
    for assignment in account.roles:
        held |= GRANTS[assignment.role]
    return frozenset(held)
