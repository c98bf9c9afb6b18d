"""The OpenAPI 3.1 description of /api/v1, checked against real responses by the tests.

Enumerations come from the models and tables themselves, so the document cannot drift from them.
It is one document, mostly data, read top to bottom as the API's reference: hence one module over the
usual 400 lines.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from certsvc.api.common import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from certsvc.api.idempotency import HEADER, KEY_PATTERN
from certsvc.core.validation import _CONTROL, _HIDDEN
from certsvc.registry.models import TokenKind, TokenState
from certsvc.registry.service import CertificateStatus
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
                        "already_changed, busy, not_editable, "
                        "batch_not_open, batch_not_locked, batch_lock_lost, batch_changed, bulk_failed, "
                        "idempotency_key_reused, http_<status>."
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
    "additionalProperties": {"type": ["string", "integer", "null"]},
    "propertyNames": {
        "enum": sorted(
            {f.name for spec in REQUEST_TYPES.values() for f in spec.fields} | {"certificate_id", "token_id"}
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
        "problems": {
            "type": "array",
            "description": "What blocks sending it to the focal office.",
            "items": _object({"code": _STRING, "message": _STRING}),
        },
    },
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
                        "enum": ["text", "email", "tel", "date", "number", "select", "textarea"],
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

_BATCH = _object(
    {
        "id": _INTEGER,
        "focal_office": _ORG,
        "title": _STRING,
        "signer_title": _STRING,
        "signer_name": _STRING,
        "status": _labelled(BatchStatus),
        "request_count": _INTEGER,
        "created_at": _TIME,
        "locked_at": _nullable(_TIME),
        "document_number": _nullable(_STRING),
        "document_date": _nullable(_DATE),
        "sent_at": _nullable(_TIME),
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
    "RequestList": _list_of("Request"),
    "Batch": _BATCH,
    "BatchDetail": _BATCH_DETAIL,
    "BatchList": _list_of("Batch", paged=False),
    "Certificate": _CERTIFICATE,
    "CertificateList": _list_of("Certificate"),
    "Token": _TOKEN,
    "TokenDetail": _TOKEN_DETAIL,
    "TokenList": _list_of("Token"),
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
    422: "The Idempotency-Key was already used with another request (idempotency_key_reused).",
}


def _content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _operation(
    summary: str,
    status: int,
    schema: str,
    errors: tuple[int, ...],
    *,
    parameters: tuple[dict, ...] = (),
    body: dict | None = None,
) -> dict:
    responses = {str(status): {"description": "OK" if status == 200 else "Created.", "content": _content(_ref(schema))}}
    for code in (401, *errors):
        responses[str(code)] = {"description": _ERRORS[code], "content": _content(_ref("Error"))}
    operation: dict = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _content(body)}
    return operation


def _post(
    summary: str,
    status: int,
    schema: str,
    errors: tuple[int, ...],
    *,
    parameters: tuple[dict, ...] = (),
    body: dict | None = None,
) -> dict:
    """A POST: it takes an Idempotency-Key."""
    return _operation(summary, status, schema, (*errors, 422), parameters=(*parameters, _IDEMPOTENCY_KEY), body=body)


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
_REQUEST_ID = _path_id("api_request_id", "request")
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
        "document_number": {"type": "string", "pattern": DOCUMENT_NUMBER.pattern, "examples": ["12/UBND-VHTT"]},
        "document_date": {**_DATE, "description": "Not after today (Vietnam time)."},
    }
)

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
    "/batches/{api_batch_id}/sent": {
        "post": _post(
            "Record the proposal letter's number and date: the batch and its requests are sent.",
            200,
            "BatchDetail",
            (400, 403, 404, 409),
            parameters=(_BATCH_ID,),
            body=_SENT,
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
            "description": "Certificates, tokens and requests of the service, for document systems and scripts. "
            "Authenticate with a personal API token: `Authorization: Bearer csv1_...`. "
            "Bodies are JSON objects (`Content-Type: application/json`); members not described "
            'are refused. Errors are `{"error": {"code", "message", "fields"?}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": _PATHS,
    }
