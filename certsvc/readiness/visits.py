"""Assisted checks at the focal office (seed 000 item 3): a visitor brings a computer and a token, the focal officer
checks it (the check report is filed like any other, source "visit"), does what can be done, and records it.

Also each unit's go-live date, which the focal office sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.records import to_id
from certsvc.core.validation import FieldCollector, FieldError, clean_day, clean_text
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, can, orgs_in_scope
from certsvc.readiness.models import AssistedVisit, GoLive, ReportSource, VisitAction
from certsvc.readiness.reports import store_report
from certsvc.registry.models import Token
from certsvc.timeutil import utcnow

__all__ = ["record_visit", "visits_for", "set_go_live", "MAX_VISITS_LISTED"]

MAX_VISITS_LISTED = 200


def _unit(session: Session, by: Account, raw: object) -> int:
    unit_id = to_id(raw)
    if unit_id is None or unit_id not in OrgTree.load(session).parent:
        raise FieldError("Chọn đơn vị của người đến kiểm tra.")
    if not can(session, by, Permission.ASSIST_READINESS, unit_id):
        raise FieldError("Đơn vị này không thuộc phạm vi cơ quan đầu mối của bạn.")
    return unit_id


def _actions(raw: object) -> list[str]:
    values = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else [raw] if raw else []
    chosen = set()
    for value in values:
        try:
            chosen.add(VisitAction(str(value)))
        except ValueError:
            raise FieldError("Việc đã làm không hợp lệ.") from None
    if not chosen:
        raise FieldError("Chọn ít nhất một việc đã làm (hoặc «Không khắc phục được»).")
    if VisitAction.NOTHING_POSSIBLE in chosen and len(chosen) > 1:
        raise FieldError("«Không khắc phục được» không đi cùng việc khác.")
    return [action.value for action in VisitAction if action in chosen]


def record_visit(session: Session, by: Account, raw: Mapping[str, object], report: bytes | None) -> AssistedVisit:
    """Record a visit; ``report`` (the JSON of the check run there), if given, is filed first. The caller commits.

    Fields: ``organisation_id``, ``visitor_person_id`` or ``visitor_name``, ``token_serial``, ``computer``,
    ``actions`` (:class:`VisitAction` values), ``outcome``."""
    if not can(session, by, Permission.ASSIST_READINESS):
        raise PermissionDenied()
    fields = FieldCollector(raw)
    unit_id = fields.take("organisation_id", lambda value: _unit(session, by, value))
    person_id = fields.take("visitor_person_id", to_id)
    name = fields.take("visitor_name", lambda value: clean_text(value, max_length=200))
    serial = fields.take("token_serial", lambda value: clean_text(value, max_length=64))
    computer = fields.take("computer", lambda value: clean_text(value, max_length=200))
    actions = fields.take("actions", _actions)
    outcome = fields.take("outcome", lambda value: clean_text(value, required=True, max_length=2000))
    fields.raise_if_failed()
    person = session.get(Person, person_id) if person_id else None
    if person_id and (person is None or person.organisation_id != unit_id):
        raise ValidationFailed({"visitor_person_id": "Người này không thuộc đơn vị đã chọn."})
    if person is None and not name:
        raise ValidationFailed({"visitor_name": "Ghi họ tên người đến kiểm tra."})
    token = None
    if serial:
        token = session.scalar(select(Token).where(Token.serial == serial, Token.organisation_id == unit_id))
        if token is None:
            raise ValidationFailed({"token_serial": "Không có thiết bị số sê-ri này của đơn vị trong sổ."})
    stored = store_report(session, by, report, source=ReportSource.VISIT, place=computer) if report else None
    visit = AssistedVisit(
        focal_officer_id=by.id,
        visitor_person_id=person.id if person else None,
        visitor_name=person.full_name if person else name,
        organisation_id=unit_id,
        token_id=token.id if token else None,
        computer=computer,
        report_id=stored.id if stored else None,
        actions=actions,
        outcome=outcome,
        visited_at=utcnow(),
    )
    session.add(visit)
    session.flush()
    record(
        session,
        Actor.of(by),
        "readiness.visit_recorded",
        "assisted_visit",
        visit.id,
        {"organisation_id": unit_id, "token": serial, "report_id": visit.report_id, "actions": actions},
    )
    return visit


def visits_for(session: Session, by: Account) -> list[AssistedVisit]:
    """The newest visits of the units ``by`` sees the readiness of."""
    scope = orgs_in_scope(session, by, Permission.VIEW_READINESS)
    if not scope:
        raise PermissionDenied()
    return list(
        session.scalars(
            select(AssistedVisit)
            .options(joinedload(AssistedVisit.organisation), joinedload(AssistedVisit.token))
            .where(AssistedVisit.organisation_id.in_(scope))
            .order_by(AssistedVisit.visited_at.desc(), AssistedVisit.id.desc())
            .limit(MAX_VISITS_LISTED)
        )
    )


def set_go_live(session: Session, by: Account, unit_id: int, raw_day: object) -> GoLive | None:
    """Set (or, with an empty day, clear) the unit's go-live date; the focal office decides it. The caller commits."""
    if not can(session, by, Permission.ASSIST_READINESS, unit_id):
        raise PermissionDenied()
    try:
        day: date | None = clean_day(raw_day)
    except FieldError as error:
        raise ValidationFailed({"go_live_on": str(error)}) from None
    current = session.get(GoLive, unit_id, with_for_update=True)
    before = current.go_live_on.isoformat() if current else None
    if day is None:
        if current is not None:
            session.delete(current)
    elif current is None:
        current = GoLive(organisation_id=unit_id, go_live_on=day, set_by_id=by.id, set_at=utcnow())
        session.add(current)
    else:
        current.go_live_on, current.set_by_id, current.set_at = day, by.id, utcnow()
    session.flush()
    record(
        session,
        Actor.of(by),
        "readiness.go_live_set",
        "organisation",
        unit_id,
        {"from": before, "to": day.isoformat() if day else None},
    )
    return current if day else None
