"""Example requests of UBND xã Tân Đoàn for ``certsvc demo``, made through the service functions.

Vi Văn Tùng (canbo) drafts, Nông Văn Khánh (thutruong) approves and sends, Lương Thị Hằng (daumoi,
Phòng Văn hóa và Thông tin) reviews: one draft, one returned with a reason, one waiting in the focal office's
queue (recovery of Tùng's PIN-locked token) and one accepted (renewal of Khánh's certificate, which expires soon),
ready for a batch. Each carries the commune's letter asking for it, signed by Khánh, without which it would not
leave the commune.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry.models import Certificate
from certsvc.requests.models import RequestType
from certsvc.requests.service import create_draft, take_action
from certsvc.requests.transitions import Action

__all__ = ["load_demo"]


def _account(session: Session, person: Person) -> Account:
    account = session.scalar(select(Account).where(Account.person_id == person.id))
    if account is None:
        raise LookupError(f"The requests demo needs an account for {person.full_name}; the demo accounts are missing.")
    return account


def _letter(number: int, days_ago: int) -> dict:
    """The commune's letter asking for a request, signed by its chairman ``days_ago`` days before the load."""
    return {
        "unit_letter_number": f"{number}/UBND-VP",
        "unit_letter_date": (date.today() - timedelta(days=days_ago)).isoformat(),
        "unit_letter_signer": "Nông Văn Khánh",
    }


def _newcomer(name: str, cccd: str, position: str, unit: str, email: str, phone: str) -> dict:
    return {
        "full_name": name,
        "cccd": cccd,
        "cccd_issued_on": "2021-08-16",
        "cccd_issued_by": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
        "position": position,
        "unit_name": unit,
        "email": email,
        "phone": phone,
        "validity_years": "5",
    }


def load_demo(session: Session, orgs: dict[str, Organisation], people: dict[str, Person]) -> None:
    unit = orgs["tandoan"]
    officer, head, focal = (_account(session, people[key]) for key in ("canbo", "thutruong", "daumoi"))

    create_draft(
        session,
        officer,
        unit.id,
        RequestType.NEW_INDIVIDUAL,
        _newcomer(
            "Hoàng Thị Mai",
            "020196004512",
            "Công chức Văn hóa - Xã hội",
            unit.name,
            "maiht.td@langson.gov.vn",
            "0915 204 388",
        )
        | _letter(48, 1),
    )

    returned = create_draft(
        session,
        officer,
        unit.id,
        RequestType.NEW_INDIVIDUAL,
        _newcomer(
            "Lộc Văn Thắng",
            "020088007731",
            "Phó Chủ tịch UBND xã",
            unit.name,
            "thanglv.td@langson.gov.vn",
            "0983 117 402",
        )
        | _letter(41, 12),
    )
    take_action(session, head, returned, Action.APPROVE_SUBMIT, "Đề nghị cấp cho Phó Chủ tịch mới được bầu.")
    take_action(
        session, focal, returned, Action.RETURN, "Ngày cấp CCCD không khớp bản chụp CCCD gửi kèm; đề nghị kiểm tra lại."
    )

    khanh = session.scalar(select(Certificate).where(Certificate.holder_id == people["thutruong"].id))
    if khanh is not None:
        renewal = create_draft(
            session,
            officer,
            unit.id,
            RequestType.RENEWAL,
            {
                "certificate_id": khanh.id,
                "extension_years": "3",
                "note": "Chứng thư số của Chủ tịch UBND xã sắp hết hạn.",
            }
            | _letter(44, 8),
        )
        take_action(session, head, renewal, Action.APPROVE_SUBMIT)
        take_action(session, focal, renewal, Action.ACCEPT, "Hồ sơ đầy đủ.")

    tung = session.scalar(select(Certificate).where(Certificate.holder_id == people["canbo"].id))
    if tung is not None and tung.token is not None:
        recovery = create_draft(
            session,
            officer,
            unit.id,
            RequestType.RECOVERY,
            {
                "token_id": tung.token_id,
                "problem": "pin_locked",
                "description": "Nhập sai mã PIN quá số lần cho phép, thiết bị bị khóa.",
            }
            | _letter(47, 2),
        )
        take_action(session, head, recovery, Action.APPROVE_SUBMIT)
    session.flush()
