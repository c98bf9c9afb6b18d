"""``certsvc demo`` shows a filled custody register: the district's seal token received from the CA and
handed over from the former clerk to ``vanthu`` with a witness, both confirmed; the paper matches the register."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from certsvc.custody import book, service
from certsvc.custody.chain import check_entry, verify_register
from certsvc.custody.minutes import minutes_pdf
from certsvc.custody.models import CustodyEvent, CustodyEventKind
from certsvc.people.models import Person


@pytest.mark.demo
def test_demo_register_is_filled_and_intact(session):
    events = list(session.scalars(select(CustodyEvent).order_by(CustodyEvent.seq)))
    assert [e.kind for e in events] == [
        CustodyEventKind.RECEIVED,
        CustodyEventKind.INVENTORY,
        CustodyEventKind.HANDED_OVER,
    ]
    handover = events[-1]
    details = book.details_of(handover)
    assert details["giver_name"] == "Hoàng Thị Mai" and details["witness_name"] == "Lộc Văn Sơn"
    assert details["giver_confirmed_at"] and details["receiver_confirmed_at"]
    keeper = service.current_keeper(session, handover.token)
    assert keeper == session.scalar(select(Person).where(Person.full_name == "Hà Thị Ngọc"))
    assert handover.organisation.name == "UBND huyện Văn Quan"
    assert verify_register(session).ok and check_entry(session, handover.hash).intact
    assert minutes_pdf(handover, "http://x.test/check").startswith(b"%PDF")
