"""Review and returns: the department leader forwards a draft for signature or returns it; the proposed signer
returns it instead of signing; the clerk returns a signed document instead of numbering it (its approval is
then void). Each return says why. The drafter edits a returned document and submits it again.

No Flask here; the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.documents.models import DocumentEvent, OutgoingDocument
from certsvc.documents.transitions import Action, apply_transition

__all__ = ["forward", "return_document"]


def forward(session: Session, by: Account, doc: OutgoingDocument, comment: str | None = None) -> DocumentEvent:
    """The reviewer sends the draft to the proposed signer; not the draft's creator nor its last editor."""
    return apply_transition(session, by, doc, Action.FORWARD, comment)


def return_document(session: Session, by: Account, doc: OutgoingDocument, comment: str | None) -> DocumentEvent:
    """Return the document to its drafter with ``comment`` (required): the reviewer at review, the proposed
    signer at the signature step, the clerk once it is signed (the approval is void: it must be signed
    again). Who may depends on the status (:data:`certsvc.documents.transitions.TRANSITIONS`)."""
    return apply_transition(session, by, doc, Action.RETURN, comment)
