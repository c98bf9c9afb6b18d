"""The documents world shared by the documents tests (issue 12): a district committee, two of its offices
and a commune, the people of the issuing cycle with their accounts, and a draft PDF the server can prepare.

Organisations (``docs_world.orgs``): ``district`` UBND huyện Văn Quan (UBND), its offices ``vp`` Văn phòng
HĐND và UBND huyện (VP) and ``vhtt`` Phòng Văn hóa và Thông tin (VHTT), and ``commune`` UBND xã Tân Đoàn.

Accounts (``docs_world.accounts``, username = key, password ``tests.conftest.PASSWORD``):
- ``drafter``: unit officer at VHTT (drafts VHTT's documents);
- ``reviewer``: "Lãnh đạo phòng (thẩm định)" at VHTT;
- ``lead``: unit officer AND reviewer at VHTT (for the four-eyes rule);
- ``signer``: unit head at the district, a person of the district named :data:`SIGNER` (the proposed signer);
- ``deputy``: another unit head at the district (may sign, but is not the proposed signer);
- ``clerk``: clerk (văn thư) of the district;
- ``outsider``: unit officer at VP (another unit of the same body);
- ``commune_clerk``: clerk of the commune (a recipient).

Named ``docs_world``, not ``world``: the root ``world`` fixture, and those built on it, stay as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.documents import drafting
from certsvc.documents.models import DocumentType, OutgoingDocument
from certsvc.orgs.models import Organisation, OrgKind
from tests.conftest import add_account, add_org
from token_agent import demo

#: The proposed signer's name, as the demo draft's signer block prints it (prepare finds the block by it).
SIGNER = demo.SIGNER


@functools.cache
def draft_pdf(pages: int = 1) -> bytes:
    """A draft as a word processor exports it, with "Số:", the date line and :data:`SIGNER`'s block."""
    return demo.make_draft(pages=pages, signer=SIGNER)


@dataclass
class DocsWorld:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Account:
        return self.accounts[key]

    def org(self, key: str) -> Organisation:
        return self.orgs[key]


def document_type(session: Session, name: str = "Công văn") -> DocumentType:
    """A type seeded by the migration (Công văn has no abbreviation; Quyết định is QĐ)."""
    return session.scalars(select(DocumentType).where(DocumentType.name == name)).one()


@pytest.fixture
def docs_world(session) -> DocsWorld:
    w = DocsWorld()
    district = add_org(
        session,
        None,
        "district",
        "UBND huyện Văn Quan",
        "UBND",
        OrgKind.DISTRICT_COMMITTEE,
        agency_code="000.00.12.H40",
    )
    w.orgs = {
        "district": district,
        "vp": add_org(session, None, "vp", "Văn phòng HĐND và UBND huyện", "VP", OrgKind.OFFICE, district),
        "vhtt": add_org(session, None, "vhtt", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, district),
        "commune": add_org(session, None, "commune", "UBND xã Tân Đoàn", "UBND", OrgKind.COMMUNE_COMMITTEE, district),
    }
    people = {
        "drafter": ("vhtt", [Role.UNIT_OFFICER], None),
        "reviewer": ("vhtt", [Role.REVIEWER], None),
        "lead": ("vhtt", [Role.UNIT_OFFICER, Role.REVIEWER], None),
        "signer": ("district", [Role.UNIT_HEAD], SIGNER),
        "deputy": ("district", [Role.UNIT_HEAD], "Hoàng Văn Bình"),
        "clerk": ("district", [Role.CLERK], None),
        "outsider": ("vp", [Role.UNIT_OFFICER], None),
        "commune_clerk": ("commune", [Role.CLERK], None),
    }
    for username, (where, roles, name) in people.items():
        org = w.orgs[where]
        w.accounts[username] = add_account(
            session, username, org, *((role, org) for role in roles), full_name=name or f"Cán bộ {username}"
        )
    w.accounts["signer"].person.position = "Phó Chủ tịch"
    session.commit()
    return w


def document_values(session: Session, w: DocsWorld, **overrides: object) -> dict[str, object]:
    """Valid values of a công văn of VHTT issued by the district, signed by :data:`SIGNER`, sent to the commune."""
    values: dict[str, object] = {
        "document_type_id": document_type(session).id,
        "summary": "Về việc tổ chức Ngày hội văn hóa các dân tộc huyện Văn Quan năm 2026",
        "issuing_body_id": w.org("district").id,
        "signer_id": w["signer"].person_id,
        "authority_lines": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        "recipient_ids": [w.org("commune").id],
        "distribution_lines": "Như trên;\nLưu: VT, VHTT.",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_document(session, docs_world) -> Callable[..., OutgoingDocument]:
    """``make_document(**overrides)``: a committed draft of VHTT by ``drafter`` with :func:`draft_pdf`."""

    def make(*, by: str = "drafter", unit: str = "vhtt", pdf: bytes | None = None, **overrides) -> OutgoingDocument:
        doc = drafting.create(
            session,
            docs_world[by],
            docs_world.org(unit).id,
            document_values(session, docs_world, **overrides),
            draft=draft_pdf() if pdf is None else pdf,
            filename="du-thao.pdf",
        )
        session.commit()
        return doc

    return make
