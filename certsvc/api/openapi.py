"""The OpenAPI 3.1 description of /api/v1, checked against real responses by the tests."""

from __future__ import annotations

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable code for programs, e.g. forbidden, not_found."},
                "message": {"type": "string", "description": "What went wrong, in Vietnamese, for people."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Per-field messages when code is validation_failed."},
            },
        }
    },
}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "certsvc API",
            "version": "1",
            "description": "Certificates, tokens and requests of the service, for document systems and scripts. "
                           "Authenticate with a personal API token: `Authorization: Bearer csv1_...`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "Me": {
                    "type": "object",
                    "required": ["id", "username", "full_name", "organisation", "roles", "permissions"],
                    "properties": {
                        "id": {"type": "integer"},
                        "username": {"type": "string"},
                        "full_name": {"type": "string"},
                        "organisation": {
                            "type": "object", "required": ["id", "name"],
                            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                        },
                        "roles": {"type": "array", "items": {
                            "type": "object", "required": ["role", "organisation_id"],
                            "properties": {"role": {"type": "string"}, "organisation_id": {"type": "integer"}},
                        }},
                        "permissions": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
        "paths": {
            "/me": {
                "get": {
                    "summary": "The account the token acts for, with its roles and permissions.",
                    "responses": {
                        "200": {"description": "The account.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}},
                        "401": _error_response("No valid token."),
                    },
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document.", "security": [], "responses": {"200": {"description": "OpenAPI."}}}
            },
        },
    }
