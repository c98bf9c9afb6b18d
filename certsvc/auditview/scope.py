"""Which audit entries a viewer may read: those of the organisations in his scope.

An entry belongs to the organisation of the object it is about, looked up in the object's own table when
the log is read (an account's organisations are its person's and those where it holds a role). This is a
condition on the query, so paged lists and counts see only what the viewer may see. The organisation is
not stored in the entry: the log's rows and their hashed content stay as they were written, and entries
written before this existed are placed like new ones.

- An entry of the custody register (action ``custody.…``) shows only to viewers who may also see that
  register (VIEW_CUSTODY) at the unit: it is "MẬT".
- An entry with no organisation (the system's, a failed sign-in of an unknown name, an import, an object
  that no longer exists) shows only to viewers whose scope is the whole tree.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, CompoundSelect, Select, String, and_, cast, false, or_, select, true, union
from sqlalchemy.orm import Session

from certsvc.accounts.api_token_models import ApiToken
from certsvc.accounts.models import Account, RoleAssignment
from certsvc.agents.models import AgentJob, PairingCode, SigningAgent
from certsvc.audit.models import AuditEntry
from certsvc.documents.models import IncomingDocument, OutgoingDocument
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, orgs_in_scope
from certsvc.readiness.models import AssistedVisit, CheckReport
from certsvc.registry.models import Certificate, Token
from certsvc.requests.models import Batch, CertificateRequest

__all__ = ["visible_to"]

CUSTODY_PREFIX = "custody."


def _ids(id_column, org_column, orgs: Collection[int]) -> Select:
    """The ids (as the log stores them: text) of the rows of ``orgs``."""
    return select(cast(id_column, String)).where(org_column.in_(orgs))


def _accounts_of(orgs: Collection[int]) -> CompoundSelect:
    return union(
        select(Account.id).join(Person, Account.person_id == Person.id).where(Person.organisation_id.in_(orgs)),
        select(RoleAssignment.account_id).where(RoleAssignment.organisation_id.in_(orgs)),
    )


def _belongs_to(orgs: Collection[int]) -> ColumnElement[bool]:
    """Entries about an object of one of ``orgs``."""
    if not orgs:
        return false()
    orgs = sorted(orgs)
    accounts = _accounts_of(orgs).subquery()
    objects = {
        "organisation": _ids(Organisation.id, Organisation.id, orgs),
        "person": _ids(Person.id, Person.organisation_id, orgs),
        "account": select(cast(accounts.c[0], String)),
        "api_token": select(cast(ApiToken.id, String)).where(ApiToken.account_id.in_(select(accounts.c[0]))),
        "certificate": _ids(Certificate.id, Certificate.organisation_id, orgs),
        "token": _ids(Token.id, Token.organisation_id, orgs),
        "certificate_request": _ids(CertificateRequest.id, CertificateRequest.organisation_id, orgs),
        "request_batch": _ids(Batch.id, Batch.focal_office_id, orgs),
        "outgoing_document": select(cast(OutgoingDocument.id, String)).where(
            or_(OutgoingDocument.drafting_unit_id.in_(orgs), OutgoingDocument.issuing_body_id.in_(orgs))
        ),
        "incoming_document": _ids(IncomingDocument.id, IncomingDocument.receiving_body_id, orgs),
        "check_report": _ids(CheckReport.id, CheckReport.organisation_id, orgs),
        "assisted_visit": _ids(AssistedVisit.id, AssistedVisit.organisation_id, orgs),
        # an account's agents and jobs belong where the account does
        **{
            kind: select(cast(model.id, String)).where(model.account_id.in_(select(accounts.c[0])))
            for kind, model in (("pairing_code", PairingCode), ("signing_agent", SigningAgent), ("agent_job", AgentJob))
        },
    }
    return or_(*(and_(AuditEntry.object_type == kind, AuditEntry.object_id.in_(ids)) for kind, ids in objects.items()))


def _within(orgs: set[int], everything: frozenset[int]) -> ColumnElement[bool]:
    """Entries of ``orgs``; every entry, the organisation-less too, when ``orgs`` is the whole tree."""
    return true() if orgs and orgs >= everything else _belongs_to(orgs)


def visible_to(session: Session, viewer: Account) -> ColumnElement[bool]:
    """The condition on :class:`AuditEntry` that keeps the entries ``viewer`` may read."""
    everything = frozenset(OrgTree.load(session).parent)
    audit = orgs_in_scope(session, viewer, Permission.VIEW_AUDIT)
    custody = audit & orgs_in_scope(session, viewer, Permission.VIEW_CUSTODY)
    is_custody = AuditEntry.action.startswith(CUSTODY_PREFIX, autoescape=True)
    return or_(and_(~is_custody, _within(audit, everything)), and_(is_custody, _within(custody, everything)))
