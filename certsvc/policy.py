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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.errors import PermissionDenied
from certsvc.orgs.models import Organisation, OrganisationTreeVersion

__all__ = ["Permission", "OrgTree", "TreePlace", "can", "ensure", "orgs_in_scope", "request_subject_units",
           "may_act_on_token", "may_witness", "nav_permissions"]

T = TypeVar("T")


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
    #: A batch's page, letter and annexes hold the requests of every unit it serves: not for the unit's officers.
    VIEW_BATCHES = "batches.view"
    # Certificate and token registries
    VIEW_REGISTRY = "registry.view"
    MANAGE_REGISTRY = "registry.manage"
    # Custody register of "MẬT" tokens
    VIEW_CUSTODY = "custody.view"
    RECORD_CUSTODY = "custody.record"
    #: The unit head's written permission for a handover, given in the application.
    APPROVE_HANDOVER = "custody.approve_handover"


_ADMINISTRATION = {
    Permission.VIEW_ORGS, Permission.MANAGE_ORGS, Permission.VIEW_PEOPLE, Permission.MANAGE_PEOPLE,
    Permission.VIEW_ACCOUNTS, Permission.MANAGE_ACCOUNTS, Permission.IMPORT_DATA, Permission.VIEW_AUDIT,
}
_READ_ALL = {
    Permission.VIEW_ORGS, Permission.VIEW_PEOPLE, Permission.VIEW_ACCOUNTS, Permission.VIEW_AUDIT,
    Permission.VIEW_REQUESTS, Permission.VIEW_BATCHES, Permission.VIEW_REGISTRY, Permission.VIEW_CUSTODY,
}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(_ADMINISTRATION),
    Role.AUDITOR: frozenset(_READ_ALL),
    Role.FOCAL_OFFICER: frozenset({
        Permission.VIEW_ORGS, Permission.VIEW_PEOPLE, Permission.VIEW_REQUESTS, Permission.REVIEW_REQUESTS,
        Permission.MANAGE_BATCHES, Permission.VIEW_BATCHES, Permission.VIEW_REGISTRY, Permission.MANAGE_REGISTRY,
        Permission.VIEW_CUSTODY,
    }),
    Role.UNIT_HEAD: frozenset({
        Permission.VIEW_PEOPLE, Permission.VIEW_REQUESTS, Permission.APPROVE_REQUESTS, Permission.VIEW_REGISTRY,
        Permission.VIEW_CUSTODY, Permission.RECORD_CUSTODY, Permission.APPROVE_HANDOVER,
    }),
    Role.UNIT_OFFICER: frozenset({Permission.VIEW_REQUESTS, Permission.DRAFT_REQUESTS, Permission.VIEW_REGISTRY}),
    Role.REVIEWER: frozenset(),
    Role.CLERK: frozenset({Permission.VIEW_REGISTRY, Permission.VIEW_CUSTODY, Permission.RECORD_CUSTODY}),
}

_SUBTREE_ROLES = {Role.ADMINISTRATOR, Role.AUDITOR}


class TreePlace(NamedTuple):
    """An organisation as a drop-down lists it: indented ``depth`` levels."""

    id: int
    name: str
    depth: int


#: Where a session keeps the tree it read (see :func:`_forget_tree`).
_SESSION_TREE = "certsvc.policy.org_tree"
#: Trees read lately, by the tree version they were read with; bounded, since tests open many databases.
_TREES: OrderedDict[str, OrgTree] = OrderedDict()
_TREES_KEPT = 8
_TREES_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class OrgTree:
    """Every organisation's name, parent and focal-office link, read in one query.

    A process keeps the trees it read by the database's tree version (renewed by triggers on any
    change of the organisations), so each transaction reads one value rather than every
    organisation, and what is derived from a tree (whom an office serves, a subtree, the tree order
    of a drop-down) is worked out once per change. Derived sets are frozen: callers cannot spoil them.
    """

    parent: dict[int, int | None]
    focal_office: dict[int, int | None]
    name: dict[int, str] = field(default_factory=dict)
    _derived: dict[tuple, object] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, session: Session) -> OrgTree:
        """The tree as ``session`` sees it; looked up once per transaction unless organisations change."""
        tree = session.info.get(_SESSION_TREE)
        if tree is None:
            tree = session.info[_SESSION_TREE] = cls._current(session)
        return tree

    @classmethod
    def _current(cls, session: Session) -> OrgTree:
        version = session.scalar(select(OrganisationTreeVersion.version))
        with _TREES_LOCK:
            tree = _TREES.get(version)
            if tree is not None:
                _TREES.move_to_end(version)
                return tree
        # The version is read again with the rows, in one statement: a tree is kept only under the
        # version of the very rows it was built from.
        rows = session.execute(select(
            Organisation.id, Organisation.parent_id, Organisation.focal_office_id, Organisation.name,
            select(OrganisationTreeVersion.version).scalar_subquery(),
        ).order_by(Organisation.id)).all()
        tree = cls(
            parent={org_id: parent for org_id, parent, *_ in rows},
            focal_office={org_id: focal for org_id, _, focal, *_ in rows},
            name={org_id: name for org_id, _, _, name, _ in rows},
        )
        if rows and rows[0][4] is not None:
            with _TREES_LOCK:
                _TREES[rows[0][4]] = tree
                while len(_TREES) > _TREES_KEPT:
                    _TREES.popitem(last=False)
        return tree

    def memo(self, key: tuple, compute: Callable[[], T]) -> T:
        """A value derived from this tree alone, computed once per tree; ``key`` names it (its first
        item says whose it is, so that keys of different callers never meet)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]  # type: ignore[return-value]

    def ancestors_and_self(self, org_id: int) -> Iterable[int]:
        seen: set[int] = set()
        current: int | None = org_id
        while current is not None and current not in seen:
            seen.add(current)
            yield current
            current = self.parent.get(current)

    def subtree(self, root_id: int) -> frozenset[int]:
        return self.memo(("subtree", root_id), lambda: frozenset(
            org for org in self.parent if root_id in self.ancestors_and_self(org)))

    def effective_focal_office(self, org_id: int) -> int | None:
        for org in self.ancestors_and_self(org_id):
            if self.focal_office.get(org) is not None:
                return self.focal_office[org]
        return None

    def served_by(self, focal_id: int) -> frozenset[int]:
        return self.memo(("served_by", focal_id), lambda: frozenset(
            org for org in self.parent if self.effective_focal_office(org) == focal_id))

    def in_tree_order(self, only: Iterable[int]) -> tuple[TreePlace, ...]:
        """The organisations in ``only`` depth-first, by name among siblings; one whose parent is
        left out takes the parent's place."""
        only = frozenset(only)
        return self.memo(("tree_order", only), lambda: tuple(self._walk(only)))

    def _walk(self, only: frozenset[int]) -> Iterator[TreePlace]:
        children: dict[int | None, list[int]] = {}
        for org_id, parent in self.parent.items():
            children.setdefault(parent if parent in self.parent else None, []).append(org_id)
        for siblings in children.values():
            siblings.sort(key=lambda org_id: self.name[org_id])
        stack: list[tuple[int, int]] = [(org_id, 0) for org_id in reversed(children.get(None, []))]
        while stack:
            org_id, depth = stack.pop()
            shown = org_id in only
            if shown:
                yield TreePlace(org_id, self.name[org_id], depth)
            stack.extend((child, depth + shown) for child in reversed(children.get(org_id, [])))


@event.listens_for(Session, "after_flush")
def _forget_tree_if_orgs_changed(session: Session, _flush_context) -> None:
    if any(isinstance(obj, Organisation) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_SESSION_TREE, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_tree(session: Session, *_args) -> None:
    """A new transaction may see organisations that others changed: it looks the tree up again."""
    session.info.pop(_SESSION_TREE, None)


def _reach(tree: OrgTree, role: Role, org_id: int) -> AbstractSet[int]:
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


def request_subject_units(session: Session, org_id: int) -> frozenset[int]:
    """The units whose certificates and tokens a request of ``org_id`` may name: the unit itself and
    the units it manages (its subtree). A unit files requests about its own registry records only."""
    return OrgTree.load(session).subtree(org_id)


def may_act_on_token(session: Session, account: Account | None, org_id: int, keeper_id: int | None) -> bool:
    """The keeper rule of the custody register: who records events of a unit's token and hands it over.

    The person who keeps it (by the register) and the unit head; while nobody keeps it (not yet
    received, lost, returned) any recorder of the unit. A clerk who handed the token over no longer acts on it.
    """
    if not can(session, account, Permission.RECORD_CUSTODY, org_id):
        return False
    return keeper_id is None or account.person_id == keeper_id \
        or can(session, account, Permission.APPROVE_HANDOVER, org_id)


def may_witness(session: Session, witness: Account | None, org_id: int, named_by: Account) -> bool:
    """Whether ``witness`` may witness a handover of a token of ``org_id`` opened by ``named_by``.

    The witness confirms the handover himself, so he signs in and sees the unit's custody register; he is
    of the token's body (a member or holding a role there), unless the unit head opens the handover and names him.
    """
    if witness is None or not can(session, witness, Permission.VIEW_CUSTODY, org_id):
        return False
    of_body = witness.person.organisation_id == org_id or any(a.organisation_id == org_id for a in witness.roles)
    return of_body or can(session, named_by, Permission.APPROVE_HANDOVER, org_id)


def nav_permissions(account: Account | None) -> frozenset[Permission]:
    """The permissions the account holds somewhere: what the navigation shows."""
    if account is None or not getattr(account, "is_authenticated", False) or account.is_disabled:
        return frozenset()
    held: set[Permission] = set()
    for assignment in account.roles:
        held |= GRANTS[assignment.role]
    return frozenset(held)
