"""Certificate and token registry routes (target: a certificate and a token of a commune)."""

from certsvc.accounts.models import Role
from certsvc.registry.models import TokenKind
from tests.support.registry import add_certificate

#: Lists: anyone holding VIEW_REGISTRY somewhere (the clerk in its own office too).
LIST_READERS = frozenset({Role.AUDITOR, Role.FOCAL_OFFICER, Role.UNIT_HEAD, Role.UNIT_OFFICER, Role.CLERK})
#: A commune's records: its own unit, the focal office serving it, the auditor above it.
READERS = frozenset({Role.AUDITOR, Role.FOCAL_OFFICER, Role.UNIT_HEAD, Role.UNIT_OFFICER})
MANAGERS = frozenset({Role.FOCAL_OFFICER})

ROUTES = {
    "registry.list_certificates": LIST_READERS,
    "registry.list_tokens": LIST_READERS,
    "registry.expiry_board": LIST_READERS,
    "registry.view_certificate": READERS,
    "registry.download_certificate": READERS,
    "registry.view_token": READERS,
    "registry.upload_certificate": MANAGERS,
    "registry.revoke_certificate": MANAGERS,
    "registry.mark_entered_in_error": MANAGERS,
    "registry.transition_token": MANAGERS,
    # a renewal request is drafted by the unit's officer (DRAFT_REQUESTS)
    "registry.renewal_draft": frozenset({Role.UNIT_OFFICER}),
}


def targets(session, world) -> dict:
    cert = add_certificate(session, world.orgs["commune"], kind=TokenKind.ORGANISATION, cn="UBND xã Tân Đoàn")
    return {"certificate_id": cert.id, "registry_token_id": cert.token_id}
