"""Records as the API shows them: plain JSON values, times in ISO 8601 with their offset (UTC), links as
paths of the API (``/api/v1/...``).

The shapes are those of the components in :mod:`certsvc.api.openapi`; the tests check each
real response against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from flask import url_for

from certsvc.core.enums import LabelledEnum
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, Token, TokenEvent
from certsvc.registry.service import CertificateStatus
from certsvc.requests.checks import SubmissionProblem
from certsvc.requests.fields import TypeSpec, fields_for_display
from certsvc.requests.letters import batch_distribution, batch_recipient
from certsvc.requests.models import Batch, CertificateRequest, RequestAttachment, RequestEvent
from certsvc.requests.transitions import ACTION_LABELS, Transition

__all__ = [
    "time_json",
    "org_json",
    "person_json",
    "labelled",
    "request_type_json",
    "request_json",
    "request_detail_json",
    "batch_json",
    "batch_detail_json",
    "certificate_json",
    "token_json",
    "token_detail_json",
]


def time_json(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def org_json(org: Organisation) -> dict:
    return {"id": org.id, "name": org.name}


def person_json(person: Person | None) -> dict | None:
    return {"id": person.id, "full_name": person.full_name} if person is not None else None


def labelled(value: LabelledEnum) -> dict:
    return {"value": value.value, "label": value.label}


def request_type_json(spec: TypeSpec, hints: Mapping[str, str]) -> dict:
    """A request type and its fields; ``hints`` replace the fields' own where settings decide them."""
    return {
        "type": spec.type.value,
        "label": spec.type.label,
        "form_no": spec.form_no,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "widget": f.widget,
                "required": f.required,
                "choices": [{"value": value, "label": label} for value, label in f.choices],
                "hint": hints.get(f.name, f.hint),
                "max_length": f.max_length,
            }
            for f in spec.all_fields
        ],
    }


def request_json(req: CertificateRequest) -> dict:
    return {
        "id": req.id,
        "type": labelled(req.request_type),
        "status": labelled(req.status),
        "organisation": org_json(req.organisation),
        "fields": fields_for_display(req.request_type, req.data or {}),
        "certificate_id": req.certificate_id,
        "token_id": req.token_id,
        "batch_id": req.batch_id,
        "issued_certificate_id": req.issued_certificate_id,
        "created_by_id": req.created_by_id,
        "approved_by_id": req.approved_by_id,
        "created_at": time_json(req.created_at),
        "submitted_at": time_json(req.submitted_at),
        "updated_at": time_json(req.updated_at),
    }


def _event_json(event: RequestEvent) -> dict:
    return {
        "action": event.action,
        "label": ACTION_LABELS.get(event.action, event.action),
        "from_status": event.from_status.value if event.from_status is not None else None,
        "to_status": event.to_status.value,
        "comment": event.comment,
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "occurred_at": time_json(event.occurred_at),
    }


def _attachment_json(attachment: RequestAttachment) -> dict:
    """A file attached to a request, with the API path that downloads it."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "description": attachment.description,
        "uploaded_by_id": attachment.uploaded_by_id,
        "uploaded_at": time_json(attachment.uploaded_at),
        "download_url": url_for(
            "api.download_request_attachment",
            api_request_id=attachment.request_id,
            api_attachment_id=attachment.id,
        ),
    }


def request_detail_json(
    req: CertificateRequest,
    transitions: Iterable[Transition],
    editable: bool,
    problems: Iterable[SubmissionProblem],
) -> dict:
    return {
        **request_json(req),
        "events": [_event_json(event) for event in req.events],
        "transitions": [
            {"action": t.action, "label": t.label, "comment_required": t.comment_required} for t in transitions
        ],
        "editable": editable,
        "attachments": [_attachment_json(a) for a in req.current_attachments],
        "problems": [{"code": p.code, "message": p.message} for p in problems],
    }


def batch_json(batch: Batch) -> dict:
    paper, electronic = batch_distribution(batch)
    return {
        "id": batch.id,
        "focal_office": org_json(batch.focal_office),
        "title": batch.title,
        "signer_title": batch.signer_title,
        "signer_name": batch.signer_name,
        "letter_recipient": batch_recipient(batch),
        "distribution_lines": paper,
        "electronic_distribution_lines": electronic,
        "status": labelled(batch.status),
        "request_count": len(batch.requests),
        "created_at": time_json(batch.created_at),
        "locked_at": time_json(batch.locked_at),
        "document_number": batch.document_number,
        "document_date": time_json(batch.document_date),
        "sent_at": time_json(batch.sent_at),
        "letter_document_id": batch.letter_document_id,
    }


def batch_detail_json(batch: Batch) -> dict:
    return {**batch_json(batch), "requests": [request_json(req) for req in batch.requests]}


def certificate_json(cert: Certificate, status: CertificateStatus) -> dict:
    return {
        "id": cert.id,
        "serial_hex": cert.serial_hex,
        "subject_dn": cert.subject_dn,
        "subject_cn": cert.subject_cn,
        "subject_uid": cert.subject_uid,
        "issuer_dn": cert.issuer_dn,
        "not_before": time_json(cert.not_before),
        "not_after": time_json(cert.not_after),
        "key_usage": cert.key_usage,
        "sha1": cert.sha1,
        "sha256": cert.sha256,
        "kind": labelled(cert.kind),
        "status": labelled(status),
        "organisation": org_json(cert.organisation),
        "holder": person_json(cert.holder),
        "token_id": cert.token_id,
        "predecessor_id": cert.predecessor_id,
        "successor_id": cert.successor.id if cert.successor is not None else None,
        "revoked_at": time_json(cert.revoked_at),
        "revocation_reason": cert.revocation_reason,
        "created_at": time_json(cert.created_at),
    }


def token_json(token: Token) -> dict:
    return {
        "id": token.id,
        "serial": token.serial,
        "model": token.model,
        "kind": labelled(token.kind),
        "state": labelled(token.state),
        "organisation": org_json(token.organisation),
        "holder": person_json(token.holder),
        "is_secret": token.is_secret,
        "recoveries": token.recoveries,
        "replacements": token.replacements,
        "replaces_id": token.replaces_id,
        "created_at": time_json(token.created_at),
    }


def _token_event_json(event: TokenEvent) -> dict:
    return {
        "from_state": event.from_state.value if event.from_state is not None else None,
        "to_state": event.to_state.value,
        "reason": event.reason,
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "occurred_at": time_json(event.occurred_at),
    }


def token_detail_json(token: Token, certificates: Iterable[Certificate]) -> dict:
    return {
        **token_json(token),
        "events": [_token_event_json(event) for event in token.events],
        "certificate_ids": [cert.id for cert in certificates],
    }
