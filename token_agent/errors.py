"""Errors of the token agent.

Every error carries a stable ``code`` (what a program or certsvc's API matches on) and a message in
Vietnamese for the person at the PC. The code never changes once published; the wording may.
"""

from __future__ import annotations

__all__ = [
    "TokenAgentError",
    "ModuleLoadError",
    "TokenSelectionError",
    "PinError",
    "PinIncorrectError",
    "PinLockedError",
    "KeyNotFoundError",
    "DocumentError",
    "PlacementNotFoundError",
    "SigningRefusedError",
    "PinFinalTryError",
    "TokenAbsentError",
    "CertificateNotExpectedError",
    "NotLoopbackError",
    "RequestRefusedError",
    "JobError",
    "FileChangedError",
    "ServerUnreachableError",
    "ServerRefusedError",
]


class TokenAgentError(Exception):
    """Base class: something the agent could not do, with a stable code and a Vietnamese message."""

    code = "token_agent_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The Vietnamese message shown to the user."""
        return str(self.args[0])


class ModuleLoadError(TokenAgentError):
    """The PKCS#11 library cannot be found or loaded."""

    code = "module_load_failed"


class TokenSelectionError(TokenAgentError):
    """No token, or more than one, matches what the user asked for."""

    code = "token_not_found"


class PinError(TokenAgentError):
    """Login with the user PIN failed."""

    code = "pin_error"


class PinIncorrectError(PinError):
    """The token refused the PIN (one try fewer is left)."""

    code = "pin_incorrect"


class PinLockedError(PinError):
    """The user PIN is locked, or one more wrong try would lock it and the agent refused to try."""

    code = "pin_locked"


class KeyNotFoundError(TokenAgentError):
    """The token has no certificate with a matching private key to sign with."""

    code = "key_not_found"


class DocumentError(TokenAgentError):
    """The PDF cannot be read or written as asked."""

    code = "document_error"


class PlacementNotFoundError(DocumentError):
    """A place the document needs (number, date, signer block, a form field) was not found."""

    code = "placement_not_found"


class SigningRefusedError(TokenAgentError):
    """A rule of the issuing workflow forbids this signature (e.g. no valid personal signature yet)."""

    code = "signing_refused"


# --- the local service and its talk with certsvc (docs/agent-protocol.md) -------------------------------


class PinFinalTryError(PinError):
    """One more wrong PIN would lock the token: the agent does not try a PIN at all."""

    code = "pin_final_try"


class TokenAbsentError(TokenSelectionError):
    """The token the user chose is no longer plugged in."""

    code = "token_absent"


class CertificateNotExpectedError(TokenAgentError):
    """The chosen token holds no certificate that certsvc accepts for this job."""

    code = "certificate_not_expected"


class NotLoopbackError(TokenAgentError):
    """``serve`` was asked to listen on an address other than the PC's own loopback."""

    code = "not_loopback"


class RequestRefusedError(TokenAgentError):
    """The local service refused a request (origin, Host, form token, malformed input); codes:
    ``origin_not_allowed``, ``host_not_allowed``, ``not_paired``, ``bad_request``."""

    code = "bad_request"


class JobError(TokenAgentError):
    """The job cannot be done: ``job_unknown``, ``job_expired``, ``job_used``, ``job_of_another_account``,
    ``user_cancelled``."""

    code = "job_unknown"


class FileChangedError(TokenAgentError):
    """The file certsvc gave does not have the SHA-256 of the job (the document moved on)."""

    code = "file_changed"


class ServerUnreachableError(TokenAgentError):
    """certsvc could not be reached (network, name, timeout) or answered something that is not the protocol."""

    code = "server_unreachable"


class ServerRefusedError(TokenAgentError):
    """certsvc refused the call; ``server_code`` and ``server_message`` are certsvc's own."""

    code = "server_refused"

    def __init__(self, message: str, *, server_code: str = "", server_message: str = "") -> None:
        super().__init__(message)
        self.server_code = server_code
        self.server_message = server_message
