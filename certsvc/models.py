"""Imports every capability's models, so the metadata (and Alembic) sees all tables."""

from certsvc.accounts.api_token_models import ApiToken
from certsvc.accounts.models import Account, RoleAssignment
from certsvc.agents.models import AgentJob, PairingCode, SigningAgent  # noqa: F401
from certsvc.api.idempotency import IdempotentAnswer  # noqa: F401
from certsvc.audit.models import AuditEntry, AuditHead
from certsvc.custody.models import CustodyEvent, CustodyHead, CustodyToken, Handover  # noqa: F401
from certsvc.documents.models import IncomingDocument, NumberEntry, OutgoingDocument  # noqa: F401
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.readiness.models import AssistedVisit, CheckedToken, CheckReport, GoLive  # noqa: F401
from certsvc.registry.models import Certificate, Token, TokenEvent
from certsvc.requests.models import Batch, CertificateRequest, RequestEvent  # noqa: F401
from certsvc.ui.onceonly import FormSubmission  # noqa: F401

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Certificate",
    "Organisation",
    "Person",
    "RoleAssignment",
    "Token",
    "TokenEvent",
]
