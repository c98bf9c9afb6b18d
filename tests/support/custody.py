"""Shared arrangements of the custody tests: a commune's seal token, its clerks, a witness.

Used by the custody tests, the tests that name actors or refuse bad inputs, and tests/matrix/custody.py; the
``seal`` fixture (tests/conftest.py) makes one for a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.custody import entries, service
from certsvc.custody.models import CustodyEvent
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from tests.conftest import add_account

SETTINGS = service.CustodySettings(witness_required=True, pending_hours=48)


@dataclass
class Seal:
    """The commune's seal token in the register, kept by ``keeper``; ``other`` is a second clerk; ``witness``
    signs in as ``witness_account`` (an inspector of the commune: he sees the register, keeps nothing)."""

    token: Token
    keeper: Account
    other: Account
    head: Account
    witness: Person
    received: CustodyEvent
    witness_account: Account


def make_seal(session: Session, world, prefix: str = "") -> Seal:
    commune = world.orgs["commune"]
    keeper = add_account(session, f"{prefix}vanthuxa", commune, (Role.CLERK, commune), full_name="Hoàng Thị Thu")
    other = add_account(session, f"{prefix}vanthuxa2", commune, (Role.CLERK, commune), full_name="Nông Văn Đức")
    head = add_account(session, f"{prefix}chutichxa", commune, (Role.UNIT_HEAD, commune), full_name="Lành Văn Hải")
    witness_account = add_account(
        session, f"{prefix}chungkienxa", commune, (Role.AUDITOR, commune), full_name="Triệu Thị Hương"
    )
    witness = witness_account.person
    witness.position = "Công chức Tư pháp - Hộ tịch"
    token = Token(
        serial=f"{prefix}540101A1B2C3",
        model="SafeNet eToken 5110",
        kind=TokenKind.ORGANISATION,
        organisation=commune,
        is_secret=True,
        state=TokenState.IN_STOCK,
    )
    session.add(token)
    session.flush()
    session.add(
        Certificate(
            serial_hex=f"{prefix}5401010a3f",
            subject_dn="CN=UBND xã Tân Đoàn",
            subject_cn="UBND xã Tân Đoàn",
            issuer_dn="CN=CA phục vụ các cơ quan Đảng và Nhà nước",
            not_before=datetime(2026, 1, 1, tzinfo=UTC),
            not_after=datetime(2031, 1, 1, tzinfo=UTC),
            sha1=(prefix + "a" * 40)[-40:],
            sha256=(prefix + "b" * 64)[-64:],
            der=b"0",
            kind=TokenKind.ORGANISATION,
            organisation=commune,
            token=token,
        )
    )
    received = entries.receive(
        session,
        keeper,
        token,
        {
            "keeper_id": str(keeper.person_id),
            "place": "Bưu điện huyện Văn Quan",
            "condition": "Nguyên vẹn",
            "seal_numbers": "NP-0001",
            "event_date": "2026-01-05",
            "event_time": "09:00",
        },
    )
    session.commit()
    return Seal(token, keeper, other, head, witness, received, witness_account)


def handover_form(seal: Seal, **changes) -> dict:
    form = {
        "giver_id": str(seal.keeper.person_id),
        "receiver_id": str(seal.other.person_id),
        "witness_id": str(seal.witness.id),
        "decision_number": "15/QĐ-UBND",
        "decision_date": "2026-11-20",
        "handed_date": "2026-11-21",
        "handed_time": "08:30",
        "place": "Trụ sở UBND xã Tân Đoàn",
        "condition": "Hoạt động bình thường, vỏ nguyên vẹn",
        "accessories": "Hộp đựng, phong bì mã PIN",
        "seal_numbers": "NP-0002",
        "reason": "Văn thư nghỉ thai sản",
    }
    form.update(changes)
    return form
