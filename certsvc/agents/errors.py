"""The refusals of the agent protocol that the generic errors (:mod:`certsvc.errors`) do not cover."""

from __future__ import annotations

from certsvc.errors import CertsvcError, PermissionDenied

__all__ = ["AgentUnauthenticated", "AgentRevoked", "JobOfAnotherAccount", "Gone", "Throttled"]


class AgentUnauthenticated(CertsvcError):
    """An agent call without a credential, or with one certsvc does not know."""

    code = "agent_unauthenticated"
    http_status = 401


class AgentRevoked(CertsvcError):
    """An agent call with a credential that was revoked (or whose account was disabled)."""

    code = "agent_revoked"
    http_status = 401


class JobOfAnotherAccount(PermissionDenied):
    """An agent asked for a job that another account created: agents act only for the account they paired with."""

    code = "job_of_another_account"


class Gone(CertsvcError):
    """A pairing code or a job whose time ran out."""

    code = "expired"
    http_status = 410


class Throttled(CertsvcError):
    """Too many failed tries from one client address; try again later."""

    code = "throttled"
    http_status = 429
