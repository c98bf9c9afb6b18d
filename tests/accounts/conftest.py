"""Fixtures and helpers of the login and session tests: a clock the test moves, and signing in from a given
client address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from certsvc.audit.models import AuditEntry
from certsvc.timeutil import utcnow
from tests.conftest import PASSWORD, Browser


class Clock:
    """The time the app's logins and sessions go by; it moves only when the test says."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    app.config["CERTSVC_CLOCK"] = clock = Clock()
    return clock


def login_from(browser: Browser, address: str, username: str, password: str = PASSWORD):
    """``browser.login`` as seen from the client address ``address``."""
    browser.csrf_token = None
    response = browser.post(
        "/login", {"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    browser.csrf_token = None
    return response


def audit_actions(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
