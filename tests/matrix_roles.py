"""Role sets the capability tables share (no ROUTES: not a capability table)."""

from certsvc.accounts.models import Role

EVERYONE = frozenset(Role)
ADMIN = frozenset({Role.ADMINISTRATOR})
READERS = frozenset({Role.ADMINISTRATOR, Role.AUDITOR})
ORG_READERS = READERS | {Role.FOCAL_OFFICER}
PEOPLE_READERS = ORG_READERS | {Role.UNIT_HEAD}
NOBODY = frozenset()
