"""Helpers shared by the request tests and the request permission table (no tests here)."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.requests import batches
from certsvc.requests.models import Batch, CertificateRequest, RequestEvent, RequestStatus
from certsvc.requests.service import create_draft
from certsvc.requests.transitions import Action, apply_transition
from certsvc.timeutil import to_vietnam

_numbers = itertools.count(1)
S = RequestStatus


def individual(**changes) -> dict:
    """Mẫu 01 fields as the form posts them, with a fresh CCCD each call."""
    fields = {
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


def officer(world):
    return world.account(Role.UNIT_OFFICER)


def head(world):
    return world.account(Role.UNIT_HEAD)


def focal(world):
    return world.account(Role.FOCAL_OFFICER)


def draft(session, world, kind="new_individual", fields=None, org="commune") -> CertificateRequest:
    request = create_draft(session, officer(world), world.orgs[org].id, kind, fields or individual())
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
    batches.mark_sent(
        session,
        focal(world),
        batch,
        {"document_number": "12/UBND-VHTT", "document_date": to_vietnam(batch.locked_at).date().isoformat()},
    )
    session.commit()
    if status is S.DONE:
        apply_transition(session, focal(world), request, Action.COMPLETE)
    elif status is S.REJECTED:
        apply_transition(session, focal(world), request, Action.REJECT, "CA từ chối")
    session.commit()
    return request


def audit_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry))


def counts(session) -> tuple[int, int, int]:
    """Requests, request events and audit entries: what a refused action must leave alone."""
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(m)) for m in (CertificateRequest, RequestEvent, AuditEntry)
    )
