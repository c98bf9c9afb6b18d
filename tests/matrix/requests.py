"""Certificate requests: the unit's pages, the focal office's queue, batches."""

from certsvc.accounts.models import Role
from certsvc.documents.files import store
from certsvc.requests.models import Batch, BatchStatus, CertificateRequest, RequestAttachment
from certsvc.requests.service import create_draft
from tests.conftest import add_account

UNIT_READERS = frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.FOCAL_OFFICER, Role.AUDITOR})
FOCAL = frozenset({Role.FOCAL_OFFICER})
FOCAL_READERS = frozenset({Role.FOCAL_OFFICER, Role.AUDITOR})

ROUTES = {
    "requests.list_requests": UNIT_READERS,
    "requests.new_request": frozenset({Role.UNIT_OFFICER}),
    "requests.view_request": UNIT_READERS,
    "requests.edit_request": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "requests.add_attachment": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "requests.attachment": UNIT_READERS,
    "requests.follow_ups": frozenset({Role.UNIT_OFFICER}),
    "requests.remove_attachment": frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD}),
    "requests.act": frozenset({Role.UNIT_HEAD}),  # the target action is "approve"
    "requests.record_outcome": FOCAL,
    "requests.queue": FOCAL,
    "requests.bulk_review": FOCAL,
    "requests.list_batches": FOCAL_READERS,
    "requests.create_batch": FOCAL,
    "requests.view_batch": FOCAL_READERS,
    "requests.add_to_batch": FOCAL,
    "requests.remove_from_batch": FOCAL,
    "requests.lock_batch": FOCAL,
    "requests.set_distribution": FOCAL,
    "requests.create_letter": frozenset(),  # two roles at the focal office: focal officer and unit officer
    "requests.mark_sent": FOCAL,
    "requests.batch_document": FOCAL_READERS,
}


def scanned_cccd(session, request: CertificateRequest) -> RequestAttachment:
    """A scanned CCCD attached to ``request``."""
    scan = RequestAttachment(
        request=request,
        sha256=store(session, b"%PDF-1.4 scan"),
        filename="cccd.pdf",
        media_type="application/pdf",
        size=13,
    )
    session.add(scan)
    return scan


def targets(session, world) -> dict:
    """A draft of the commune by an officer who does not sign in; an open batch of the focal office."""
    commune = world.orgs["commune"]
    drafter = add_account(session, "soanthao", commune, (Role.UNIT_OFFICER, commune))
    draft = create_draft(
        session,
        drafter,
        commune.id,
        "new_individual",
        {
            "full_name": "Hoàng Văn Mạnh",
            "cccd": "020190000123",
            "cccd_issued_on": "2021-05-10",
            "cccd_issued_by": "Cục Cảnh sát QLHC về TTXH",
            "position": "Công chức Tư pháp - Hộ tịch",
            "unit_name": commune.name,
            "email": "manh.td@langson.gov.vn",
            "phone": "0912345678",
            "validity_years": 5,
        },
    )
    batch = Batch(
        focal_office_id=world.orgs["focal"].id,
        title="Đợt thử",
        signer_title="KT. CHỦ TỊCH",
        signer_name="Nguyễn Văn A",
        status=BatchStatus.OPEN,
    )
    session.add(batch)
    scan = scanned_cccd(session, draft)
    session.commit()
    return {
        "request_id": draft.id,
        "attachment_id": scan.id,
        "request_type": "new_individual",
        "action": "approve",
        "batch_id": batch.id,
        "name": "letter.pdf",
    }
