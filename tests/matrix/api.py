"""The JSON API and the API-token page. API routes are called with the role's own token, with no body.

Each API route allows the roles of the page it mirrors; the transitions endpoint allows whoever may
take some action of the request page there (its body says which one).
"""

from certsvc.accounts.models import Role
from certsvc.registry.models import TokenKind
from certsvc.requests.models import Batch, BatchStatus
from certsvc.requests.service import create_draft
from tests.conftest import add_account
from tests.matrix.registry import LIST_READERS, READERS
from tests.matrix.requests import FOCAL, FOCAL_READERS, UNIT_READERS, scanned_cccd
from tests.matrix_roles import EVERYONE
from tests.support.registry import add_certificate

ROUTES = {
    "api.openapi": EVERYONE,
    "api.me": EVERYONE,
    "api_tokens.list_tokens": EVERYONE,
    "api_tokens.revoke_token": EVERYONE,
    "api.list_request_types": UNIT_READERS,
    "api.list_requests": UNIT_READERS,
    "api.create_request": frozenset({Role.UNIT_OFFICER}),
    "api.get_request": UNIT_READERS,
    "api.update_request": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "api.transition_request": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.FOCAL_OFFICER}),
    "api.add_request_attachment": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "api.download_request_attachment": UNIT_READERS,
    "api.remove_request_attachment": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "api.list_batches": FOCAL_READERS,
    "api.create_batch": FOCAL,
    "api.get_batch": FOCAL_READERS,
    "api.add_batch_requests": FOCAL,
    "api.lock_batch": FOCAL,
    "api.set_batch_distribution": FOCAL,
    "api.create_batch_letter": frozenset(),  # two roles at the focal office: focal officer and unit officer
    "api.mark_batch_sent": FOCAL,
    "api.list_certificates": LIST_READERS,
    "api.get_certificate": READERS,
    "api.list_tokens": LIST_READERS,
    "api.get_token": READERS,
}


def targets(session, world) -> dict:
    """A draft of the commune by an officer who does not sign in, with a scanned CCCD attached; an open batch of
    the focal office; and a certificate of the commune on its token."""
    commune = world.orgs["commune"]
    drafter = add_account(session, "soanthaoapi", commune, (Role.UNIT_OFFICER, commune))
    draft = create_draft(
        session,
        drafter,
        commune.id,
        "new_device",
        {
            "device_name": "Cổng dịch vụ công xã",
            "identifier": "dvc.tandoan.langson.gov.vn",
            "purpose": "Ký số kết quả thủ tục hành chính",
            "manager_name": "Hoàng Văn Mạnh",
            "email": "manh.td@langson.gov.vn",
            "validity_years": 3,
        },
    )
    batch = Batch(
        focal_office_id=world.orgs["focal"].id,
        title="Đợt thử API",
        signer_title="KT. CHỦ TỊCH",
        signer_name="Nguyễn Văn A",
        status=BatchStatus.OPEN,
    )
    session.add(batch)
    scan = scanned_cccd(session, draft)
    session.commit()
    cert = add_certificate(session, commune, kind=TokenKind.DEVICE, cn="dvc.tandoan.langson.gov.vn")
    return {
        "anything": "khong-co",
        "api_token_id": 987654,
        "api_request_id": draft.id,
        "api_attachment_id": scan.id,
        "api_batch_id": batch.id,
        "api_certificate_id": cert.id,
        "api_registry_token_id": cert.token_id,
    }
