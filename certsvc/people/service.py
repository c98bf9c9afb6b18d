"""Rules for people: identity fields, their unit, and who may change them."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Mapping
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
    clean_cccd,
    clean_email,
    clean_flag,
    clean_phone,
    clean_text,
)
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure

if TYPE_CHECKING:
    from certsvc.accounts.models import Account

__all__ = [
    "AUDITED_FIELDS",
    "clean_person",
    "create_person",
    "update_person",
    "get_person",
    "name_matches",
    "PeoplePage",
    "find_people",
    "people_of",
]

AUDITED_FIELDS = ("full_name", "position", "organisation_id", "cccd", "email", "phone", "is_active")


def _clean_unit(session: Session, value: object) -> int:
    org_id = to_id(value)
    if org_id is None:
        raise FieldError("Chọn đơn vị.")
    if session.get(Organisation, org_id) is None:
        raise FieldError("Không tìm thấy đơn vị này.")
    return org_id


def clean_person(session: Session, raw: Mapping[str, object], current: Person | None = None) -> dict:
    """Validate a person's fields; return them typed, or raise ValidationFailed."""
    fields = FieldCollector(raw)
    fields.take("full_name", partial(clean_text, required=True, max_length=200))
    fields.take("position", partial(clean_text, max_length=200))
    fields.take("organisation_id", partial(_clean_unit, session))
    cccd = fields.take("cccd", clean_cccd)
    fields.take("email", clean_email)
    fields.take("phone", clean_phone)
    fields.values["is_active"] = clean_flag(raw.get("is_active", True))
    if cccd:
        holder = session.scalar(select(Person).where(Person.cccd == cccd))
        if holder is not None and holder is not current:
            fields.fail("cccd", f"Số CCCD này đã có trong danh sách ({holder.full_name}).")
    fields.raise_if_failed()
    return fields.values


def create_person(session: Session, by: Account, raw: Mapping[str, object]) -> Person:
    values = clean_person(session, raw)
    ensure(session, by, Permission.MANAGE_PEOPLE, values["organisation_id"])
    person = Person(**values)
    session.add(person)
    session.flush()
    record(session, Actor.of(by), "person.created", "person", person.id, snapshot(person, AUDITED_FIELDS))
    return person


def update_person(session: Session, by: Account, person: Person, raw: Mapping[str, object]) -> Person:
    ensure(session, by, Permission.MANAGE_PEOPLE, person.organisation_id)
    values = clean_person(session, raw, current=person)
    ensure(session, by, Permission.MANAGE_PEOPLE, values["organisation_id"])
    record_update(session, Actor.of(by), person, values, AUDITED_FIELDS, "person.updated", "person")
    return person


def get_person(session: Session, person_id: int) -> Person:
    return get_record(session, Person, person_id, "Không tìm thấy người này.")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def name_matches(query: str, name: str) -> bool:
    """Whether ``name`` contains ``query``, ignoring case (Vietnamese capitals too).

    A query typed without diacritics also matches names written with them
    ("nguyen" finds "Nguyễn"); one typed with diacritics must match them exactly.
    The comparison runs in Python: SQLite's lower() leaves "Đ" and "Ễ" alone.
    """
    wanted, full = _fold(" ".join(query.split())), _fold(name)
    if _strip_marks(wanted) == wanted:
        full = _strip_marks(full)
    return wanted in full


@dataclass(frozen=True)
class PeoplePage:
    people: list[Person]
    page: int
    pages: int
    total: int


def find_people(
    session: Session, org_ids: Collection[int], query: str = "", page: int = 1, per_page: int = 50
) -> PeoplePage:
    """People of ``org_ids`` whose name contains ``query``, by name, one page of them."""
    rows = session.execute(
        select(Person.id, Person.full_name)
        .where(Person.organisation_id.in_(set(org_ids)))
        .order_by(Person.full_name, Person.id)
    ).all()
    if query.strip():
        rows = [row for row in rows if name_matches(query, row.full_name)]
    pages = max(1, math.ceil(len(rows) / per_page))
    page = min(max(page, 1), pages)
    wanted = [row.id for row in rows[(page - 1) * per_page : page * per_page]]
    by_id = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}
    return PeoplePage(people=[by_id[i] for i in wanted], page=page, pages=pages, total=len(rows))


def people_of(session: Session, org_id: int) -> list[Person]:
    return list(
        session.scalars(select(Person).where(Person.organisation_id == org_id).order_by(Person.full_name, Person.id))
    )
