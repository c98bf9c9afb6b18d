"""Example custody register for ``certsvc demo``: the district committee's seal token, received from the CA by
the former clerk, checked, and handed over to the present clerk (demo login ``vanthu``) with a witness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.custody import entries, handovers
from certsvc.custody.service import account_of
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Token, TokenKind
from certsvc.timeutil import to_vietnam, utcnow

__all__ = ["load_demo", "FORMER_CLERK", "WITNESS"]

#: Demo login of the clerk who kept the seal token before ``vanthu``.
FORMER_CLERK = "vanthucu"
#: Demo login of the witness: the district's inspector, who sees the register and confirms like the parties.
WITNESS = "kiemtra"


def _seal_token(session: Session, org: Organisation) -> Token:
    """The unit's organisation token, registered by the registry demo (which runs first)."""
    return session.scalars(
        select(Token).where(Token.organisation_id == org.id, Token.kind == TokenKind.ORGANISATION)
    ).one()


def _account(session: Session, person: Person) -> Account:
    """The demo account of a demo person (the accounts of the demo are made before the custody register)."""
    account = account_of(session, person)
    if account is None:
        raise LookupError(f"The custody demo needs an account for {person.full_name}; the demo accounts are missing.")
    return account


def _day(days_ago: int) -> str:
    return to_vietnam(utcnow() - timedelta(days=days_ago)).date().isoformat()


def load_demo(session: Session, orgs: dict[str, Organisation], people: dict[str, Person]) -> None:
    unit = orgs["huyen"]
    current = _account(session, people["vanthu"])
    former_person = people[FORMER_CLERK]
    former = _account(session, former_person)
    token = _seal_token(session, unit)
    entries.receive(
        session,
        former,
        token,
        {
            "keeper_id": str(former_person.id),
            "event_date": _day(300),
            "event_time": "09:30",
            "place": "Cục Chứng thực số và Bảo mật thông tin, Hà Nội",
            "condition": "Mới, nguyên niêm phong",
            "accessories": "Hộp đựng, phong bì mã PIN niêm phong",
            "seal_numbers": "CA-2025-0198",
        },
    )
    entries.record_event(
        session,
        former,
        token,
        {
            "kind": "inventory",
            "event_date": _day(120),
            "event_time": "14:00",
            "place": "Phòng Văn thư",
            "condition": "Hoạt động bình thường",
            "seal_numbers": "VQ-0007",
            "note": "Kiểm kê định kỳ 6 tháng",
        },
    )
    handover = handovers.start_handover(
        session,
        former,
        token,
        {
            "giver_id": str(former_person.id),
            "receiver_id": str(people["vanthu"].id),
            "witness_id": str(people[WITNESS].id),
            "decision_number": "125/QĐ-UBND",
            "decision_date": _day(3),
            "handed_date": _day(2),
            "handed_time": "08:30",
            "place": "Văn phòng HĐND và UBND huyện Văn Quan",
            "condition": "Hoạt động bình thường, vỏ nguyên vẹn",
            "accessories": "Hộp đựng, phong bì mã PIN",
            "seal_numbers": "VQ-0012",
            "reason": "Văn thư cũ chuyển công tác; giao văn thư mới quản lý theo Điều 5 Quy chế",
        },
    )
    handovers.confirm_handover(session, former, handover)
    handovers.confirm_handover(session, current, handover)
    handovers.confirm_handover(session, _account(session, people[WITNESS]), handover)
