"""Documents (issue 12): outgoing documents, the number register, incoming documents, the report, trust anchors;
their pages and their API.

A document belongs to its drafting unit and its issuing body: a role that may not see it there gets 404 (its
existence is not told), one that sees it without the step's permission 403. The targets: documents of the
commune (drafted and issued there: its officer drafts, its head signs), documents of the office (its reviewer
reviews, its clerk numbers and issues), an incoming document of each (the commune's head directs, the office's
clerk registers).
"""

from __future__ import annotations

from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.documents import files
from certsvc.documents.models import (
    DocumentStatus,
    DocumentType,
    FileKind,
    IncomingDocument,
    OutgoingDocument,
)
from tests.matrix_roles import ADMIN, NOBODY

VIEWERS = frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.REVIEWER, Role.CLERK, Role.AUDITOR})
REPORT_READERS = frozenset({Role.FOCAL_OFFICER, Role.UNIT_HEAD, Role.AUDITOR})
DRAFTER = frozenset({Role.UNIT_OFFICER})
CLERK = frozenset({Role.CLERK})
#: Who sees the commune's records (its officer and head, the district's auditor), and who does not.
COMMUNE_READERS = frozenset({Role.UNIT_OFFICER, Role.UNIT_HEAD, Role.AUDITOR})
NOT_COMMUNE = frozenset(Role) - COMMUNE_READERS
#: Who sees the office's records (its reviewer and clerk, the district's auditor), and who does not.
NOT_OFFICE = frozenset(Role) - {Role.REVIEWER, Role.CLERK, Role.AUDITOR}

#: Routes on a record of the commune (C) and of the office (O).
_ON_COMMUNE = {
    "documents.view_document": COMMUNE_READERS,
    "documents.download": COMMUNE_READERS,
    "documents.edit_document": DRAFTER,
    "documents.act": DRAFTER,  # the target action is "submit"
    "documents.upload_approved": frozenset({Role.UNIT_HEAD}),  # the head is the proposed signer
    "documents.view_incoming": COMMUNE_READERS,
    "documents.download_incoming": COMMUNE_READERS,
    "documents.direct_incoming": frozenset({Role.UNIT_HEAD}),
    "api.get_document": COMMUNE_READERS,
    "api.download_document_file": COMMUNE_READERS,
    "api.update_document": DRAFTER,
    "api.upload_draft": DRAFTER,
    "api.upload_appendices": DRAFTER,
    "api.take_document_action": DRAFTER,  # the target action is "submit"
    "api.upload_approval": frozenset({Role.UNIT_HEAD}),
    "api.get_incoming": COMMUNE_READERS,
    "api.download_incoming_file": COMMUNE_READERS,
    "api.direct_incoming": frozenset({Role.UNIT_HEAD}),
}
_ON_OFFICE = {
    "documents.upload_issued": CLERK,
    "documents.upload_appendix": CLERK,
    "documents.register_incoming": CLERK,
    "documents.return_incoming": CLERK,
    "documents.confirm_incoming_recall": CLERK,
    "api.upload_issue": CLERK,
    "api.upload_signed_appendix": CLERK,
    "api.register_incoming": CLERK,
    "api.return_incoming": CLERK,
    "api.confirm_incoming_recall": CLERK,
}

ROUTES = {
    "documents.list_outgoing": VIEWERS,
    "documents.new_document": DRAFTER,
    "documents.register_book": VIEWERS,
    "documents.register_paper": CLERK,
    "documents.list_incoming": VIEWERS,
    "documents.receive_incoming": CLERK,
    "documents.report": REPORT_READERS,
    "documents.report_download": REPORT_READERS,
    "registry.list_anchors": ADMIN,
    # Trust anchors change only by an administrator of the whole tree; this one administers the district.
    "registry.add_anchor": NOBODY,
    "registry.add_crl": NOBODY,
    "registry.remove_anchor": NOBODY,
    "api.list_documents": VIEWERS,
    "api.create_document": DRAFTER,
    "api.register_book": VIEWERS,
    "api.list_incoming": VIEWERS,
    "api.receive_incoming": CLERK,
    "api.register_paper": CLERK,
    "api.document_report": REPORT_READERS,
    **_ON_COMMUNE,
    **_ON_OFFICE,
}
NOT_FOUND_FOR = {
    **{endpoint: NOT_COMMUNE - roles for endpoint, roles in _ON_COMMUNE.items()},
    **{endpoint: NOT_OFFICE - roles for endpoint, roles in _ON_OFFICE.items()},
}


def _document(session, org, signer, status: DocumentStatus, by) -> OutgoingDocument:
    """A công văn of ``org`` (drafted and issued there) in ``status``, with a draft file."""
    doc = OutgoingDocument(
        status=status,
        issuing_body_id=org.id,
        drafting_unit_id=org.id,
        document_type=session.scalar(select(DocumentType).where(DocumentType.abbreviation.is_(None))),
        summary="V/v kiểm tra quyền",
        signer_id=signer.person_id,
        authority_lines="CHỦ TỊCH",
        created_by_id=by.id,
    )
    session.add(doc)
    session.flush()
    files.add_version(session, by, doc, FileKind.DRAFT, _DRAFT, "du-thao.pdf")
    return doc


def _incoming(session, org) -> IncomingDocument:
    sha256 = files.store(session, _DRAFT)
    incoming = IncomingDocument(
        receiving_body_id=org.id, sender_name="Sở Nội vụ", summary="V/v kiểm tra quyền", sha256=sha256
    )
    session.add(incoming)
    session.flush()
    return incoming


_DRAFT = b"%PDF-1.7\n% a draft\n%%EOF\n"


def targets(session, world) -> dict:
    """A draft of the commune (the action: submit), one awaiting its head's signature, a numbered one of the
    office; an incoming document of each; a trust anchor id that names none."""
    commune, office = world.orgs["commune"], world.orgs["office"]
    officer, head = world.account(Role.UNIT_OFFICER.value), world.account(Role.UNIT_HEAD.value)
    clerk = world.account(Role.CLERK.value)
    draft = _document(session, commune, head, DocumentStatus.DRAFT, officer)
    awaiting = _document(session, commune, head, DocumentStatus.AWAITING_SIGNATURE, officer)
    numbered = _document(session, office, clerk, DocumentStatus.NUMBERED, clerk)
    of_commune, of_office = _incoming(session, commune), _incoming(session, office)
    session.commit()
    own = {}
    for endpoint in _ON_OFFICE:
        own[endpoint, "document_id"] = own[endpoint, "api_document_id"] = numbered.id
        own[endpoint, "incoming_id"] = own[endpoint, "api_incoming_id"] = of_office.id
    for endpoint in ("documents.upload_approved", "api.upload_approval"):
        own[endpoint, "document_id"] = own[endpoint, "api_document_id"] = awaiting.id
    own["documents.act", "action"] = "submit"
    return {
        "document_id": draft.id,
        "api_document_id": draft.id,
        "document_action": "submit",
        "file_id": draft.files[0].id,
        "api_file_id": draft.files[0].id,
        "appendix_no": 1,
        "incoming_id": of_commune.id,
        "api_incoming_id": of_commune.id,
        "anchor_id": 987654,
        **own,
    }
