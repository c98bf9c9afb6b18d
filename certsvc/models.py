"""Imports every capability's models, so the metadata (and Alembic) sees all tables."""

from certsvc.accounts.models import Account, RoleAssignment
from certsvc.audit.models import AuditEntry, AuditHead
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person

__all__ = ["Account", "AuditEntry", "AuditHead", "Organisation", "Person", "RoleAssignment"]
