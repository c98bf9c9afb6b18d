"""The OpenAPI 3.1 description of /api/v1, checked against real responses by the tests.

Enumerations come from the models and tables themselves, so the document cannot drift from them.
It is one document, mostly data, read top to bottom as the API's reference: hence one module over the
usual 400 lines.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from certsvc.api.common import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from certsvc.api.document_serializers import DOCUMENT_ACTIONS, OFFERED_STEPS, TIMELINE_LABELS
from certsvc.api.idempotency import HEADER, KEY_PATTERN
from certsvc.core.validation import _CONTROL, _HIDDEN
from certsvc.documents.drafting import MAX_APPENDICES, MAX_RECIPIENTS, MAX_SUMMARY
from certsvc.documents.files import MAX_FILE_BYTES
from certsvc.documents.incoming import ACTION_LABELS as INCOMING_ACTION_LABELS
from certsvc.documents.models import (
    DocumentStatus,
    FileKind,
    IncomingStatus,
    NumberState,
    Secrecy,
    Series,
    Urgency,
)
from certsvc.documents.register import FIRST_BOOK_YEAR
from certsvc.documents.report import MAX_PERIOD_DAYS
from certsvc.readiness.board import HolderRole, UnitState
from certsvc.readiness.models import CheckStatus, ReportSource, VisitAction
from certsvc.readiness.reports import MAX_REPORT_BYTES
from certsvc.readiness.visits import MAX_VISITS_LISTED
from certsvc.registry.models import TokenKind, TokenState
from certsvc.registry.service import CertificateStatus
from certsvc.requests.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MEDIA_TYPES
from certsvc.requests.batches import DOCUMENT_NUMBER
from certsvc.requests.fields import REQUEST_TYPES
from certsvc.requests.models import BatchStatus, RequestStatus, RequestType
from certsvc.requests.transitions import ACTION_LABELS, PAGE_ACTIONS

__all__ = ["openapi_document"]

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_BOOLEAN = {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_MB = 1024 * 1024
#: A PDF file, the whole body of its request or answer (or a part of a multipart form).
_PDF = {
    "type": "string",
    "format": "binary",
    "contentMediaType": "application/pdf",
    "description": f"A PDF file (starting with %PDF-) of at most {MAX_FILE_BYTES // _MB} MB.",
}
#: The types of a request's attachments, as the server recognises them by their first bytes.
#: An id of a record: the server refuses 0 and negative numbers as malformed.
_ID = {"type": "integer", "minimum": 1}
#: Characters the server refuses in any text (text_problem), as the ranges of its two character classes.
_REFUSED = _CONTROL.pattern[1:-1] + _HIDDEN.pattern[1:-1]
#: Text without refused characters.
_PLAIN = {"type": "string", "pattern": f"^[^{_REFUSED}]*$"}


def _nullable(schema: dict) -> dict:
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _text(max_length: int, **extra: Any) -> dict:
    """Required text: something besides spaces, at most ``max_length`` characters, none refused."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": f"^[^{_REFUSED}]*[^\\s{_REFUSED}][^{_REFUSED}]*$",
        **extra,
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, optional: tuple[str, ...] = (), *, closed: bool = True) -> dict:
    """An object with ``properties``, all required but ``optional``; no others when ``closed``."""
    schema: dict[str, Any] = {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def _values(enum: type[Enum] | frozenset[str]) -> dict:
    return {"type": "string", "enum": sorted(member.value if isinstance(member, Enum) else member for member in enum)}


def _labelled(enum: type[Enum]) -> dict:
    return _object({"value": _values(enum), "label": {"type": "string", "description": "Vietnamese label."}})


def _extended(base: dict, properties: dict) -> dict:
    """``base`` with more properties, all required."""
    return _object({**base["properties"], **properties})


def _list_of(name: str, *, paged: bool = True) -> dict:
    properties = {"items": {"type": "array", "items": _ref(name)}, "total": _INTEGER}
    if paged:
        properties |= {"page": _INTEGER, "pages": _INTEGER, "per_page": _INTEGER}
    return _object(properties)


_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": (
                        "Stable code for programs: unauthenticated, forbidden, password_change_required, not_found, "
                        "bad_request, validation_failed, policy_refused, conflict, transition_refused, "
                        "already_changed, busy, not_editable, not_attachable, already_removed, "
                        "batch_not_open, batch_not_locked, batch_lock_lost, batch_changed, bulk_failed, "
                        "idempotency_key_reused, paper_only, approval_not_today, not_issued, wrong_status, "
                        "signature_refused and the codes of the signature checks (see the 422 answers), "
                        "signature_invalid, not_registered, not_recalled, http_<status>."
                    ),
                },
                "message": {"type": "string", "description": "What went wrong, in Vietnamese, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Per-field messages when code is validation_failed.",
                },
            },
        }
    },
}

_ORG = _object({"id": _INTEGER, "name": _STRING})
_PERSON = _nullable(_object({"id": _INTEGER, "full_name": _STRING}))
_ACTOR = _object({"id": _nullable(_INTEGER), "label": _STRING})
#: How the API writes a certificate's serial number, in the registry and in requests alike.
_SERIAL_FORMAT = (
    "Upper-case hexadecimal digits without separators, an even number of them, "
    "as the registry and CA portals write it (e.g. 5401010A3F)."
)
_FIELD_VALUES = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
    "propertyNames": {
        "enum": sorted(
            {f.name for spec in REQUEST_TYPES.values() for f in spec.all_fields} | {"certificate_id", "token_id"}
        )
    },
    "description": "Values by field name, as GET /request-types lists them. A certificate may be "
    "named by certificate_id instead of certificate_serial, a token by token_id. "
    "certificate_serial is matched against the registry whatever its case; colons "
    "and spaces are ignored.",
}

_REQUEST = _object(
    {
        "id": _INTEGER,
        "type": _labelled(RequestType),
        "status": _labelled(RequestStatus),
        "organisation": _ORG,
        "fields": {
            "type": "object",
            "additionalProperties": {"type": ["string", "integer"]},
            "properties": {"certificate_serial": {"type": "string", "pattern": "^[0-9A-F]{1,64}$"}},
            "description": "Values by field name as stored, except certificate_serial, written like "
            "Certificate.serial_hex (as typed, it may have an odd number of digits): " + _SERIAL_FORMAT,
        },
        "certificate_id": _nullable(_INTEGER),
        "token_id": _nullable(_INTEGER),
        "batch_id": _nullable(_INTEGER),
        "issued_certificate_id": _nullable(_INTEGER),
        "created_by_id": _nullable(_INTEGER),
        "approved_by_id": _nullable(_INTEGER),
        "created_at": _TIME,
        "submitted_at": _nullable(_TIME),
        "updated_at": _TIME,
    }
)

_REQUEST_DETAIL = _extended(
    _REQUEST,
    {
        "events": {
            "type": "array",
            "description": "The timeline, oldest first.",
            "items": _object(
                {
                    "action": _values(frozenset(ACTION_LABELS)),
                    "label": _STRING,
                    "from_status": _nullable(_values(RequestStatus)),
                    "to_status": _values(RequestStatus),
                    "comment": _nullable(_STRING),
                    "actor": _ACTOR,
                    "occurred_at": _TIME,
                }
            ),
        },
        "transitions": {
            "type": "array",
            "description": "What the caller may do now (POST .../transitions).",
            "items": _object({"action": _values(PAGE_ACTIONS), "label": _STRING, "comment_required": _BOOLEAN}),
        },
        "editable": {"type": "boolean", "description": "Whether the caller may PATCH the fields now."},
        "attachments": {
            "type": "array",
            "description": "The files the unit attached and has not removed, oldest first "
            "(POST .../attachments adds one).",
            "items": _ref("RequestAttachment"),
        },
        "problems": {
            "type": "array",
            "description": "What blocks sending it to the focal office.",
            "items": _object({"code": _STRING, "message": _STRING}),
        },
    },
)

_REQUEST_ATTACHMENT = _object(
    {
        "id": _INTEGER,
        "filename": {**_STRING, "description": "The name it was sent with (no folder), given back on download."},
        "media_type": {"type": "string", "enum": list(MEDIA_TYPES), "description": "What the bytes are."},
        "size": {**_INTEGER, "description": "Bytes."},
        "sha256": _SHA256,
        "description": {**_nullable(_STRING), "description": "What the file is, e.g. Bản chụp CCCD hai mặt."},
        "uploaded_by_id": {**_nullable(_INTEGER), "description": "The account that attached it."},
        "uploaded_at": _TIME,
        "download_url": {**_STRING, "description": "The path that downloads it (GET, with the API token)."},
    }
)

_REQUEST_TYPE = _object(
    {
        "type": _values(RequestType),
        "label": _STRING,
        "form_no": _STRING,
        "fields": {
            "type": "array",
            "items": _object(
                {
                    "name": _STRING,
                    "label": _STRING,
                    "widget": {
                        "type": "string",
                        "enum": ["text", "email", "tel", "date", "number", "select", "textarea", "checkbox"],
                    },
                    "required": _BOOLEAN,
                    "choices": {"type": "array", "items": _object({"value": _STRING, "label": _STRING})},
                    "hint": _nullable(_STRING),
                    "max_length": _INTEGER,
                }
            ),
        },
    }
)

_LINES = {"type": "array", "items": _STRING}

_BATCH = _object(
    {
        "id": _INTEGER,
        "focal_office": _ORG,
        "title": _STRING,
        "signer_title": _STRING,
        "signer_name": _STRING,
        "letter_recipient": {
            **_STRING,
            "description": "The letter's «Kính gửi»: the batch's own or its focal office's.",
        },
        "distribution_lines": {
            **_LINES,
            "description": "The letter's «Nơi nhận» lines, without their dashes: the batch's own or the office's.",
        },
        "electronic_distribution_lines": {**_LINES, "description": "The «Bản điện tử:» part of «Nơi nhận»."},
        "status": _labelled(BatchStatus),
        "request_count": _INTEGER,
        "created_at": _TIME,
        "locked_at": _nullable(_TIME),
        "document_number": _nullable(_STRING),
        "document_date": _nullable(_DATE),
        "sent_at": _nullable(_TIME),
        "letter_document_id": {
            **_nullable(_INTEGER),
            "description": "The proposal letter as an outgoing document (GET /documents/{id}), once drafted.",
        },
    }
)

_BATCH_DETAIL = _extended(_BATCH, {"requests": {"type": "array", "items": _ref("Request")}})

_CERTIFICATE = _object(
    {
        "id": _INTEGER,
        "serial_hex": {"type": "string", "pattern": "^(?:[0-9A-F]{2})+$", "description": _SERIAL_FORMAT},
        "subject_dn": _STRING,
        "subject_cn": _STRING,
        "subject_uid": _nullable(_STRING),
        "issuer_dn": _STRING,
        "not_before": _TIME,
        "not_after": _TIME,
        "key_usage": _nullable(_STRING),
        "sha1": _STRING,
        "sha256": _STRING,
        "kind": _labelled(TokenKind),
        "status": _labelled(CertificateStatus),
        "organisation": _ORG,
        "holder": _PERSON,
        "token_id": _nullable(_INTEGER),
        "predecessor_id": _nullable(_INTEGER),
        "successor_id": _nullable(_INTEGER),
        "revoked_at": _nullable(_TIME),
        "revocation_reason": _nullable(_STRING),
        "created_at": _TIME,
    }
)

_TOKEN = _object(
    {
        "id": _INTEGER,
        "serial": _STRING,
        "model": _nullable(_STRING),
        "kind": _labelled(TokenKind),
        "state": _labelled(TokenState),
        "organisation": _ORG,
        "holder": _PERSON,
        "is_secret": _BOOLEAN,
        "recoveries": _INTEGER,
        "replacements": _INTEGER,
        "replaces_id": _nullable(_INTEGER),
        "created_at": _TIME,
    }
)

_TOKEN_DETAIL = _extended(
    _TOKEN,
    {
        "events": {
            "type": "array",
            "items": _object(
                {
                    "from_state": _nullable(_values(TokenState)),
                    "to_state": _values(TokenState),
                    "reason": _STRING,
                    "actor": _ACTOR,
                    "occurred_at": _TIME,
                }
            ),
        },
        "certificate_ids": {"type": "array", "items": _INTEGER},
    },
)

# --- documents ------------------------------------------------------------------------------------

_DOCUMENT_TYPE = _object({"id": _INTEGER, "name": _STRING, "abbreviation": _nullable(_STRING)})
_LINES = {"type": "array", "items": _STRING}

_REGISTER_ENTRY = _object(
    {
        "id": _INTEGER,
        "number": _INTEGER,
        "symbol": {**_STRING, "description": "Số và ký hiệu, e.g. 193/UBND-VHTT or 12/QĐ-UBND."},
        "series": _labelled(Series),
        "issue_date": _DATE,
        "state": _labelled(NumberState),
        "abandon_reason": _nullable(_STRING),
        "taken_at": _TIME,
        "document_id": {
            **_nullable(_INTEGER),
            "description": "The document holding the number, or the one that abandoned it.",
        },
    }
)

_DOCUMENT = _object(
    {
        "id": _INTEGER,
        "status": _labelled(DocumentStatus),
        "type": _DOCUMENT_TYPE,
        "summary": _STRING,
        "urgency": _labelled(Urgency),
        "secrecy": _labelled(Secrecy),
        "issuing_body": _ORG,
        "drafting_unit": _ORG,
        "signer": _PERSON,
        "authority_lines": _LINES,
        "recipients": {"type": "array", "items": _ORG},
        "outside_recipients": _LINES,
        "distribution_lines": _LINES,
        "answers_id": _nullable(_INTEGER),
        "number": {**_nullable(_REGISTER_ENTRY), "description": "The number taken from the register, once taken."},
        "created_at": _TIME,
        "updated_at": _TIME,
        "approved_at": _nullable(_TIME),
        "issued_at": _nullable(_TIME),
        "sent_at": _nullable(_TIME),
        "recalled_at": _nullable(_TIME),
        "recall_reason": _nullable(_STRING),
    }
)

_DOCUMENT_DETAIL = _extended(
    _DOCUMENT,
    {
        "files": {
            "type": "array",
            "description": "Every version each step produced, oldest first; GET .../files/{id} downloads one.",
            "items": _object(
                {
                    "id": _INTEGER,
                    "kind": _labelled(FileKind),
                    "appendix": _nullable(_INTEGER),
                    "filename": _STRING,
                    "sha256": _SHA256,
                    "size": _INTEGER,
                    "created_by_id": _nullable(_INTEGER),
                    "created_at": _TIME,
                }
            ),
        },
        "events": {
            "type": "array",
            "description": "The timeline, oldest first, with the recipients' answers.",
            "items": _object(
                {
                    "action": _values(frozenset(TIMELINE_LABELS)),
                    "label": _STRING,
                    "from_status": _nullable(_values(DocumentStatus)),
                    "to_status": _values(DocumentStatus),
                    "comment": _nullable(_STRING),
                    "actor": _ACTOR,
                    "occurred_at": _TIME,
                }
            ),
        },
        "transitions": {
            "type": "array",
            "description": "The steps the caller may take now: the actions (POST .../actions/{action}); edit "
            "(PATCH, POST .../draft); approve, issue and sign_appendix (the signed PDF to POST .../approval, "
            ".../issue, .../appendices/{n}/signed).",
            "items": _object({"action": _values(OFFERED_STEPS), "label": _STRING, "comment_required": _BOOLEAN}),
        },
    },
)

_INCOMING = _object(
    {
        "id": _INTEGER,
        "status": _labelled(IncomingStatus),
        "receiving_body": _ORG,
        "outgoing_id": {**_nullable(_INTEGER), "description": "The outgoing document it is, when sent inside."},
        "recalled": {**_BOOLEAN, "description": "Its sender recalled it."},
        "sender_name": _STRING,
        "original_number": _nullable(_STRING),
        "original_date": _nullable(_DATE),
        "summary": _STRING,
        "urgency": _labelled(Urgency),
        "filename": _nullable(_STRING),
        "sha256": _nullable(_SHA256),
        "arrived_at": _TIME,
        "counted_at": {**_nullable(_TIME), "description": "When it counts as received (working hours)."},
        "arrival_year": _nullable(_INTEGER),
        "arrival_number": _nullable(_INTEGER),
        "return_reason": _nullable(_STRING),
        "handler": _PERSON,
        "handle_by": _nullable(_DATE),
        "direction": _nullable(_STRING),
        "directed_at": _nullable(_TIME),
        "recall_confirmed_at": _nullable(_TIME),
    }
)

_INCOMING_DETAIL = _extended(
    _INCOMING,
    {
        "verification": {
            "type": ["object", "null"],
            "description": "The server's report of the file's signatures when it arrived, as token-agent verify "
            "--json writes it (schema token-agent.verify/1).",
        },
        "signature_checks": {
            "type": "array",
            "description": "Kiểm tra ký số: one line per signature or document timestamp of the report.",
            "items": _object(
                {
                    "field_name": _STRING,
                    "is_timestamp": _BOOLEAN,
                    "signer": _STRING,
                    "organisation": _STRING,
                    "signing_time": _nullable(_TIME),
                    "intact": _BOOLEAN,
                    "chain_trusted": _BOOLEAN,
                    "revoked": _BOOLEAN,
                    "changes": _STRING,
                    "verdict": {"type": "string", "enum": ["TOTAL_PASSED", "INDETERMINATE", "TOTAL_FAILED"]},
                    "reason": _nullable(_STRING),
                }
            ),
        },
        "refusal_reason": {**_nullable(_STRING), "description": "Why it cannot be registered; null when valid."},
        "registrable": _BOOLEAN,
        "events": {
            "type": "array",
            "items": _object(
                {
                    "action": _values(frozenset(INCOMING_ACTION_LABELS)),
                    "label": _STRING,
                    "comment": _nullable(_STRING),
                    "actor": _ACTOR,
                    "occurred_at": _TIME,
                }
            ),
        },
    },
)

_FIGURE = _object(
    {
        "label": _STRING,
        "count": _INTEGER,
        "total": _INTEGER,
        "percent": _nullable({"type": "number"}),
        "target_percent": _INTEGER,
        "strictly_above": {**_BOOLEAN, "description": "The target is met only above target_percent."},
        "met": {**_nullable(_BOOLEAN), "description": "null without documents to count."},
    }
)

_REPORT = _object(
    {
        "unit_id": _INTEGER,
        "unit_name": _STRING,
        "from": _DATE,
        "to": _DATE,
        "issued_electronically": _INTEGER,
        "both_signatures": _FIGURE,
        "head_signed": _FIGURE,
        "leadership_digital": {**_nullable(_FIGURE), "description": "Only for the district leadership."},
        "idle_signers": {
            "type": "array",
            "description": "People holding a valid personal certificate who signed nothing in the period.",
            "items": _object(
                {
                    "person_id": _INTEGER,
                    "full_name": _STRING,
                    "position": _nullable(_STRING),
                    "certificate_serial": _STRING,
                    "not_after": _TIME,
                }
            ),
        },
    }
)

_FAILING_CHECK = _object(
    {
        "id": {**_STRING, "description": "token_agent's check id, e.g. pin.locked, cert.validity."},
        "status": _values(frozenset({"WARN", "FAIL"})),
        "message": _STRING,
        "hint": {**_STRING, "description": "What to do, in Vietnamese (may be empty)."},
    }
)
_FAILING_CHECKS = {"type": "array", "items": _FAILING_CHECK}
_LAST_CHECK = _object(
    {
        "checked_token_id": _INTEGER,
        "report_id": _INTEGER,
        "checked_at": _TIME,
        "status": _values(CheckStatus),
        "failing_checks": _FAILING_CHECKS,
        "test_signature_verified": _BOOLEAN,
    }
)
_BOARD_ROW = _object(
    {
        "role": _values(HolderRole),
        "holder_name": _STRING,
        "person_id": _nullable(_INTEGER),
        "certificate_id": _nullable(_INTEGER),
        "certificate_serial": _nullable(_STRING),
        "not_after": _nullable(_TIME),
        "token_serial": {**_nullable(_STRING), "description": "null when withheld (MẬT) or no token."},
        "token_state": _nullable(_values(TokenState)),
        "last_check": _nullable(_LAST_CHECK),
        "last_good_check": {
            **_nullable(_TIME),
            "description": "When a check with a verified test signature last passed.",
        },
        "problems": {"type": "array", "items": _STRING, "description": "What keeps this line from working."},
        "keeper_name": {**_nullable(_STRING), "description": "Custody keeper of the organisation's token."},
        "secret_hidden": {**_BOOLEAN, "description": "MẬT details withheld from the caller."},
        "signs_in_period": {
            **_nullable(_BOOLEAN),
            "description": "Whether the holder approved a document in the last check_days days (personal only).",
        },
    }
)
_READINESS_BOARD = _object(
    {
        "as_of": _TIME,
        "check_days": _INTEGER,
        "warning_days": _INTEGER,
        "units": {
            "type": "array",
            "items": _object(
                {
                    "unit_id": _INTEGER,
                    "unit_name": _STRING,
                    "state": _values(UnitState),
                    "state_label": _STRING,
                    "missing": {"type": "array", "items": _STRING},
                    "go_live_on": _nullable(_DATE),
                    "rows": {"type": "array", "items": _BOARD_ROW},
                }
            ),
        },
    }
)
_CHECK_REPORT = _object(
    {
        "id": _INTEGER,
        "sha256": _STRING,
        "schema": _STRING,
        "checked_at": _TIME,
        "received_at": _TIME,
        "organisation_id": _INTEGER,
        "source": _values(ReportSource),
        "place": _nullable(_STRING),
        "status": _values(CheckStatus),
        "test_signature_verified": _BOOLEAN,
        "tokens": {
            "type": "array",
            "items": _object(
                {
                    "token_serial": _STRING,
                    "token_label": _STRING,
                    "token_id": _nullable(_INTEGER),
                    "certificate_sha256": _nullable(_STRING),
                    "certificate_id": _nullable(_INTEGER),
                    "status": _values(CheckStatus),
                    "failing_checks": _FAILING_CHECKS,
                    "flagged_unknown": {**_BOOLEAN, "description": "Token or certificate not in the registries."},
                    "test_signature_ok": _BOOLEAN,
                }
            ),
        },
    }
)

# --- readiness: assisted visits and go-live dates (issue 14) --------------------------------------------------------
_VISIT = _object(
    {
        "id": _INTEGER,
        "visited_at": _TIME,
        "organisation": _ORG,
        "visitor_person_id": _nullable(_INTEGER),
        "visitor_name": _STRING,
        "focal_officer": _object({"id": _INTEGER, "full_name": _STRING}),
        "token": _nullable(
            _object(
                {
                    "id": _INTEGER,
                    "serial": {**_nullable(_STRING), "description": "null for an organisation's token (MẬT)."},
                    "secret": _BOOLEAN,
                }
            )
        ),
        "computer": _nullable(_STRING),
        "report_id": {**_nullable(_INTEGER), "description": "The check report filed at the visit, if any."},
        "actions": {"type": "array", "items": _values(VisitAction)},
        "outcome": _STRING,
    }
)
_NEW_VISIT = {
    **_object(
        {
            "organisation_id": {**_ID, "description": "The visitor's unit, one the focal office serves."},
            "visitor_person_id": {**_ID, "description": "The visitor, when registered in that unit."},
            "visitor_name": {**_text(200), "description": "The visitor's name, when not registered."},
            "token_serial": {**_nullable(_text(64)), "description": "The unit's token checked."},
            "computer": _nullable(_text(200)),
            "actions": {
                "description": f"What was done; {VisitAction.NOTHING_POSSIBLE.value} goes alone.",
                "oneOf": [
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": _values(frozenset(a.value for a in VisitAction) - {VisitAction.NOTHING_POSSIBLE}),
                    },
                    {"type": "array", "minItems": 1, "items": {"const": VisitAction.NOTHING_POSSIBLE.value}},
                ],
            },
            "outcome": _text(2000),
            "report": {
                **_nullable(_STRING),
                "description": "The JSON text `token-agent check --json` printed at the visit (schema "
                f"token-agent.check/1, at most {MAX_REPORT_BYTES // 1024} KB), filed with the visit and kept "
                "exactly as sent.",
            },
        },
        optional=("visitor_person_id", "visitor_name", "token_serial", "computer", "report"),
    ),
    "anyOf": [{"required": ["visitor_person_id"]}, {"required": ["visitor_name"]}],
}
_GO_LIVE = _object({"organisation_id": _INTEGER, "go_live_on": _nullable(_DATE)})

_ME = _object(
    {
        "id": _INTEGER,
        "username": _STRING,
        "full_name": _STRING,
        "organisation": _ORG,
        "roles": {"type": "array", "items": _object({"role": _STRING, "organisation_id": _INTEGER})},
        "permissions": {"type": "array", "items": _STRING},
    }
)

_SCHEMAS = {
    "Error": _ERROR,
    "Me": _ME,
    "RequestType": _REQUEST_TYPE,
    "RequestTypeList": _list_of("RequestType", paged=False),
    "Request": _REQUEST,
    "RequestDetail": _REQUEST_DETAIL,
    "RequestAttachment": _REQUEST_ATTACHMENT,
    "RequestList": _list_of("Request"),
    "Batch": _BATCH,
    "BatchDetail": _BATCH_DETAIL,
    "BatchList": _list_of("Batch", paged=False),
    "Certificate": _CERTIFICATE,
    "CertificateList": _list_of("Certificate"),
    "Token": _TOKEN,
    "TokenDetail": _TOKEN_DETAIL,
    "TokenList": _list_of("Token"),
    "Document": _DOCUMENT,
    "DocumentDetail": _DOCUMENT_DETAIL,
    "DocumentList": _list_of("Document"),
    "RegisterEntry": _REGISTER_ENTRY,
    "RegisterBook": _list_of("RegisterEntry", paged=False),
    "Incoming": _INCOMING,
    "IncomingDetail": _INCOMING_DETAIL,
    "IncomingList": _list_of("Incoming"),
    "Report": _REPORT,
    "ReadinessBoard": _READINESS_BOARD,
    "CheckReport": _CHECK_REPORT,
    "AssistedVisit": _VISIT,
    "AssistedVisitList": _list_of("AssistedVisit", paged=False),
    "GoLive": _GO_LIVE,
}

# --- operations -----------------------------------------------------------------------------------

_ERRORS = {
    400: "Bad body or query (bad_request, validation_failed with per-field messages, policy_refused, ...).",
    401: "No valid API token.",
    403: "The account may not do this (forbidden), or must first change its password on the pages "
    "(password_change_required).",
    404: "No such record or action (not_found).",
    409: "The record's state does not allow it (conflict, transition_refused, batch_not_open, ...), or someone "
    "changed it meanwhile (already_changed; read it again before retrying).",
    413: "The request is larger than the service takes at all: nothing was read.",
    422: "The Idempotency-Key was already used with another request (idempotency_key_reused); or, for an upload "
    "of a signed PDF, the server's check of the file failed (signature_refused or the code of the failed check: "
    "not_pdf, unreadable_pdf, not_handed_out_file, not_whole_file, extra_revisions, signature_count, wrong_field, "
    "signature_invalid, tampered, untrusted_chain, certificate_not_registered, certificate_revoked, "
    "certificate_expired, wrong_kind, wrong_signer, wrong_organisation, not_keeper, signing_time, signing_date, "
    "personal_changed, ...): nothing changed, and the refusal is in the audit log.",
}


def _content(schema: dict, media: str = "application/json") -> dict:
    return {media: {"schema": schema}}


def _operation(
    summary: str,
    status: int,
    schema: str,
    errors: tuple[int, ...],
    *,
    parameters: tuple[dict, ...] = (),
    body: dict | None = None,
    media: str = "application/json",
    body_required: bool = True,
) -> dict:
    """An operation answering ``schema`` with ``status``; its body, if any, is ``body`` as ``media``."""
    responses = {str(status): {"description": "OK" if status == 200 else "Created.", "content": _content(_ref(schema))}}
    for code in (401, *errors):
        responses[str(code)] = {"description": _ERRORS[code], "content": _content(_ref("Error"))}
    operation: dict = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _content(body, media)}
    return operation


def _post(
    summary: str,
    status: int,
    schema: str,
    errors: tuple[int, ...],
    *,
    parameters: tuple[dict, ...] = (),
    body: dict | None = None,
    media: str = "application/json",
    body_required: bool = True,
) -> dict:
    """A POST: it takes an Idempotency-Key (a malformed one is 400)."""
    return _operation(
        summary,
        status,
        schema,
        tuple(sorted({*errors, 400, 422})),
        parameters=(*parameters, _IDEMPOTENCY_KEY),
        body=body,
        media=media,
        body_required=body_required,
    )


def _download(summary: str, parameters: tuple[dict, ...], content: dict | None = None) -> dict:
    """A GET answering a stored file as it was kept (``Content-Disposition: attachment`` with its name): a PDF,
    or one of ``content``'s types."""
    operation = _operation(summary, 200, "Error", (403, 404), parameters=parameters)
    answer = content or {"application/pdf": {"schema": _PDF}}
    operation["responses"]["200"] = {"description": "The file.", "content": answer}
    return operation


def _path_id(name: str, what: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"Id of the {what}.",
        "schema": {"type": "integer", "minimum": 1},
    }


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_PAGING = (
    _query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        "Page number; the answer's page and pages say where it is in the list.",
    ),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
        "Items per page.",
    ),
)
_UNIT = _query("organisation_id", _ID, "Only this unit (one the caller may see).")
_TEXT = _query("q", _PLAIN, "Text contained in the name, serial or similar.")
_IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": "A key the client chooses for this change (e.g. a UUID). Sent again with the same request, it "
    "returns the first answer (header Idempotent-Replayed: true) instead of changing anything twice; "
    "sent with another request, it is refused (422). Only answers of changes made are kept.",
}
_DOCUMENT_ID = _path_id("api_document_id", "outgoing document")
_INCOMING_ID = _path_id("api_incoming_id", "incoming document")
_COMMENT = {
    **_PLAIN,
    "type": ["string", "null"],
    "maxLength": 2000,
    "description": "Required for return, cancel, abandon_number and recall.",
}
_LINES_VALUE = {
    "oneOf": [_PLAIN, {"type": "array", "items": _PLAIN}, {"type": "null"}],
    "description": "Lines: one text with a line per line, or a list of lines.",
}
_DOCUMENT_VALUES = {
    "document_type_id": {**_ID, "description": "An active document type (Công văn, Quyết định, ...)."},
    "summary": _text(MAX_SUMMARY, description="Trích yếu."),
    "urgency": _values(Urgency),
    "secrecy": {
        **_values(Secrecy),
        "description": "A document other than normal is paper only: no file is ever accepted for it.",
    },
    "issuing_body_id": {**_ID, "description": "The drafting unit (default) or its parent."},
    "signer_id": {**_ID, "description": "The proposed signer: an active person of the issuing body."},
    "authority_lines": {
        **_LINES_VALUE,
        "description": "Up to 3 lines above the signer's name, e.g. KT. CHỦ TỊCH then PHÓ CHỦ TỊCH.",
    },
    "recipient_ids": {
        "type": "array",
        "maxItems": MAX_RECIPIENTS,
        "items": _ID,
        "description": "Units inside the service that receive it (not the issuing body).",
    },
    "outside_recipients": _LINES_VALUE,
    "distribution_lines": {**_LINES_VALUE, "description": "The Nơi nhận lines printed on the document."},
    "answers_id": {**_nullable(_ID), "description": "The incoming document (of the unit or body) it answers."},
}
_NEW_DOCUMENT = _object(
    {"drafting_unit_id": {**_ID, "description": "A unit where the caller drafts."}, **_DOCUMENT_VALUES},
    optional=(
        "urgency",
        "secrecy",
        "issuing_body_id",
        "outside_recipients",
        "distribution_lines",
        "answers_id",
        "recipient_ids",
    ),
)
_EDIT_DOCUMENT = _object({**_DOCUMENT_VALUES}, optional=tuple(_DOCUMENT_VALUES))
_PAPER_DOCUMENT = _object(
    {
        **_DOCUMENT_VALUES,
        "drafting_unit_id": {**_ID, "description": "The issuing body (default) or one of its units."},
        "issue_date": {**_DATE, "description": "The date on the paper (today by default; never later)."},
    },
    optional=(
        "urgency",
        "drafting_unit_id",
        "issue_date",
        "outside_recipients",
        "distribution_lines",
        "answers_id",
        "recipient_ids",
        "authority_lines",
    ),
)
_APPENDICES = _object({"appendix": {"type": "array", "minItems": 1, "maxItems": MAX_APPENDICES, "items": _PDF}})
_ACTION_BODY = _object({"comment": _COMMENT}, optional=("comment",))
_FILENAME = _query("filename", {**_PLAIN, "maxLength": 255}, "The file's name, kept with the version.")
_OUTSIDE = _object(
    {
        "organisation_id": {**_ID, "description": "The receiving body, where the caller is the clerk."},
        "sender_name": _text(255),
        "original_number": {**_PLAIN, "maxLength": 60, "description": "The sender's số và ký hiệu."},
        "original_date": _DATE,
        "summary": _text(500),
        "urgency": _values(Urgency),
        "file": _PDF,
    },
    optional=("original_number", "original_date", "urgency"),
)
_RETURN_INCOMING = _object({"comment": {**_text(500), "description": "Why it is returned."}})
_DIRECTION = _object(
    {
        "handler_id": {**_ID, "description": "A person of the receiving body or of a unit under it."},
        "handle_by": {**_nullable(_DATE), "description": "Deadline, not before today (Vietnam time)."},
        "direction": {**_PLAIN, "type": ["string", "null"], "maxLength": 2000},
    },
    optional=("handle_by", "direction"),
)
_REQUEST_ID = _path_id("api_request_id", "request")
_ATTACHMENT_ID = _path_id("api_attachment_id", "attachment (attachments[].id)")
_NEW_ATTACHMENT = _object(
    {
        "file": {
            "type": "string",
            "format": "binary",
            "description": f"One PDF, JPEG or PNG file (recognised by its bytes) of at most "
            f"{MAX_ATTACHMENT_BYTES // _MB} MB; the name it is sent with is kept.",
        },
        "description": {**_PLAIN, "maxLength": 200, "description": "What the file is, e.g. Bản chụp CCCD hai mặt."},
    },
    optional=("description",),
)
_ATTACHMENT_FILE = {
    media_type: {"schema": {"type": "string", "format": "binary", "contentMediaType": media_type}}
    for media_type in MEDIA_TYPES
}
_BATCH_ID = _path_id("api_batch_id", "batch")

_NEW_REQUEST = _object({"organisation_id": _ID, "type": _values(RequestType), "fields": _FIELD_VALUES})
_EDIT_REQUEST = _object({"fields": {**_FIELD_VALUES, "description": "Fields to change; null empties one."}})
_TRANSITION = _object(
    {
        "action": {**_values(PAGE_ACTIONS), "description": "One of the transitions GET /requests/{id} offers."},
        "comment": {
            **_PLAIN,
            "type": ["string", "null"],
            "maxLength": 2000,
            "description": "Required for return and cancel.",
        },
    },
    optional=("comment",),
)
_NEW_BATCH = _object(
    {
        "focal_office_id": _ID,
        "title": _text(255),
        "signer_title": _text(200, description="Position lines, separated by newlines."),
        "signer_name": _text(200),
    }
)
_BATCH_REQUESTS = _object({"request_ids": {"type": "array", "minItems": 1, "items": _ID}})
_SENT = _object(
    {
        "document_number": {
            "type": "string",
            "pattern": DOCUMENT_NUMBER.pattern,
            "examples": ["12/UBND-VHTT"],
            "description": "Accepted only when it is the issued letter's number in the register.",
        },
        "document_date": {**_DATE, "description": "Accepted only when it is the issued letter's date."},
    },
    optional=("document_number", "document_date"),
)
_DISTRIBUTION_LINES = {
    "type": ["array", "string", "null"],
    "items": {"type": "string", "maxLength": 200},
    "maxItems": 20,
    "description": "One recipient a line (a list, or one string with a line each), at most 20 lines of 200 "
    "characters; a leading dash is dropped (the letter adds it). Null or left out: the focal office's.",
}
_DISTRIBUTION = _object(
    {
        "letter_recipient": {**_nullable(_STRING), "maxLength": 255, "description": "Null: the focal office's."},
        "distribution_lines": _DISTRIBUTION_LINES,
        "electronic_distribution_lines": {**_DISTRIBUTION_LINES, "description": "The «Bản điện tử:» part; null: none."},
    },
    optional=("letter_recipient", "distribution_lines", "electronic_distribution_lines"),
)
_NEW_LETTER = _object({"signer_id": {**_ID, "description": "The proposed signer: a person of the issuing body."}})

_PATHS = {
    "/me": {"get": _operation("The account the token acts for, with its roles and permissions.", 200, "Me", ())},
    "/request-types": {
        "get": _operation("The request types and the fields each one takes.", 200, "RequestTypeList", (403,))
    },
    "/requests": {
        "get": _operation(
            "Requests of the units the caller may see; oldest submission first, drafts last.",
            200,
            "RequestList",
            (400, 403),
            parameters=(
                _UNIT,
                _query("type", _values(RequestType), "Request type."),
                _query("status", _values(RequestStatus), "Status."),
                _query(
                    "min_age_days",
                    {"type": "integer", "minimum": 0, "maximum": 36500},
                    "Only requests that reached the focal office at least this many days ago.",
                ),
                _query(
                    "q",
                    {**_PLAIN, "minLength": 1, "maxLength": 100},
                    "Text in the subject's name (diacritics may be left out), a CCCD, the certificate's serial "
                    "(colons, spaces and case ignored), the token's serial, or the request's number.",
                ),
                *_PAGING,
            ),
        ),
        "post": _post(
            "Draft a new request of a unit (unit officers).", 201, "RequestDetail", (400, 403), body=_NEW_REQUEST
        ),
    },
    "/requests/{api_request_id}": {
        "get": _operation(
            "A request with its timeline and what the caller may do now.",
            200,
            "RequestDetail",
            (403, 404),
            parameters=(_REQUEST_ID,),
        ),
        "patch": _operation(
            "Change fields of a draft, approved or returned request; an approval is voided.",
            200,
            "RequestDetail",
            (400, 403, 404, 409),
            parameters=(_REQUEST_ID,),
            body=_EDIT_REQUEST,
        ),
    },
    "/requests/{api_request_id}/transitions": {
        "post": _post(
            "Take an action of the request page: approve, submit, accept, return, cancel, ...",
            200,
            "RequestDetail",
            (400, 403, 404, 409),
            parameters=(_REQUEST_ID,),
            body=_TRANSITION,
        ),
    },
    "/requests/{api_request_id}/attachments": {
        "post": _post(
            "Attach a file (the scanned CCCD, the unit's signed letter) as multipart/form-data, one file a call, "
            "while the unit may change the request (draft or returned; else 409 not_attachable); at most "
            f"{MAX_ATTACHMENTS} files at once. Answers the request, with the new file's download path as Location. "
            "A retry with the same Idempotency-Key must send the same bytes, multipart boundary included.",
            201,
            "RequestDetail",
            (400, 403, 404, 409, 413),
            parameters=(_REQUEST_ID,),
            body=_NEW_ATTACHMENT,
            media="multipart/form-data",
        ),
    },
    "/requests/{api_request_id}/attachments/{api_attachment_id}": {
        "get": _download(
            "One of the request's current attachments, as it was sent (for whoever may see the request).",
            (_REQUEST_ID, _ATTACHMENT_ID),
            _ATTACHMENT_FILE,
        ),
        "delete": _operation(
            "Remove an attachment while the unit may change the request; it stays in the record, marked removed "
            "(a second removal is 409 already_removed).",
            200,
            "RequestDetail",
            (403, 404, 409),
            parameters=(_REQUEST_ID, _ATTACHMENT_ID),
        ),
    },
    "/batches": {
        "get": _operation("Batches of the focal offices the caller may see, newest first.", 200, "BatchList", (403,)),
        "post": _post("Open a new batch (focal officers).", 201, "BatchDetail", (400, 403), body=_NEW_BATCH),
    },
    "/batches/{api_batch_id}": {
        "get": _operation("A batch with its requests.", 200, "BatchDetail", (403, 404), parameters=(_BATCH_ID,)),
    },
    "/batches/{api_batch_id}/requests": {
        "post": _post(
            "Put accepted requests into an open batch: all or none.",
            200,
            "BatchDetail",
            (400, 403, 404, 409),
            parameters=(_BATCH_ID,),
            body=_BATCH_REQUESTS,
        ),
    },
    "/batches/{api_batch_id}/lock": {
        "post": _post(
            "Lock the batch's list (no body).", 200, "BatchDetail", (400, 403, 404, 409), parameters=(_BATCH_ID,)
        ),
    },
    "/batches/{api_batch_id}/distribution": {
        "post": _post(
            "Set the letter's «Kính gửi» and «Nơi nhận» (with its «Bản điện tử:» part) for this batch, until its "
            "letter is created (409 letter_exists after).",
            200,
            "BatchDetail",
            (400, 403, 404, 409),
            parameters=(_BATCH_ID,),
            body=_DISTRIBUTION,
        ),
    },
    "/batches/{api_batch_id}/letter": {
        "post": _post(
            "Create the locked batch's proposal letter: a draft outgoing document (Location), which then follows "
            "the documents API (review, approval, number, issue).",
            201,
            "BatchDetail",
            (400, 403, 404, 409),
            parameters=(_BATCH_ID,),
            body=_NEW_LETTER,
        ),
    },
    "/batches/{api_batch_id}/sent": {
        "post": _post(
            "The batch's issued proposal letter went out: the batch takes its number and date from the register "
            "and its requests are sent. No body is needed.",
            200,
            "BatchDetail",
            (400, 403, 404, 409),
            parameters=(_BATCH_ID,),
            body=_SENT,
            body_required=False,
        ),
    },
    "/certificates": {
        "get": _operation(
            "Certificates of the units the caller may see, soonest expiry first.",
            200,
            "CertificateList",
            (400, 403),
            parameters=(_UNIT, _query("status", _values(CertificateStatus), "Status now."), _TEXT, *_PAGING),
        ),
    },
    "/certificates/{api_certificate_id}": {
        "get": _operation(
            "A certificate's parsed fields, status and renewal chain (no file).",
            200,
            "Certificate",
            (403, 404),
            parameters=(_path_id("api_certificate_id", "certificate"),),
        ),
    },
    "/tokens": {
        "get": _operation(
            "Tokens (USB key-storage devices) of the units the caller may see.",
            200,
            "TokenList",
            (400, 403),
            parameters=(
                _UNIT,
                _query("state", _values(TokenState), "State."),
                _query("kind", _values(TokenKind), "Kind."),
                _TEXT,
                *_PAGING,
            ),
        ),
    },
    "/tokens/{api_registry_token_id}": {
        "get": _operation(
            "A token with its state events and the certificates on it.",
            200,
            "TokenDetail",
            (403, 404),
            parameters=(_path_id("api_registry_token_id", "token"),),
        ),
    },
    "/documents": {
        "get": _operation(
            "Outgoing documents of the units the caller sees (drafting unit or issuing body): urgent first, "
            "then the most recently changed.",
            200,
            "DocumentList",
            (400, 403),
            parameters=(
                _query("organisation_id", _ID, "Only this unit (drafting it or issuing it), one the caller sees."),
                _query("status", _values(DocumentStatus), "Status."),
                _query("type", _ID, "Document type id."),
                _query(
                    "q",
                    {**_PLAIN, "minLength": 1},
                    "Text contained in the summary (trích yếu), whatever its case (the first 200 characters).",
                ),
                *_PAGING,
            ),
        ),
        "post": _post(
            "Draft a new outgoing document (unit officers); its PDF follows with POST .../draft.",
            201,
            "DocumentDetail",
            (400, 403, 404),
            body=_NEW_DOCUMENT,
        ),
    },
    "/documents/{api_document_id}": {
        "get": _operation(
            "A document with its number, files, timeline and the actions the caller may take now.",
            200,
            "DocumentDetail",
            (403, 404),
            parameters=(_DOCUMENT_ID,),
        ),
        "patch": _operation(
            "Change values of a draft or returned document: those sent replace the current ones.",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(_DOCUMENT_ID,),
            body=_EDIT_DOCUMENT,
        ),
    },
    "/documents/{api_document_id}/draft": {
        "post": _post(
            "A new draft PDF (the whole body): kept, and prepared for signing at the proposed signer's block "
            "(refused with the reason when it cannot be; refused for a secret document: paper_only).",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(_DOCUMENT_ID, _FILENAME),
            body=_PDF,
            media="application/pdf",
        ),
    },
    "/documents/{api_document_id}/appendices": {
        "post": _post(
            "The appendices' PDFs, in order, as multipart/form-data parts named appendix: each becomes the new "
            "version of appendix 1, 2, ... (a refused file is named appendix_1, appendix_2, ... in fields).",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(_DOCUMENT_ID,),
            body=_APPENDICES,
            media="multipart/form-data",
        ),
    },
    "/documents/{api_document_id}/actions/{document_action}": {
        "post": _post(
            "Take a step of the document page: submit, forward, return, cancel, take_number, abandon_number, "
            "send, recall. The body may be left out when no comment is needed.",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(
                _DOCUMENT_ID,
                {
                    "name": "document_action",
                    "in": "path",
                    "required": True,
                    "description": "One of the transitions GET /documents/{id} offers.",
                    "schema": _values(DOCUMENT_ACTIONS),
                },
            ),
            body=_ACTION_BODY,
            body_required=False,
        ),
    },
    "/documents/{api_document_id}/approval": {
        "post": _post(
            "The proposed signer's signed PDF (token-agent sign --role approve on the prepared version): "
            "checked by the server, then the document is approved.",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(_DOCUMENT_ID, _FILENAME),
            body=_PDF,
            media="application/pdf",
        ),
    },
    "/documents/{api_document_id}/issue": {
        "post": _post(
            "The clerk's PDF with number, date and the organisation's signature (token-agent sign --role issue "
            "on the approved version): checked by the server, then the document is issued.",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(_DOCUMENT_ID, _FILENAME),
            body=_PDF,
            media="application/pdf",
        ),
    },
    "/documents/{api_document_id}/appendices/{appendix_no}/signed": {
        "post": _post(
            "An appendix signed top right with the organisation's key (token-agent sign --role appendix).",
            200,
            "DocumentDetail",
            (400, 403, 404, 409),
            parameters=(
                _DOCUMENT_ID,
                {
                    "name": "appendix_no",
                    "in": "path",
                    "required": True,
                    "description": "Which appendix (1, 2, ...).",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_APPENDICES},
                },
                _FILENAME,
            ),
            body=_PDF,
            media="application/pdf",
        ),
    },
    "/documents/{api_document_id}/files/{api_file_id}": {
        "get": _download(
            "One stored version of one of the document's files.",
            (_DOCUMENT_ID, _path_id("api_file_id", "file version (files[].id)")),
        ),
    },
    "/register": {
        "get": _operation(
            "The outgoing register (sổ đăng ký văn bản đi) of an issuing body, year and series, by number; "
            "abandoned numbers stay in it.",
            200,
            "RegisterBook",
            (400, 403, 404),
            parameters=(
                {**_query("organisation_id", _ID, "The issuing body."), "required": True},
                _query(
                    "year",
                    {"type": "integer", "minimum": FIRST_BOOK_YEAR, "maximum": 9999},
                    f"Year, from {FIRST_BOOK_YEAR} to next year (this year by default).",
                ),
                _query("series", {"type": "string", "enum": ["outgoing", "outgoing_secret"]}, "Series."),
            ),
        ),
    },
    "/register/paper": {
        "post": _post(
            "Enter a secret document issued on paper (Mật, Tối mật, Tuyệt mật) in the issuing body's secret "
            "series: number, date, summary as the clerk writes it, recipients; it never takes a file.",
            201,
            "DocumentDetail",
            (400, 403, 404, 409),
            body=_PAPER_DOCUMENT,
        ),
    },
    "/incoming": {
        "get": _operation(
            "Incoming documents of the bodies the caller sees and those it was directed to handle: urgent "
            "first, then newest.",
            200,
            "IncomingList",
            (400, 403),
            parameters=(
                _query("organisation_id", _ID, "Only this receiving body."),
                _query("status", _values(IncomingStatus), "Status."),
                *_PAGING,
            ),
        ),
        "post": _post(
            "A document from outside the service (clerks): its PDF and what it carries, as multipart/form-data. "
            "The server checks its signatures and keeps the report.",
            201,
            "IncomingDetail",
            (400, 403, 404),
            body=_OUTSIDE,
            media="multipart/form-data",
        ),
    },
    "/incoming/{api_incoming_id}": {
        "get": _operation(
            "An incoming document with the stored Kiểm tra ký số report and its timeline.",
            200,
            "IncomingDetail",
            (403, 404),
            parameters=(_INCOMING_ID,),
        ),
    },
    "/incoming/{api_incoming_id}/file": {
        "get": _download("The file received.", (_INCOMING_ID,)),
    },
    "/incoming/{api_incoming_id}/register": {
        "post": _post(
            "Enter it in the incoming register (arrival number); only when its signatures are valid (no body).",
            200,
            "IncomingDetail",
            (403, 404, 409),
            parameters=(_INCOMING_ID,),
        ),
    },
    "/incoming/{api_incoming_id}/return": {
        "post": _post(
            "Return it to its sender, not registered, with the reason.",
            200,
            "IncomingDetail",
            (400, 403, 404, 409),
            parameters=(_INCOMING_ID,),
            body=_RETURN_INCOMING,
        ),
    },
    "/incoming/{api_incoming_id}/direction": {
        "post": _post(
            "The head's direction of a registered document: handler, deadline, what to do.",
            200,
            "IncomingDetail",
            (400, 403, 404, 409),
            parameters=(_INCOMING_ID,),
            body=_DIRECTION,
        ),
    },
    "/incoming/{api_incoming_id}/recall-confirmation": {
        "post": _post(
            "The receiving clerk confirms seeing that the sender recalled it (no body).",
            200,
            "IncomingDetail",
            (403, 404, 409),
            parameters=(_INCOMING_ID,),
        ),
    },
    "/report": {
        "get": _operation(
            "The seeds' targets for an issuing body and period: documents issued electronically, shares with "
            "both signatures, signed by the head, of the leadership signed digitally, idle signers.",
            200,
            "Report",
            (400, 403, 404),
            parameters=(
                {**_query("organisation_id", _ID, "The issuing body."), "required": True},
                {**_query("from", _DATE, "First day of the period."), "required": True},
                {**_query("to", _DATE, f"Last day (at most {MAX_PERIOD_DAYS} days in all)."), "required": True},
            ),
        ),
    },
    "/readiness/board": {
        "get": _operation(
            "The readiness board: per unit, its organisation's and head's tokens first, then every holder of a "
            "valid personal certificate, with the last check and what keeps the unit from being ready.",
            200,
            "ReadinessBoard",
            (400, 403, 404),
            parameters=(
                _query("organisation_id", _ID, "Only this unit (one the caller may see)."),
                _query("state", _values(UnitState), "Only units in this state."),
                _query(
                    "check",
                    {"type": "string", "pattern": "^[A-Za-z0-9._]{1,64}$"},
                    "Only units where a last check failed or warned on this check id.",
                ),
            ),
        ),
    },
    "/readiness/reports": {
        "post": _post(
            "File a token check report: the whole body is the JSON `token-agent check --json` printed (schema "
            f"token-agent.check/1, at most {MAX_REPORT_BYTES // 1024} KB), kept exactly as sent. A test signature "
            "that does not verify with the registered certificate refuses the report (validation_failed).",
            201,
            "CheckReport",
            (400, 403),
            parameters=(_query("place", _text(200), "The computer or place where the check ran."),),
            body={"type": "object", "description": "The report, as token_agent wrote it."},
        ),
    },
    "/readiness/visits": {
        "get": _operation(
            f"The newest assisted visits at the focal office (at most {MAX_VISITS_LISTED}) of the units the caller "
            "sees the readiness of.",
            200,
            "AssistedVisitList",
            (400, 403),
        ),
        "post": _post(
            "The focal office records an assisted visit: who came from which unit, the token and computer checked, "
            "what was done and the outcome; a report given is filed first (source visit), as an upload is.",
            201,
            "AssistedVisit",
            (403,),
            body=_NEW_VISIT,
        ),
    },
    "/readiness/units/{api_unit_id}/go-live": {
        "post": _post(
            "The focal office sets the unit's go-live date, or clears it with null.",
            200,
            "GoLive",
            (403, 404),
            parameters=(_path_id("api_unit_id", "unit"),),
            body=_object({"go_live_on": {**_nullable(_DATE), "description": "The day, YYYY-MM-DD; null clears it."}}),
        ),
    },
    "/openapi.json": {
        "get": {"summary": "This document.", "security": [], "responses": {"200": {"description": "OpenAPI."}}}
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "certsvc API",
            "version": "1",
            "description": "Certificates, tokens, requests and documents of the service, for document systems "
            "and scripts. "
            "Authenticate with a personal API token: `Authorization: Bearer csv1_...`. "
            "Bodies are JSON objects (`Content-Type: application/json`); members not described "
            "are refused. A PDF is the whole body of its request (`Content-Type: application/pdf`), except for "
            "a draft's appendices, an incoming document from outside (with its values) and a request's attachment: "
            "`multipart/form-data`. "
            'Errors are `{"error": {"code", "message", "fields"?}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": _PATHS,
    }
