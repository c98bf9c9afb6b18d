"""Every route of the app, for every role: allowed or refused, as this table says.

The table (tests/matrix/, one module per capability) is written apart from certsvc.policy, so that a change of policy
must be made twice to pass. A route the table does not know fails the test: a
new page cannot ship without someone deciding who may reach it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from certsvc.accounts.api_tokens import create_token
from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from tests.conftest import Browser
from tests.matrix import HIDDEN, MATRIX, NOT_FOUND_FOR, TARGET_BUILDERS

#: Routes anyone may reach without signing in.
PUBLIC = {"auth.login", "core.healthz", "static", "api.openapi", "agent_api.pair", "custody.check_printed"}


def _is_api(endpoint: str) -> bool:
    return endpoint.startswith("api.")


def _is_agent_api(endpoint: str) -> bool:
    """The signing agent's API (certsvc.agents.api) answers only an agent's credential: 401 to anything else."""
    return endpoint.startswith("agent_api.")


def _routes(app):
    """(endpoint, method, rule) for every route; logout last, since it ends the session."""
    routes = [
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(routes, key=lambda r: (r[0] == "auth.logout", r[0], r[1]))


@pytest.fixture
def targets(session, world):
    merged: dict = {}
    for build in TARGET_BUILDERS:
        merged.update(build(session, world))
    return merged


def _url(app, rule, targets):
    with app.test_request_context():
        from flask import url_for

        own = {arg: targets[rule.endpoint, arg] for arg in rule.arguments if (rule.endpoint, arg) in targets}
        return url_for(rule.endpoint, **{arg: own.get(arg, targets.get(arg)) for arg in rule.arguments})


def _audit_count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_every_route_has_an_entry(app):
    unknown = {endpoint for endpoint, _, _ in _routes(app)} - MATRIX.keys()
    assert not unknown, f"routes without a permission entry: {sorted(unknown)}"
    stale = MATRIX.keys() - {endpoint for endpoint, _, _ in _routes(app)}
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_reaches_exactly_what_the_matrix_says(app, session, world, targets, role):
    browser = Browser(app.test_client())
    account = world.account(role)
    assert browser.login(account.username).status_code == 302
    _, secret = create_token(session, account, {"name": "ma trận quyền"})
    session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    wrong = []
    for endpoint, method, rule in _routes(app):
        if endpoint == "auth.login":
            continue  # signed-in users are sent home; covered by the auth tests
        url = _url(app, rule, targets)
        before = _audit_count(session)
        if _is_api(endpoint):
            response = browser.client.open(url, method=method, headers=bearer)
        else:
            response = browser.get(url) if method == "GET" else browser.post(url)
        response.get_data()  # run streamed bodies to the end, as a browser would
        allowed = role in MATRIX[endpoint]
        unseen = endpoint in HIDDEN or role in NOT_FOUND_FOR.get(endpoint, ())
        refused = response.status_code == (404 if unseen else 401 if _is_agent_api(endpoint) else 403)
        bounced = response.status_code in (401, 302) and (
            _is_api(endpoint) or "/login" in response.headers.get("Location", "")
        )
        if endpoint == "auth.logout":
            bounced = False  # signing out leads to the login page: that is its success
        if response.status_code >= 500:
            wrong.append(f"{method} {url}: {response.status_code}")
        elif allowed and (refused or bounced):
            wrong.append(f"{method} {url}: refused ({response.status_code}) but {role} is allowed")
        elif not allowed and not refused:
            wrong.append(f"{method} {url}: {response.status_code} but {role} must get 403")
        elif refused and _audit_count(session) != before:
            wrong.append(f"{method} {url}: refused yet wrote to the audit log")
        elif method == "POST" and _audit_count(session) - before > 1:
            wrong.append(f"{method} {url}: one action wrote more than one audit entry")
    assert not wrong, "\n".join(wrong)


def test_anonymous_is_sent_to_login_everywhere_but_public_routes(app, targets):
    browser = Browser(app.test_client())
    wrong = []
    for endpoint, method, rule in _routes(app):
        url = _url(app, rule, targets)
        if method == "GET":
            response = browser.get(url)
        elif _is_api(endpoint):
            response = browser.client.open(url, method=method)  # the API's PATCH is not a form's POST
        else:
            response = browser.post(url)
        response.get_data()
        bounced = response.status_code == 302 and "/login" in response.headers.get("Location", "")
        if _is_api(endpoint) or _is_agent_api(endpoint):
            bounced = response.status_code == 401  # the API asks for a token instead of a login page
        if endpoint in PUBLIC:
            if bounced or response.status_code in (401, 403) or response.status_code >= 500:
                wrong.append(f"{method} {url}: public route answered {response.status_code}")
        elif not bounced:
            wrong.append(f"{method} {url}: {response.status_code} instead of the login page")
    assert not wrong, "\n".join(wrong)
