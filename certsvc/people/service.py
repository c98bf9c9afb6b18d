"""Rules for people: identity fields, their unit, and who may change them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, changed_fields, record, snapshot
from certsvc.core.validation import (
    FieldCollector,
    FieldError,
    clean_cccd,
    clean_email,
    clean_flag,
    clean_phone,
    clean_text,
)
from certsvc.errors import NotFound
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure

__all__ = ["AUDITED_FIELDS", "clean_person", "create_person", "update_person", "get_person"]

AUDITED_FIELDS = ("full_name", "position", "organisation_id", "cccd", "email", "phone", "is_active")


def _clean_unit(session: Session, value: object) -> int:
    try:
        org_id = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FieldError("Chọn đơn vị.") from None
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
    before = snapshot(person, AUDITED_FIELDS)
    for name, value in values.items():
        setattr(person, name, value)
    changes = changed_fields(before, snapshot(person, AUDITED_FIELDS))
    if changes:
        session.flush()
        record(session, Actor.of(by), "person.updated", "person", person.id, {"changes": changes})
    return person


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("Không tìm thấy người này.")
    return person
