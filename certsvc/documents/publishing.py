"""Publishing: the clerk sends an issued document to its recipients inside the service (their incoming
lists receive it at once; outside recipients are listed for sending by other means), and may recall it
(thu hồi, seed 003 Điều 12.6): the recipients see it recalled and confirm; nothing is deleted.

No Flask here; the caller commits, or rolls back on any error.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.transitions import clean_comment
from certsvc.documents.incoming import deliver
from certsvc.documents.models import IncomingDocument, OutgoingDocument
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.transitions import Action, apply_transition, check_transition
from certsvc.errors import ValidationFailed
from certsvc.timeutil import utcnow

__all__ = ["MAX_RECALL_REASON", "send", "recall"]

#: The document's column for why it was recalled.
MAX_RECALL_REASON = 500


def send(session: Session, by: Account, doc: OutgoingDocument, settings: DocumentSettings) -> list[IncomingDocument]:
    """Send the issued document: one incoming document for each recipient inside the service (in the same
    transaction, so a failed delivery sends nothing), the sent time recorded. The recipients' rows."""
    check_transition(session, by, doc, Action.SEND)
    delivered = deliver(session, by, doc, settings)
    doc.sent_at = utcnow()
    apply_transition(
        session,
        by,
        doc,
        Action.SEND,
        details={"recipient_ids": [incoming.receiving_body_id for incoming in delivered]},
    )
    return delivered


def recall(session: Session, by: Account, doc: OutgoingDocument, reason: str | None) -> OutgoingDocument:
    """Recall a sent document with ``reason`` (required): its recipients see it recalled and confirm."""
    check_transition(session, by, doc, Action.RECALL)
    text = clean_comment(reason, required=True)
    if text is not None and len(text) > MAX_RECALL_REASON:
        raise ValidationFailed({"comment": f"Lý do dài quá {MAX_RECALL_REASON} ký tự."})
    doc.recalled_at = utcnow()
    doc.recall_reason = text
    apply_transition(session, by, doc, Action.RECALL, text)
    return doc
