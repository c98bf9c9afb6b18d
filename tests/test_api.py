"""API tokens and the /api/v1 basics: authentication, JSON errors, the OpenAPI document."""

import re

import jsonschema
import pytest
from sqlalchemy import func, select

from certsvc.api.models import ApiToken
from certsvc.api.openapi import openapi_document
from certsvc.audit.models import AuditEntry


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
    jsonschema.validate(body, _schema("Me"))
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
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.unknown"
    }
    assert routes == documented
