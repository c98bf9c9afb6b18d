"""The CA's processing deadline on the expiry board: a new-certificate file sent to the CA is
processed within 3 working days (Nghị định 68/2024)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from certsvc.core.workdays import WorkCalendar
from certsvc.requests.models import Batch, CertificateRequest, RequestStatus, RequestType
from certsvc.timeutil import to_vietnam

__all__ = ["CA_WORKING_DAYS", "CaDeadline", "ca_deadlines"]

#: Working days the CA has to process a valid new-certificate file.
CA_WORKING_DAYS = 3


@dataclass(frozen=True)
class CaDeadline:
    """A new-certificate request sent to the CA and not yet answered."""

    request: CertificateRequest
    sent_on: date
    due_on: date
    #: Working days from today to the due date (negative once overdue).
    working_days_left: int
    overdue: bool


def ca_deadlines(
    session: Session, org_ids: Collection[int], now: datetime, *, calendar: WorkCalendar
) -> list[CaDeadline]:
    """New-certificate requests of ``org_ids`` sent to the CA and still open, earliest due first; working days
    counted on ``calendar``."""
    new_types = [RequestType.NEW_INDIVIDUAL, RequestType.NEW_ORGANISATION, RequestType.NEW_DEVICE]
    rows = session.execute(
        select(CertificateRequest, Batch.sent_at)
        .join(Batch, CertificateRequest.batch_id == Batch.id)
        .where(
            CertificateRequest.status == RequestStatus.SENT,
            CertificateRequest.request_type.in_(new_types),
            CertificateRequest.organisation_id.in_(set(org_ids)),
            Batch.sent_at.is_not(None),
        )
        .options(selectinload(CertificateRequest.organisation))
    ).all()
    today = to_vietnam(now).date()
    deadlines = []
    for request, sent_at in rows:
        if sent_at is None:  # the query selects sent batches only
            raise RuntimeError(f"Request {request.id} is in a batch sent at no time.")
        sent_on = to_vietnam(sent_at).date()
        due_on = calendar.add_working_days(sent_on, CA_WORKING_DAYS)
        deadlines.append(
            CaDeadline(request, sent_on, due_on, calendar.working_days_between(today, due_on), today > due_on)
        )
    return sorted(deadlines, key=lambda d: (d.due_on, d.request.id))
