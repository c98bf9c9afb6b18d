"""The signing agents' world: the documents world of tests/support/signing.py (``dw``: a document awaiting its
signer, real SoftHSM tokens) with an administrator of the district, and helpers that act as an agent would:
pair with a code from the page, then call /api/agent/v1 with the credential."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from certsvc.accounts.models import Role
from tests.conftest import Browser, add_account


@dataclass
class Agent:
    """A paired agent as ``token-agent`` keeps it: its credential, and a client to call certsvc with."""

    client: FlaskClient
    agent_id: int
    credential: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Agent {self.credential}"}

    def job(self, job_id: str):
        return self.client.get(f"/api/agent/v1/jobs/{job_id}", headers=self.headers)

    def file(self, job_id: str):
        return self.client.get(f"/api/agent/v1/jobs/{job_id}/file", headers=self.headers)

    def upload(self, job_id: str, content: bytes, content_type: str = "application/pdf"):
        return self.client.post(
            f"/api/agent/v1/jobs/{job_id}/result",
            data=content,
            headers={**self.headers, "Content-Type": content_type},
        )

    def cancel(self, job_id: str, reason: str = "user_cancelled"):
        return self.client.post(f"/api/agent/v1/jobs/{job_id}/cancel", json={"reason": reason}, headers=self.headers)


def pairing_code(browser: Browser) -> str:
    """A new code from "Thiết bị ký số của tôi", read off the page as the user reads it."""
    page = browser.post("/account/signing-agents")
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    start = text.index('class="secret pairing-code">') + len('class="secret pairing-code">')
    return text[start : start + 9]


def pair(client, code: str, device: str = "MAY-LANH-DAO", address: str = "127.0.0.1"):
    return client.post(
        "/api/agent/v1/pair", json={"code": code, "device_name": device}, environ_base={"REMOTE_ADDR": address}
    )


def paired(app, browser: Browser, device: str = "MAY-LANH-DAO") -> Agent:
    """An agent paired with the account ``browser`` is signed in as."""
    client = app.test_client()
    answer = pair(client, pairing_code(browser), device)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    return Agent(client, body["agent_id"], body["credential"])


def new_job(browser: Browser, doc_id: int, role: str, appendix_no: int | None = None):
    """The page's "Ký số" button: POST with the CSRF header, as agent-sign.js sends it."""
    data = {"role": role} if appendix_no is None else {"role": role, "appendix_no": str(appendix_no)}
    return browser.client.post(
        f"/documents/{doc_id}/signing-jobs",
        data=data,
        headers={"X-CSRFToken": browser.csrf_token or browser._refresh_token()},
    )


def job_id_of(response) -> str:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["job_id"]


@pytest.fixture
def district_admin(session, dw):
    account = add_account(session, "quantri", dw.district, (Role.ADMINISTRATOR, dw.district))
    session.commit()
    return account


@pytest.fixture
def as_user(make_browser):
    """A browser signed in as the given account."""

    def signed_in(account) -> Browser:
        browser = make_browser()
        assert browser.login(account.username).status_code == 302
        return browser

    return signed_in
