"""Who reaches an outgoing document.

An outgoing document belongs to its drafting unit AND its issuing body: a permission held at either reaches
it (the office's drafter and the committee's clerk see the same document). Rules that depend on the record
rather than a role are here too: only the proposed signer signs it or returns it at the signature step.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.records import get_record
from certsvc.documents.models import OutgoingDocument
from certsvc.errors import NotFound, PermissionDenied
from certsvc.policy import Permission, can

__all__ = ["MISSING", "may", "get_document", "ensure", "is_proposed_signer"]

#: What anyone who may not see a document reads, the same as for an id that names none.
MISSING = "Không có văn bản này."


def may(session: Session, account: Account | None, permission: Permission, doc: OutgoingDocument) -> bool:
    """Whether ``account`` holds ``permission`` at the document's drafting unit or its issuing body."""
    return can(session, account, permission, doc.drafting_unit_id) or can(
        session, account, permission, doc.issuing_body_id
    )


def ensure(session: Session, account: Account, permission: Permission, doc: OutgoingDocument) -> None:
    """NotFound when ``account`` cannot even see ``doc``, PermissionDenied when it sees it without ``permission``."""
    if not may(session, account, Permission.VIEW_DOCUMENTS, doc):
        raise NotFound(MISSING)
    if permission is not Permission.VIEW_DOCUMENTS and not may(session, account, permission, doc):
        raise PermissionDenied()


def get_document(
    session: Session, account: Account, document_id: object, permission: Permission = Permission.VIEW_DOCUMENTS
) -> OutgoingDocument:
    """The document ``document_id`` names, if ``account`` may see it and holds ``permission`` on it.

    404 for an unknown id, one that cannot be an id, and a document the account may not see (its existence
    is not told); 403 when it may see it but not take the step ``permission`` allows.
    """
    doc = get_record(session, OutgoingDocument, document_id, MISSING)
    ensure(session, account, permission, doc)
    return doc


def is_proposed_signer(account: Account, doc: OutgoingDocument) -> bool:
    """Only the person the drafter proposed signs the document (or returns it at the signature step)."""
    return account.person_id == doc.signer_id
