"""Every permission decision of the service, in one place.

A role is held in one organisation. What it reaches depends on the role:

* administrator and auditor reach the organisation and everything below it;
* focal officer reaches the organisations the office serves as focal point
  (set on the organisation or inherited from the nearest ancestor);
* unit officer, unit head, reviewer and clerk reach their own organisation.

Custody items are "MẬT": views must answer 404, not 403, to anyone without
VIEW_CUSTODY at the token's organisation (see :func:`can`).

Views and services ask :func:`can` or :func:`ensure`. The custody register's rules that also depend
on who keeps a token are here too (:func:`may_act_on_token`, :func:`may_witness`), asked by the custody
services and pages. Rules about a record's state rather than a role ask :func:`can` where the record
lives: a request's four-eyes rule and who may edit it in :mod:`certsvc.requests.transitions` and
:mod:`certsvc.requests.service`.
"""

from __future__ import annotations

import enum
from collections.abc import Set as AbstractSet

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.errors import PermissionDenied
from certsvc.orgs.tree import OrgTree

__all__ = [
    "Permission",
    "can",
    "ensure",
    "orgs_in_scope",
    "request_subject_units",
    "may_act_on_token",
    "may_witness",
    "nav_permissions",
]


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
    # Electronic documents. A document belongs to its drafting unit and its issuing body: a permission held
    # at either reaches it (see certsvc.documents.access).
    VIEW_DOCUMENTS = "documents.view"
    DRAFT_DOCUMENTS = "documents.draft"
    #: The department leader's review ("thẩm định") before the signer sees the draft.
    REVIEW_DOCUMENTS = "documents.review"
    #: Signing as the competent person; only the document's proposed signer signs it.
    SIGN_DOCUMENTS = "documents.sign"
    #: The clerk's steps: number, date and organisation signature, sending, recall, the register.
    ISSUE_DOCUMENTS = "documents.issue"
    #: The clerk's incoming register: checking signatures, registering or returning.
    RECEIVE_DOCUMENTS = "documents.receive"
    #: The head's direction of an incoming document: handler, deadline, comment.
    DIRECT_DOCUMENTS = "documents.direct"
    #: The seeds' targets per unit (documents signed digitally, by the head, …).
    VIEW_DOCUMENT_REPORT = "documents.report"
    # Readiness before go-live (token check reports, the board, assisted checks)
    #: The readiness board and the check reports of a unit.
    VIEW_READINESS = "readiness.view"
    #: Filing a token check report for a unit's tokens.
    RECORD_READINESS = "readiness.record"
    #: The focal office's assisted checks of visitors' tokens, and the units' go-live dates.
    ASSIST_READINESS = "readiness.assist"


_ADMINISTRATION = {
    Permission.VIEW_ORGS,
    Permission.MANAGE_ORGS,
    Permission.VIEW_PEOPLE,
    Permission.MANAGE_PEOPLE,
    Permission.VIEW_ACCOUNTS,
    Permission.MANAGE_ACCOUNTS,
    Permission.IMPORT_DATA,
    Permission.VIEW_AUDIT,
}
_READ_ALL = {
    Permission.VIEW_ORGS,
    Permission.VIEW_PEOPLE,
    Permission.VIEW_ACCOUNTS,
    Permission.VIEW_AUDIT,
    Permission.VIEW_REQUESTS,
    Permission.VIEW_BATCHES,
    Permission.VIEW_REGISTRY,
    Permission.VIEW_CUSTODY,
    Permission.VIEW_DOCUMENTS,
    Permission.VIEW_DOCUMENT_REPORT,
    Permission.VIEW_READINESS,
}
_READINESS = {Permission.VIEW_READINESS, Permission.RECORD_READINESS}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(_ADMINISTRATION),
    Role.AUDITOR: frozenset(_READ_ALL),
    Role.FOCAL_OFFICER: frozenset(
        {
            Permission.VIEW_ORGS,
            Permission.VIEW_PEOPLE,
            Permission.VIEW_REQUESTS,
            Permission.REVIEW_REQUESTS,
            Permission.MANAGE_BATCHES,
            Permission.VIEW_BATCHES,
            Permission.VIEW_REGISTRY,
            Permission.MANAGE_REGISTRY,
            Permission.VIEW_CUSTODY,
            Permission.VIEW_DOCUMENT_REPORT,
            *_READINESS,
            Permission.ASSIST_READINESS,
        }
    ),
    Role.UNIT_HEAD: frozenset(
        {
            *_READINESS,
            Permission.VIEW_PEOPLE,
            Permission.VIEW_REQUESTS,
            Permission.APPROVE_REQUESTS,
            Permission.VIEW_REGISTRY,
            Permission.VIEW_CUSTODY,
            Permission.RECORD_CUSTODY,
            Permission.APPROVE_HANDOVER,
            Permission.VIEW_DOCUMENTS,
            Permission.SIGN_DOCUMENTS,
            Permission.DIRECT_DOCUMENTS,
            Permission.VIEW_DOCUMENT_REPORT,
        }
    ),
    Role.UNIT_OFFICER: frozenset(
        {
            *_READINESS,
            Permission.VIEW_REQUESTS,
            Permission.DRAFT_REQUESTS,
            Permission.VIEW_REGISTRY,
            Permission.VIEW_DOCUMENTS,
            Permission.DRAFT_DOCUMENTS,
        }
    ),
    Role.REVIEWER: frozenset({Permission.VIEW_DOCUMENTS, Permission.REVIEW_DOCUMENTS}),
    Role.CLERK: frozenset(
        {
            *_READINESS,
            Permission.VIEW_REGISTRY,
            Permission.VIEW_CUSTODY,
            Permission.RECORD_CUSTODY,
            Permission.VIEW_DOCUMENTS,
            Permission.ISSUE_DOCUMENTS,
            Permission.RECEIVE_DOCUMENTS,
        }
    ),
}

_SUBTREE_ROLES = {Role.ADMINISTRATOR, Role.AUDITOR}


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
    if account is None or not can(session, account, Permission.RECORD_CUSTODY, org_id):
        return False
    return (
        keeper_id is None
        or account.person_id == keeper_id
        or can(session, account, Permission.APPROVE_HANDOVER, org_id)
    )


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
