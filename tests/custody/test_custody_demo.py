"""``certsvc demo`` shows a filled custody register: the district's seal token received from the CA and
handed over from the former clerk to ``vanthu`` with a witness, both confirmed; the paper matches the register."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from certsvc.cli import cli
from certsvc.custody import book, service
from certsvc.custody.chain import check_entry, verify_register
from certsvc.custody.minutes import minutes_pdf
from certsvc.custody.models import CustodyEvent, CustodyEventKind
from certsvc.people.models import Person


def test_demo_register_is_filled_and_intact(database_url, session, tmp_path, monkeypatch):
    monkeypatch.setenv("CERTSVC_DATABASE_URL", database_url)
    monkeypatch.setenv("CERTSVC_INSTANCE_PATH", str(tmp_path / "demo-instance"))
    result = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
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
    assert minutes_pdf(handover).startswith(b"%PDF")
