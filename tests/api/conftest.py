"""Fixtures of the JSON API's tests."""

from __future__ import annotations

import pytest

from certsvc.accounts.models import Role
from tests.conftest import add_account
from tests.support.api import Api


@pytest.fixture
def api(app, session, world):
    """A client per role, and ``outsider``: an officer of the other commune."""
    other = world.orgs["other_commune"]
    outsider = add_account(session, "canboxakhac", other, (Role.UNIT_OFFICER, other))
    clients = {role: Api(app, session, world.account(role)) for role in Role}
    clients["outsider"] = Api(app, session, outsider)
    return clients
