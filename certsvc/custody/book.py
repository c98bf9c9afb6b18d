"""Reading the custody register: what an entry says, when it happened, its one-line summary, and the
entries of a unit's yearly book.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.custody.models import CustodyEvent, CustodyEventKind
from certsvc.timeutil import VIETNAM_TZ

__all__ = ["book_events", "details_of", "happened_at", "summary"]


def details_of(event: CustodyEvent) -> dict:
    try:
        value = json.loads(event.details)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def happened_at(event: CustodyEvent) -> datetime:
    """When the event happened, as recorded (the register time when none was given)."""
    text = details_of(event).get("happened_at")
    try:
        return datetime.fromisoformat(text).astimezone(UTC) if text else event.occurred_at
    except (TypeError, ValueError):
        return event.occurred_at


def summary(event: CustodyEvent) -> str:
    """One line saying what the entry records."""
    d = details_of(event)
    if event.kind is CustodyEventKind.HANDED_OVER:
        text = f"{d.get('giver_name')} giao cho {d.get('receiver_name')}"
        if d.get("witness_name"):
            text += f", chứng kiến: {d['witness_name']}"
        if d.get("decision_number"):
            text += f"; theo văn bản số {d['decision_number']}"
        elif d.get("approved_by"):
            text += f"; {d['approved_by']} phê duyệt trên hệ thống"
        return text
    parts = {
        CustodyEventKind.RECEIVED: f"Người giữ: {d.get('keeper_name')}",
        CustodyEventKind.LOST: d.get("circumstances"),
        CustodyEventKind.FOUND: f"Người giữ: {d.get('keeper_name')}",
        CustodyEventKind.RETURNED: f"Nộp lại {d.get('ca_name')} ({d.get('ca_representative')}): {d.get('reason')}",
    }
    pieces = [
        parts.get(event.kind),
        d.get("condition") and f"Tình trạng: {d['condition']}",
        d.get("seal_numbers") and f"Niêm phong: {d['seal_numbers']}",
        d.get("note"),
    ]
    return "; ".join(p for p in pieces if p)


def book_events(session: Session, org_id: int, year: int) -> list[CustodyEvent]:
    """The unit's register entries of a year (Vietnam calendar)."""
    start = datetime(year, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    return list(
        session.scalars(
            select(CustodyEvent)
            .where(
                CustodyEvent.organisation_id == org_id,
                CustodyEvent.occurred_at >= start,
                CustodyEvent.occurred_at < end,
            )
            .order_by(CustodyEvent.seq)
        )
    )
