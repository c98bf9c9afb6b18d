"""Pairing a signing agent with an account (docs/agent-protocol.md §1): one-time codes, credentials,
revoking them from "Thiết bị ký số của tôi" or the account's admin page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from certsvc.accounts.models import LoginThrottle
from certsvc.agents.models import PairingCode, SigningAgent
from certsvc.audit.models import AuditEntry
from certsvc.timeutil import utcnow
from tests.agents.conftest import pair, paired, pairing_code


def _error(response) -> str:
    return response.get_json()["error"]["code"]


def test_code_pairs_once_and_the_credential_acts_for_the_account(app, session, world, make_browser):
    browser = make_browser()
    browser.login("unithead")
    code = pairing_code(browser)
    assert len(code) == 9 and code[4] == "-"
    client = app.test_client()
    answer = pair(client, code.lower().replace("-", " "), "MAY-TINH-01")
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["credential"].startswith("cag1_") and len(body["credential"]) == 5 + 43
    assert body["account"] == {"username": "unithead", "full_name": world.account("unit_head").person.full_name}
    assert body["origin"] == "http://localhost"
    again = pair(client, code, "MAY-TINH-02")
    assert (again.status_code, _error(again)) == (409, "pairing_code_used")
    stored = session.scalars(select(SigningAgent)).one()
    assert stored.device_name == "MAY-TINH-01"
    assert body["credential"] not in str(stored.__dict__)
    page = browser.get("/account/signing-agents").get_data(as_text=True)
    assert "MAY-TINH-01" in page and "đang dùng" in page
    audit = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("agent.%")).order_by(AuditEntry.seq)
    ).all()
    assert audit == ["agent.pairing_code_created", "agent.paired"]


def test_page_shows_the_command(world, make_browser):
    browser = make_browser()
    browser.login("unithead")
    code = pairing_code(browser)
    page = browser.get("/account/signing-agents")
    assert code not in page.get_data(as_text=True)  # shown once
    shown = browser.post("/account/signing-agents").get_data(as_text=True)
    assert "token-agent pair http://localhost " in shown


def test_expired_unknown_and_voided_codes_are_refused(app, session, world, make_browser):
    browser = make_browser()
    browser.login("unithead")
    client = app.test_client()
    old = pairing_code(browser)
    new = pairing_code(browser)
    voided = pair(client, old, address="10.0.0.1")
    assert (voided.status_code, _error(voided)) == (409, "pairing_code_used")
    session.execute(update(PairingCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = pair(client, new, address="10.0.0.2")
    assert (expired.status_code, _error(expired)) == (410, "pairing_code_expired")
    unknown = pair(client, "ABCD-EFGH", address="10.0.0.3")
    assert (unknown.status_code, _error(unknown)) == (404, "pairing_code_unknown")
    assert session.scalars(select(SigningAgent)).all() == []


def test_bad_input_is_refused_without_a_500(app, world):
    client = app.test_client()
    for body in ({}, {"code": "ABC", "device_name": "x"}, {"code": "ABCD-EFGH", "device_name": "x" * 101}, [1]):
        answer = client.post("/api/agent/v1/pair", json=body)
        assert (answer.status_code, _error(answer)) == (400, "validation_failed")
    assert client.post("/api/agent/v1/pair", data="not json").status_code == 400


def test_guessing_codes_is_throttled(app, session, world):
    client = app.test_client()
    answers = [pair(client, f"ABCD-EFG{c}", address="10.0.0.9").status_code for c in "ABCDEFGH"]
    assert answers[:3] == [404, 404, 404]
    assert answers[3:] == [429] * 5
    assert pair(client, "ABCD-EFGH", address="10.0.0.10").status_code == 404  # another address is not slowed
    session.execute(update(LoginThrottle).values(last_failed_login_at=utcnow() - timedelta(minutes=16)))
    session.commit()
    later = [pair(client, f"ABCD-EFG{c}", address="10.0.0.9").status_code for c in "JKM"]
    assert later == [404, 404, 404]  # forgotten after a quiet quarter of an hour


def test_missing_unknown_and_revoked_credentials_get_401(app, session, world, make_browser):
    browser = make_browser()
    browser.login("unithead")
    agent = paired(app, browser)
    client = app.test_client()
    missing = client.get("/api/agent/v1/jobs/x")
    assert (missing.status_code, _error(missing)) == (401, "agent_unauthenticated")
    assert missing.headers["WWW-Authenticate"].startswith("Agent")
    unknown = client.get("/api/agent/v1/jobs/x", headers={"Authorization": "Agent cag1_" + "x" * 43})
    assert (unknown.status_code, _error(unknown)) == (401, "agent_unauthenticated")
    bearer = client.get("/api/agent/v1/jobs/x", headers={"Authorization": f"Bearer {agent.credential}"})
    assert bearer.status_code == 401
    assert agent.job("x").status_code == 404  # a known credential gets as far as the job
    page = browser.get("/account/signing-agents").get_data(as_text=True)
    assert f"/account/signing-agents/{agent.agent_id}/revoke" in page
    assert browser.post(f"/account/signing-agents/{agent.agent_id}/revoke").status_code == 302
    revoked = agent.job("x")
    assert (revoked.status_code, _error(revoked)) == (401, "agent_revoked")
    assert "đã thu hồi" in browser.get("/account/signing-agents").get_data(as_text=True)


def test_another_user_cannot_revoke_my_agent(app, session, world, make_browser):
    owner = make_browser()
    owner.login("unithead")
    agent = paired(app, owner)
    other = make_browser()
    other.login("unitofficer")
    assert other.post(f"/account/signing-agents/{agent.agent_id}/revoke").status_code == 404
    assert agent.job("x").status_code == 404  # still paired


def test_administrator_sees_and_revokes_an_accounts_agents(app, session, world, make_browser):
    owner = make_browser()
    owner.login("unithead")
    agent = paired(app, owner, "MAY-CHU-TICH")
    account_id = world.account("unit_head").id
    admin = make_browser()
    admin.login("administrator")
    page = admin.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert "MAY-CHU-TICH" in page
    url = f"/account/signing-agents/{agent.agent_id}/revoke"
    assert url in page
    revoked = admin.post(url)
    assert revoked.status_code == 302 and revoked.headers["Location"] == f"/admin/accounts/{account_id}"
    assert _error(agent.job("x")) == "agent_revoked"
    session.expire_all()
    stored = session.get(SigningAgent, agent.agent_id)
    assert stored.revoked_by_id == world.account("administrator").id
    # who only views accounts sees the agents, without the button
    auditor = make_browser()
    auditor.login("auditor")
    page = auditor.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert "MAY-CHU-TICH" in page and url not in page


def test_menu_links_the_page(world, make_browser):
    browser = make_browser()
    browser.login("unitofficer")
    assert 'href="/account/signing-agents"' in browser.get("/").get_data(as_text=True)


def test_pages_may_call_the_configured_agent_and_nothing_else(make_app, monkeypatch):
    monkeypatch.setenv("CERTSVC_AGENT_URL", "http://127.0.0.1:9999")
    app = make_app()
    policy = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:9999;" in policy
    assert "script-src 'self';" in policy and "default-src 'self';" in policy
