"""Helpers of the API tests (no tests here): a client acting with one account's token, each answer
checked against the response schema that the OpenAPI document gives for its path, method and status."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from certsvc.accounts.api_tokens import create_token
from certsvc.api.openapi import openapi_document

DOCUMENT = openapi_document()
_BASE = "urn:certsvc:openapi"
_REGISTRY = Registry().with_resource(_BASE, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))
_TEMPLATES = [(re.compile("^" + re.sub(r"\{\w+\}", r"[^/]+", path) + "$"), path) for path in DOCUMENT["paths"]]
_NOTHING = object()


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def template_of(path: str) -> str:
    path = path.partition("?")[0]
    found = [template for pattern, template in _TEMPLATES if pattern.match(path)]
    assert found, f"{path} is not documented"
    return min(found, key=lambda t: t.count("{"))  # /batches/{id} before a path of that shape


def check_response(method: str, path: str, status: int, payload: Any) -> tuple[str, str]:
    """Validate ``payload`` against the documented schema; returns the (method, template) it matched."""
    template = template_of(path)
    responses = DOCUMENT["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, which is not documented"
    pointer = _pointer(
        "paths", template, method.lower(), "responses", str(status), "content", "application/json", "schema"
    )
    Draft202012Validator({"$ref": f"{_BASE}#/{pointer}"}, registry=_REGISTRY).validate(payload)
    return method.upper(), template


class Api:
    """A script using the API with ``account``'s own token."""

    def __init__(self, app, session, account):
        _, secret = create_token(session, account, {"name": "kiểm thử API"})
        session.commit()
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.seen: set[tuple[str, str]] = set()

    def raw(self, method: str, path: str, body: Any = _NOTHING, **kwargs):
        if body is not _NOTHING:
            kwargs["json"] = body
        return self.client.open("/api/v1" + path, method=method, headers=self.headers, **kwargs)

    def call(self, method: str, path: str, body: Any = _NOTHING, *, status: int = 200, **kwargs) -> dict:
        response = self.raw(method, path, body, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        payload = response.get_json()
        self.seen.add(check_response(method, path, status, payload))
        return payload

    def get(self, path: str, **kwargs) -> dict:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = _NOTHING, **kwargs) -> dict:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = _NOTHING, **kwargs) -> dict:
        return self.call("PATCH", path, body, **kwargs)

    def refused(self, method: str, path: str, body: Any = _NOTHING, *, status: int, code: str) -> dict:
        """An error answer with ``code``; returns its ``fields`` (empty when none)."""
        error = self.call(method, path, body, status=status)["error"]
        assert error["code"] == code, error
        return error.get("fields", {})


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item if path != "/openapi.json"
    }
