"""Rules for the organisation tree: validation, creation, changes, focal offices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.audit.service import Actor, record, record_update, snapshot
from certsvc.core.records import get_record, to_id
from certsvc.core.validation import (
    FieldCollector,
    FieldError,
    clean_agency_code,
    clean_email,
    clean_flag,
    clean_symbol,
    clean_tax_code,
    clean_text,
)
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.orgs.tree import OrgTree
from certsvc.policy import Permission, ensure

if TYPE_CHECKING:
    from certsvc.accounts.models import Account

__all__ = [
    "AUDITED_FIELDS",
    "clean_organisation",
    "create_organisation",
    "update_organisation",
    "get_organisation",
    "list_in_tree_order",
    "FocalOffice",
    "focal_offices",
    "served_organisations",
]

AUDITED_FIELDS = (
    "name",
    "symbol",
    "agency_code",
    "kind",
    "parent_id",
    "focal_office_id",
    "address",
    "email",
    "tax_code",
    "letter_recipient",
    "is_active",
)


def _clean_kind(value: object) -> OrgKind:
    try:
        return OrgKind(str(value or "").strip())
    except ValueError:
        raise FieldError("Chọn loại tổ chức.") from None


def _clean_org_ref(session: Session, value: object) -> int | None:
    if value in (None, ""):
        return None
    org_id = to_id(value)
    if org_id is None:
        raise FieldError("Tổ chức không hợp lệ.")
    if session.get(Organisation, org_id) is None:
        raise FieldError("Không tìm thấy tổ chức này.")
    return org_id


def clean_organisation(session: Session, raw: Mapping[str, object], current: Organisation | None = None) -> dict:
    """Validate an organisation's fields; return them typed, or raise ValidationFailed."""
    fields = FieldCollector(raw)
    fields.take("name", partial(clean_text, required=True, max_length=255))
    fields.take("symbol", clean_symbol)
    code = fields.take("agency_code", clean_agency_code)
    fields.take("kind", _clean_kind)
    parent_id = fields.take("parent_id", partial(_clean_org_ref, session))
    focal_id = fields.take("focal_office_id", partial(_clean_org_ref, session))
    fields.take("address", partial(clean_text, max_length=500))
    fields.take("email", clean_email)
    fields.take("tax_code", clean_tax_code)
    # Empty: the focal office's letters go to the default recipient.
    fields.take("letter_recipient", partial(clean_text, max_length=255))
    fields.values["is_active"] = clean_flag(raw.get("is_active", True))

    if code:
        holder = session.scalar(select(Organisation).where(Organisation.agency_code == code))
        if holder is not None and holder is not current:
            fields.fail("agency_code", f"Mã định danh này đã dùng cho «{holder.name}».")
    if current is not None and parent_id is not None and parent_id in OrgTree.load(session).subtree(current.id):
        fields.fail("parent_id", "Không thể đặt tổ chức làm cấp dưới của chính nó.")
    if parent_id is None and (current is None or current.parent_id is not None):
        # Only the root of the tree, made at installation, has no parent.
        fields.fail("parent_id", "Chọn cơ quan cấp trên.")
    if focal_id is not None:
        focal = session.get(Organisation, focal_id)
        if focal is not None and not focal.is_active:
            fields.fail("focal_office_id", "Cơ quan đầu mối đã ngừng hoạt động.")
    fields.raise_if_failed()
    return fields.values


def create_organisation(session: Session, by: Account, raw: Mapping[str, object]) -> Organisation:
    values = clean_organisation(session, raw)
    ensure(session, by, Permission.MANAGE_ORGS, values["parent_id"])
    org = Organisation(**values)
    session.add(org)
    session.flush()
    record(session, Actor.of(by), "org.created", "organisation", org.id, snapshot(org, AUDITED_FIELDS))
    return org


def update_organisation(session: Session, by: Account, org: Organisation, raw: Mapping[str, object]) -> Organisation:
    ensure(session, by, Permission.MANAGE_ORGS, org.id)
    values = clean_organisation(session, raw, current=org)
    if values["parent_id"] is not None and values["parent_id"] != org.parent_id:
        ensure(session, by, Permission.MANAGE_ORGS, values["parent_id"])
    record_update(session, Actor.of(by), org, values, AUDITED_FIELDS, "org.updated", "organisation")
    return org


def get_organisation(session: Session, org_id: int) -> Organisation:
    return get_record(session, Organisation, org_id, "Không tìm thấy tổ chức.")


def list_in_tree_order(session: Session, only: Iterable[int] | None = None) -> list[tuple[Organisation, int]]:
    """Organisations depth-first (by name among siblings), each with its depth, restricted to ``only`` when
    given; the order is :meth:`OrgTree.in_tree_order`'s."""
    tree = OrgTree.load(session)
    places = tree.in_tree_order(tree.parent.keys() if only is None else only)
    wanted = select(Organisation)
    if only is not None:
        wanted = wanted.where(Organisation.id.in_([place.id for place in places]))
    orgs = {org.id: org for org in session.scalars(wanted)}
    return [(orgs[place.id], place.depth) for place in places if place.id in orgs]


@dataclass(frozen=True)
class FocalOffice:
    """The office that consolidates an organisation's requests, and whether it is inherited."""

    office: Organisation | None
    inherited: bool


def focal_offices(session: Session, orgs: Iterable[Organisation]) -> dict[int, FocalOffice]:
    """The effective focal office of each of ``orgs``, set on it or inherited from an ancestor."""
    tree = OrgTree.load(session)
    effective = {org.id: tree.effective_focal_office(org.id) for org in orgs}
    offices = {
        office.id: office
        for office in session.scalars(
            select(Organisation).where(Organisation.id.in_({i for i in effective.values() if i is not None}))
        )
    }
    return {
        org_id: FocalOffice(
            office=offices.get(focal_id) if focal_id is not None else None,
            inherited=focal_id is not None and tree.focal_office.get(org_id) is None,
        )
        for org_id, focal_id in effective.items()
    }


def served_organisations(session: Session, focal_id: int) -> list[Organisation]:
    """The organisations whose requests ``focal_id`` consolidates, by name."""
    served = OrgTree.load(session).served_by(focal_id)
    if not served:
        return []
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(served)).order_by(Organisation.name)))
