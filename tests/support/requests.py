"""Helpers shared by the request tests and the request permission table (no tests here)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import func, select

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.audit.models import AuditEntry
from certsvc.documents import files, register
from certsvc.documents.models import DocumentStatus, FileKind, NumberState, OutgoingDocument
from certsvc.people.models import Person
from certsvc.requests import batch_letter, batches
from certsvc.requests.models import Batch, CertificateRequest, RequestEvent, RequestStatus
from certsvc.requests.service import create_draft
from certsvc.requests.transitions import Action, apply_transition
from certsvc.timeutil import utcnow
from tests.conftest import add_account

_numbers = itertools.count(1)
S = RequestStatus


def unit_letter(**changes) -> dict:
    """The unit's own written request, signed three days ago: what a request may be saved without but must
    carry to leave the unit (certsvc.requests.fields.UNIT_LETTER)."""
    return {
        "unit_letter_number": "15/UBND-VP",
        "unit_letter_date": (date.today() - timedelta(days=3)).isoformat(),
        "unit_letter_signer": "Nông Văn Khánh",
    } | changes


#: A letter that was never recorded: the fields of :func:`unit_letter` emptied, for a draft saved before it.
NO_LETTER = dict.fromkeys(unit_letter(), "")


def individual(**changes) -> dict:
    """Mẫu 01 fields as the form posts them, with a fresh CCCD each call, and the unit's letter."""
    fields = {
        **unit_letter(),
        "full_name": "Hoàng Thị Mai",
        "cccd": f"0201{next(_numbers):08d}",
        "cccd_issued_on": "2021-05-10",
        "cccd_issued_by": "Cục Cảnh sát QLHC về TTXH",
        "position": "Công chức Văn hóa - Xã hội",
        "unit_name": "UBND xã Tân Đoàn",
        "email": "mai.td@langson.gov.vn",
        "phone": "0912 345 678",
        "validity_years": "5",
    }
    fields.update(changes)
    return fields


def organisational(**changes) -> dict:
    """Mẫu 02 fields as the form posts them: the commune's organisation certificate, and the unit's letter."""
    fields = {
        **unit_letter(),
        "org_name": "UBND xã Tân Đoàn",
        "address": "Thôn Bản Đơn, xã Tân Đoàn",
        "tax_code": "4900123456",
        "budget_code": "1234567",
        "province": "Lạng Sơn",
        "email": "tandoan@langson.gov.vn",
        "receiver_name": "Hà Thị Ngọc",
        "validity_years": "5",
    }
    fields.update(changes)
    return fields


def officer(world):
    return world.account(Role.UNIT_OFFICER)


def head(world):
    return world.account(Role.UNIT_HEAD)


def focal(world):
    return world.account(Role.FOCAL_OFFICER)


def draft(session, world, kind="new_individual", fields=None, org="commune") -> CertificateRequest:
    """The unit officer's draft of ``kind`` (a Mẫu 01 by default) with the unit's letter, unless ``fields`` set
    its fields (:data:`NO_LETTER` leaves it out)."""
    request = create_draft(session, officer(world), world.orgs[org].id, kind, unit_letter() | (fields or individual()))
    session.commit()
    return request


def open_batch(session, world, title="Đợt 1 năm 2026") -> Batch:
    batch = batches.create_batch(
        session,
        focal(world),
        {
            "focal_office_id": str(world.orgs["focal"].id),
            "title": title,
            "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
            "signer_name": "Lương Văn Bình",
        },
    )
    session.commit()
    return batch


#: How to bring a fresh draft to each status: (action, who) steps.
_PATHS = {
    S.DRAFT: [],
    S.APPROVED: [(Action.APPROVE, head)],
    S.SUBMITTED: [(Action.APPROVE_SUBMIT, head)],
    S.RETURNED: [(Action.APPROVE_SUBMIT, head), (Action.RETURN, focal)],
    S.ACCEPTED: [(Action.APPROVE_SUBMIT, head), (Action.ACCEPT, focal)],
    S.CANCELLED: [(Action.CANCEL, officer)],
}


def bring_to(session, world, request: CertificateRequest, status: RequestStatus) -> CertificateRequest:
    """Move ``request`` (a draft) to ``status`` through the lifecycle, as the right people."""
    if status in _PATHS:
        for action, who in _PATHS[status]:
            apply_transition(session, who(world), request, action, "Ý kiến kiểm thử")
        session.commit()
        return request
    bring_to(session, world, request, S.ACCEPTED)
    batch = open_batch(session, world, f"Đợt cho đề nghị {request.id}")
    batches.add_requests(session, focal(world), batch, [request.id])
    session.commit()
    if status is S.IN_BATCH:
        return request
    batches.lock_batch(session, focal(world), batch)
    issue_letter(session, world, batch)
    batches.mark_sent(session, focal(world), batch)
    session.commit()
    if status is S.DONE:
        apply_transition(session, focal(world), request, Action.COMPLETE)
    elif status is S.REJECTED:
        apply_transition(session, focal(world), request, Action.REJECT, "CA từ chối")
    session.commit()
    return request


LETTER_SIGNER = "Lương Văn Bình"


def letter_people(session, world) -> tuple[Person, Account]:
    """The district's vice-chairman who signs proposal letters, and its clerk (who numbers them); the focal
    officer also drafts documents at the focal office (as the office's specialist does). Made once per world."""
    district, office = world.orgs["district"], world.orgs["focal"]
    focal_officer = focal(world)
    if not any(r.role is Role.UNIT_OFFICER and r.organisation_id == office.id for r in focal_officer.roles):
        focal_officer.roles.append(RoleAssignment(role=Role.UNIT_OFFICER, organisation=office))
    signer = session.scalar(select(Person).where(Person.full_name == LETTER_SIGNER))
    if signer is None:
        signer = Person(full_name=LETTER_SIGNER, organisation=district, position="Phó Chủ tịch UBND huyện")
        session.add(signer)
    if "district_clerk" not in world.accounts:
        world.accounts["district_clerk"] = add_account(session, "vanthuhuyen", district, (Role.CLERK, district))
    session.flush()
    return signer, world.accounts["district_clerk"]


def create_letter(session, world, batch: Batch) -> OutgoingDocument:
    """The batch's letter, signed by :data:`LETTER_SIGNER`, created by the focal officer."""
    session.refresh(batch)  # locked through the pages or the API, maybe
    signer, _clerk = letter_people(session, world)
    letter = batch_letter.create_letter(session, focal(world), batch, {"signer_id": str(signer.id)})
    session.commit()
    return letter


def issue_letter(session, world, batch: Batch) -> OutgoingDocument:
    """The batch's letter created and brought to ISSUED with a number from the real register, WITHOUT the
    tokens: the statuses and the issued file are set here as the signature uploads would set them (those
    uploads are tests/documents/test_signatures.py's and test_batch_letter_signed.py's subject)."""
    session.refresh(batch)
    letter = batch.letter_document or create_letter(session, world, batch)
    _signer, clerk = letter_people(session, world)
    letter.status, letter.approved_at = DocumentStatus.SIGNED, utcnow()
    session.flush()
    entry = register.take_number(session, clerk, letter)
    prepared = files.latest(letter, FileKind.PREPARED)
    files.add_version(session, clerk, letter, FileKind.ISSUED, files.content(prepared), "da-phat-hanh.pdf")
    letter.status, letter.issued_at, entry.state = DocumentStatus.ISSUED, utcnow(), NumberState.USED
    session.commit()
    return letter


def audit_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry))


def counts(session) -> tuple[int, int, int]:
    """Requests, request events and audit entries: what a refused action must leave alone."""
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(m)) for m in (CertificateRequest, RequestEvent, AuditEntry)
    )
