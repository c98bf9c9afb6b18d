"""Documents as the API shows them (components Document, DocumentDetail, Incoming, IncomingDetail and
RegisterEntry of :mod:`certsvc.api.openapi`): plain JSON values, times in ISO 8601 with their offset (UTC);
and the members and actions its bodies and paths take, which the OpenAPI document lists too."""

from __future__ import annotations

from collections.abc import Iterable

from certsvc.api.serializers import labelled, org_json, person_json, time_json
from certsvc.documents.incoming import ACTION_LABELS as INCOMING_LABELS
from certsvc.documents.incoming import SENDER_ACTIONS, registrable
from certsvc.documents.models import (
    DocumentEvent,
    DocumentFile,
    DocumentStatus,
    IncomingDocument,
    IncomingEvent,
    NumberEntry,
    OutgoingDocument,
)
from certsvc.documents.signature_report import refusal_reason, signature_checks
from certsvc.documents.transitions import ACTION_LABELS, Action, Transition

__all__ = [
    "DOCUMENT_VALUES",
    "OUTSIDE_VALUES",
    "DOCUMENT_ACTIONS",
    "OFFERED_STEPS",
    "TIMELINE_LABELS",
    "document_json",
    "document_detail_json",
    "register_entry_json",
    "incoming_json",
    "incoming_detail_json",
]

#: The drafter's values of a document, as POST /documents and PATCH /documents/{id} take them.
DOCUMENT_VALUES = (
    "document_type_id",
    "summary",
    "urgency",
    "secrecy",
    "issuing_body_id",
    "signer_id",
    "authority_lines",
    "recipient_ids",
    "outside_recipients",
    "distribution_lines",
    "answers_id",
)
#: What an incoming document from outside carries, as the clerk types it.
OUTSIDE_VALUES = ("sender_name", "original_number", "original_date", "summary", "urgency")
#: The steps POST /documents/{id}/actions/{action} takes (the signed uploads have their own paths).
DOCUMENT_ACTIONS = frozenset(
    {
        Action.SUBMIT,
        Action.FORWARD,
        Action.RETURN,
        Action.CANCEL,
        Action.TAKE_NUMBER,
        Action.ABANDON_NUMBER,
        Action.SEND,
        Action.RECALL,
    }
)
#: The steps a document's detail offers: the actions, editing (PATCH, POST .../draft) and the signed uploads.
OFFERED_STEPS = DOCUMENT_ACTIONS | {Action.EDIT, Action.APPROVE, Action.ISSUE, Action.SIGN_APPENDIX}
#: What an outgoing document's timeline calls each event: its own steps and its recipients' answers.
TIMELINE_LABELS = {**ACTION_LABELS, **SENDER_ACTIONS}


def _lines(text: str | None) -> list[str]:
    return text.split("\n") if text else []


def register_entry_json(entry: NumberEntry, document: OutgoingDocument | None) -> dict:
    """A register line; ``document`` is the one holding the number, or the one that abandoned it."""
    return {
        "id": entry.id,
        "number": entry.number,
        "symbol": entry.symbol,
        "series": labelled(entry.series),
        "issue_date": time_json(entry.issue_date),
        "state": labelled(entry.state),
        "abandon_reason": entry.abandon_reason,
        "taken_at": time_json(entry.taken_at),
        "document_id": None if document is None else document.id,
    }


def document_json(doc: OutgoingDocument) -> dict:
    kind = doc.document_type
    return {
        "id": doc.id,
        "status": labelled(doc.status),
        "type": {"id": kind.id, "name": kind.name, "abbreviation": kind.abbreviation},
        "summary": doc.summary,
        "urgency": labelled(doc.urgency),
        "secrecy": labelled(doc.secrecy),
        "issuing_body": org_json(doc.issuing_body),
        "drafting_unit": org_json(doc.drafting_unit),
        "signer": person_json(doc.signer),
        "authority_lines": _lines(doc.authority_lines),
        "recipients": [org_json(recipient.organisation) for recipient in doc.recipients],
        "outside_recipients": _lines(doc.outside_recipients),
        "distribution_lines": _lines(doc.distribution_lines),
        "answers_id": doc.answers_id,
        "number": register_entry_json(doc.number_entry, doc) if doc.number_entry is not None else None,
        "created_at": time_json(doc.created_at),
        "updated_at": time_json(doc.updated_at),
        "approved_at": time_json(doc.approved_at),
        "issued_at": time_json(doc.issued_at),
        "sent_at": time_json(doc.sent_at),
        "recalled_at": time_json(doc.recalled_at),
        "recall_reason": doc.recall_reason,
    }


def _file_json(version: DocumentFile) -> dict:
    return {
        "id": version.id,
        "kind": labelled(version.kind),
        "appendix": version.appendix,
        "filename": version.filename,
        "sha256": version.sha256,
        "size": version.stored.size,
        "created_by_id": version.created_by_id,
        "created_at": time_json(version.created_at),
    }


def _event_json(event: DocumentEvent) -> dict:
    return {
        "action": event.action,
        "label": TIMELINE_LABELS.get(event.action, event.action),
        "from_status": event.from_status.value if event.from_status is not None else None,
        "to_status": event.to_status.value,
        "comment": event.comment,
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "occurred_at": time_json(event.at),
    }


def document_detail_json(doc: OutgoingDocument, transitions: Iterable[Transition]) -> dict:
    return {
        **document_json(doc),
        "files": [_file_json(version) for version in doc.files],
        "events": [_event_json(event) for event in doc.events],
        "transitions": [
            {"action": t.action, "label": t.label, "comment_required": t.comment_required}
            for t in transitions
            if t.action in OFFERED_STEPS
        ],
    }


def incoming_json(incoming: IncomingDocument) -> dict:
    return {
        "id": incoming.id,
        "status": labelled(incoming.status),
        "receiving_body": org_json(incoming.receiving_body),
        "outgoing_id": incoming.outgoing_id,
        "recalled": incoming.outgoing is not None and incoming.outgoing.status is DocumentStatus.RECALLED,
        "sender_name": incoming.sender_name,
        "original_number": incoming.original_number,
        "original_date": time_json(incoming.original_date),
        "summary": incoming.summary,
        "urgency": labelled(incoming.urgency),
        "filename": incoming.filename,
        "sha256": incoming.sha256,
        "arrived_at": time_json(incoming.arrived_at),
        "counted_at": time_json(incoming.counted_at),
        "arrival_year": incoming.arrival_year,
        "arrival_number": incoming.arrival_number,
        "return_reason": incoming.return_reason,
        "handler": person_json(incoming.handler),
        "handle_by": time_json(incoming.handle_by),
        "direction": incoming.direction,
        "directed_at": time_json(incoming.directed_at),
        "recall_confirmed_at": time_json(incoming.recall_confirmed_at),
    }


def _incoming_event_json(event: IncomingEvent) -> dict:
    return {
        "action": event.action,
        "label": INCOMING_LABELS.get(event.action, event.action),
        "comment": event.comment,
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "occurred_at": time_json(event.at),
    }


def incoming_detail_json(incoming: IncomingDocument) -> dict:
    return {
        **incoming_json(incoming),
        "verification": incoming.verification,
        "signature_checks": [
            {
                "field_name": check.field_name,
                "is_timestamp": check.is_timestamp,
                "signer": check.signer,
                "organisation": check.organisation,
                "signing_time": time_json(check.signing_time),
                "intact": check.intact,
                "chain_trusted": check.chain_trusted,
                "revoked": check.revoked,
                "changes": check.changes,
                "verdict": check.verdict,
                "reason": check.reason,
            }
            for check in signature_checks(incoming.verification)
        ],
        "refusal_reason": refusal_reason(incoming.verification),
        "registrable": registrable(incoming),
        "events": [_incoming_event_json(event) for event in incoming.events],
    }
