"""Signing agents (issue 13): "Thiết bị ký số của tôi", the administrator's revoking of an account's agent, the
document page's "Ký số" calls, and the agent's API.

The agent's API answers only an agent's own credential: a role's session or API token gets 401 (see
tests/core/test_permission_matrix.py), so no role reaches it; pairing needs no credential (the code is the
proof). The targets: an agent and a job of an account of the commune that never signs in here.
"""

from __future__ import annotations

from certsvc.accounts.models import Role
from certsvc.agents import jobs, pairing
from tests.conftest import add_account
from tests.matrix.documents import COMMUNE_READERS, NOT_COMMUNE
from tests.matrix.readiness import RECORDERS
from tests.matrix_roles import ADMIN, EVERYONE, NOBODY

ROUTES = {
    "agents.list_agents": EVERYONE,
    "agents.revoke_agent": ADMIN,  # only the owner (who does not sign in here) and an administrator of its unit
    "agents.create_signing_job": COMMUNE_READERS,  # with no role posted: refused as invalid once the document is seen
    "agents.signing_job_status": NOBODY,  # the job's own account only
    "agents.create_check_job": RECORDERS,  # who may send a check report to readiness
    "agents.check_job_status": NOBODY,  # the job's own account only
    "agent_api.pair": EVERYONE,
    "agent_api.get_job": NOBODY,
    "agent_api.get_job_file": NOBODY,
    "agent_api.post_job_result": NOBODY,
    "agent_api.cancel_job": NOBODY,
}
NOT_FOUND_FOR = {
    "agents.revoke_agent": EVERYONE - ADMIN,
    "agents.create_signing_job": NOT_COMMUNE,
    "agents.signing_job_status": EVERYONE,
    "agents.check_job_status": EVERYONE,
}


def targets(session, world) -> dict:
    commune = world.orgs["commune"]
    owner = add_account(session, "chuthietbi", commune, (Role.UNIT_OFFICER, commune))
    code = pairing.new_pairing_code(session, owner).code
    agent = pairing.pair(session, {"code": code, "device_name": "MAY-XA"}, source="10.9.9.9").agent
    job = jobs.create_job(session, owner, None, {"role": "check"})
    session.commit()
    return {"agent_id": agent.id, "job_id": job.id}
