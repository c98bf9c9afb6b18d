"""API tokens and the /api/v1 basics: authentication, JSON errors, the OpenAPI document."""

import json
import re

import jsonschema
import pytest
from sqlalchemy import func, select

from certsvc.accounts.api_token_models import ApiToken
from certsvc.accounts.models import Role
from certsvc.api.openapi import openapi_document
from certsvc.audit.models import AuditEntry
from tests.support.api import Api, check_response
from tests.support.requests import counts, draft, open_batch


def _secret(response) -> str:
    found = re.findall(r"csv1_[A-Za-z0-9_-]{20,}", response.get_data(as_text=True))
    assert len(found) == 1, "the new secret is shown exactly once"
    return found[0]


def _schema(name: str) -> dict:
    document = openapi_document()
    return {**document["components"]["schemas"][name], "$defs": {}}


@pytest.fixture
def clerk_secret(browser, world):
    browser.login("clerk")
    return _secret(browser.post("/account/api-tokens/", {"name": "iOffice đồng bộ"}))


def test_token_is_shown_once_and_stored_hashed(browser, world, session, clerk_secret):
    token = session.scalar(select(ApiToken))
    assert token.secret_sha256 != clerk_secret and clerk_secret not in token.prefix + token.secret_sha256
    page = browser.get("/account/api-tokens/").get_data(as_text=True)
    assert clerk_secret not in page and token.prefix in page and "iOffice đồng bộ" in page
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-1] == "api_token.created"
    assert all(clerk_secret not in entry.details for entry in session.scalars(select(AuditEntry)))


def test_bearer_token_acts_as_its_account(app, clerk_secret):
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {clerk_secret}"})
    assert response.status_code == 200
    body = response.get_json()
    check_response("GET", "/me", 200, body)
    assert body["username"] == "clerk"
    assert body["roles"] == [{"role": "clerk", "organisation_id": body["organisation"]["id"]}]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer csv1_khong-dung", "Basic abc", "Bearer x" * 50])
def test_missing_or_wrong_token_is_401_json(app, world, header):
    headers = {"Authorization": header} if header else {}
    response = app.test_client().get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    jsonschema.validate(body, _schema("Error"))
    assert body["error"]["code"] == "unauthenticated"


def test_revoked_token_and_disabled_account_stop_working(app, browser, session, world, clerk_secret):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {clerk_secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = session.scalar(select(ApiToken))
    assert browser.post(f"/account/api-tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())).first() == "api_token.revoked"


def test_disabled_account_token_is_refused(app, session, world, clerk_secret):
    clerk = world.account("clerk")
    clerk.is_disabled = True
    session.commit()
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {clerk_secret}"}).status_code == 401


def test_cannot_revoke_someone_elses_token(make_browser, session, world, clerk_secret):
    token = session.scalar(select(ApiToken))
    other = make_browser()
    other.login("auditor")
    assert other.post(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    session.expire_all()
    assert session.scalar(select(ApiToken)).revoked_at is None


def test_token_needs_a_name_and_csrf(browser, world, session):
    browser.login("clerk")
    response = browser.post("/account/api-tokens/", {"name": "  "})
    assert response.status_code == 400 and "Bắt buộc nhập" in response.get_data(as_text=True)
    assert browser.post("/account/api-tokens/", {"name": "x"}, csrf=False).status_code == 400
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_unknown_api_path_is_json_404(app, clerk_secret):
    response = app.test_client().get("/api/v1/khong-co", headers={"Authorization": f"Bearer {clerk_secret}"})
    assert response.status_code == 404
    jsonschema.validate(response.get_json(), _schema("Error"))


def test_a_method_a_known_path_does_not_take_is_json_405_naming_the_allowed_ones(app, clerk_secret):
    response = app.test_client().delete("/api/v1/requests", headers={"Authorization": f"Bearer {clerk_secret}"})
    assert response.status_code == 405
    jsonschema.validate(response.get_json(), _schema("Error"))
    assert response.get_json()["error"]["code"] == "http_405"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_openapi_document_is_public_valid_and_covers_every_api_route(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    documented = {"/api/v1" + path for path in document["paths"]}
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == documented


def test_every_reference_resolves_and_every_path_parameter_is_described():
    document = openapi_document()
    referenced = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(document)))
    assert referenced <= document["components"]["schemas"].keys()
    for path, item in document["paths"].items():
        placeholders = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            described = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert described == placeholders, (method, path)
            if path != "/openapi.json":
                assert {"200", "201"} & operation["responses"].keys() and "401" in operation["responses"]


_JUNK = [
    None,
    "{",
    "[]",
    "null",
    "0",
    '"x"',
    '{"x": 1}',
    json.dumps(
        {
            "organisation_id": [1],
            "type": {"a": 1},
            "fields": "x",
            "action": 12,
            "comment": {},
            "request_ids": "1",
            "focal_office_id": 1.5,
            "title": None,
            "document_number": [],
            "document_date": 10**30,
        }
    ),
    json.dumps(
        {
            "organisation_id": 10**30,
            "type": "new_individual",
            "fields": {"cccd": [None]},
            "action": "approve",
            "request_ids": [10**30, -1, 0],
            "document_date": "31/02/2026",
        }
    ),
]


@pytest.mark.parametrize("role", [Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.FOCAL_OFFICER, Role.AUDITOR], ids=str)
def test_junk_on_every_api_route_is_a_documented_json_error_and_writes_nothing(app, session, world, role):
    ids = {
        "api_request_id": draft(session, world).id,
        "api_batch_id": open_batch(session, world).id,
        "api_certificate_id": 10**25,
        "api_registry_token_id": 1,
        "api_document_id": 10**25,
        "document_action": "submit",
        "appendix_no": 1,
        "api_file_id": 1,
        "api_attachment_id": 1,
        "api_incoming_id": 10**25,
        "api_unit_id": world.orgs["commune"].id,
        "anything": "x/y",
    }
    client = Api(app, session, world.account(role))
    before = counts(session)
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1")
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(ids[name]), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for junk in _JUNK if method != "GET" else [None]:
                response = client.raw(method, path, data=junk, content_type="application/json")
                assert response.status_code < 500, (method, path, junk)
                if response.status_code >= 400:
                    check_response(method, path, response.status_code, response.get_json())
    assert counts(session) == before
