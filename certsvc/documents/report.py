"""The seeds' targets as a report (seed 002 II, seed 000): per issuing body and period, from the register.

- documents issued electronically: outgoing documents of the body, issued (then sent, or recalled) with
  ``issued_at`` in the period;
- the share of them carrying both signatures, personal and organisation (target 100%);
- the share signed with the personal key of the body's head, a person holding the unit-head role at the body
  (target: above 80%);
- for the district leadership (a district committee, or the root of the tree), the share of its registered
  documents, electronic and paper (secret ones: register entry dated in the period), signed digitally
  (target: above 20%);
- the body's people who hold a personal certificate valid during the period but approved nothing in it.

Each share is green when it meets its target (:class:`certsvc.documents.settings.DocumentSettings`), red
when not, neutral without documents. :func:`report_csv` writes it for Excel; :meth:`UnitReport.as_dict` is
the JSON API's shape. Seen by whoever holds VIEW_DOCUMENT_REPORT at the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.core.csvcells import excel_csv
from certsvc.core.records import to_id
from certsvc.core.validation import FieldCollector, FieldError, clean_day
from certsvc.documents.models import DocumentStatus, NumberEntry, OutgoingDocument
from certsvc.documents.settings import DocumentSettings
from certsvc.errors import NotFound, PermissionDenied
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.policy import Permission, can
from certsvc.registry.models import Certificate, TokenKind
from certsvc.timeutil import VIETNAM_TZ

__all__ = ["MAX_PERIOD_DAYS", "Figure", "IdleSigner", "UnitReport", "clean_period", "unit_report", "report_csv"]

#: The longest period a report covers: a year of the register (a leap year), and a bounded query.
MAX_PERIOD_DAYS = 366
#: Issued electronically: the clerk's organisation signature is on it (sending and recall come after).
_ISSUED = (DocumentStatus.ISSUED, DocumentStatus.SENT, DocumentStatus.RECALLED)


@dataclass(frozen=True)
class Figure:
    """``count`` of ``total`` documents, against a target percentage (met at it, or only above it)."""

    label: str
    count: int
    total: int
    target: int
    strictly_above: bool

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.total, 1) if self.total else None

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None without documents to count."""
        if not self.total:
            return None
        # Compared in whole numbers: 4 of 5 is exactly 80%, not 79.999…%.
        share, goal = 100 * self.count, self.target * self.total
        return share > goal if self.strictly_above else share >= goal

    @property
    def tone(self) -> str:
        """Green (``ok``) or red (``bad``) for the page; empty when there is nothing to judge."""
        return "" if self.met is None else "ok" if self.met else "bad"

    @property
    def target_text(self) -> str:
        return f"{'trên' if self.strictly_above else 'đạt'} {self.target}%"

    @property
    def verdict(self) -> str:
        return "Chưa có văn bản" if self.met is None else "Đạt" if self.met else "Chưa đạt"

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "count": self.count,
            "total": self.total,
            "percent": self.percent,
            "target_percent": self.target,
            "strictly_above": self.strictly_above,
            "met": self.met,
        }


@dataclass(frozen=True)
class IdleSigner:
    """A person of the body holding a valid personal certificate who approved no document in the period."""

    person_id: int
    full_name: str
    position: str | None
    certificate_serial: str
    not_after: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "full_name": self.full_name,
            "position": self.position,
            "certificate_serial": self.certificate_serial,
            "not_after": self.not_after.isoformat(),
        }


@dataclass(frozen=True)
class UnitReport:
    unit_id: int
    unit_name: str
    start: date
    end: date
    issued: int
    both_signatures: Figure
    head_signed: Figure
    #: Only for the district leadership.
    leadership_digital: Figure | None
    idle_signers: tuple[IdleSigner, ...]

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(f for f in (self.both_signatures, self.head_signed, self.leadership_digital) if f is not None)

    def as_dict(self) -> dict[str, object]:
        return {
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "issued_electronically": self.issued,
            "both_signatures": self.both_signatures.as_dict(),
            "head_signed": self.head_signed.as_dict(),
            "leadership_digital": self.leadership_digital.as_dict() if self.leadership_digital else None,
            "idle_signers": [signer.as_dict() for signer in self.idle_signers],
        }


def clean_period(values: Mapping[str, object]) -> tuple[date, date]:
    """The period ``from`` – ``to`` (both days included) of a form or query; ValidationFailed when a day is
    missing or not one, ``to`` is before ``from``, or it spans more than :data:`MAX_PERIOD_DAYS` days."""
    fields = FieldCollector(values)
    start = fields.take("from", _required_day)
    end = fields.take("to", _required_day)
    if start is not None and end is not None:
        if end < start:
            fields.fail("to", "Ngày cuối kỳ không được trước ngày đầu kỳ.")
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            fields.fail("to", f"Kỳ báo cáo dài tối đa {MAX_PERIOD_DAYS} ngày.")
    fields.raise_if_failed()
    assert start is not None and end is not None  # raise_if_failed refused an empty day
    return start, end


def _required_day(value: object) -> date:
    day = clean_day(value)
    if day is None:
        raise FieldError("Bắt buộc nhập.")
    return day


def _moment(day: date) -> datetime:
    """The first moment of ``day`` in Vietnam, in UTC."""
    return datetime.combine(day, time(0), VIETNAM_TZ).astimezone(UTC)


def _is_leadership(unit: Organisation) -> bool:
    return unit.kind is OrgKind.DISTRICT_COMMITTEE or unit.parent_id is None


def unit_report(
    session: Session, by: Account, unit_id: object, start: date, end: date, settings: DocumentSettings
) -> UnitReport:
    """The report of the issuing body ``unit_id`` for the days ``start`` to ``end`` (see :func:`clean_period`).

    404 for an unknown body, 403 without VIEW_DOCUMENT_REPORT at it."""
    valid_id = to_id(unit_id)
    unit = session.get(Organisation, valid_id) if valid_id is not None else None
    if unit is None:
        raise NotFound("Không có đơn vị này.")
    if not can(session, by, Permission.VIEW_DOCUMENT_REPORT, unit.id):
        raise PermissionDenied()
    low, high = _moment(start), _moment(end + timedelta(days=1))
    personal = aliased(Certificate)
    rows = session.execute(
        select(
            OutgoingDocument.organisation_certificate_id, OutgoingDocument.personal_certificate_id, personal.holder_id
        )
        .outerjoin(personal, personal.id == OutgoingDocument.personal_certificate_id)
        .where(
            OutgoingDocument.issuing_body_id == unit.id,
            OutgoingDocument.status.in_(_ISSUED),
            OutgoingDocument.issued_at >= low,
            OutgoingDocument.issued_at < high,
        )
    ).all()
    heads = set(
        session.scalars(
            select(Account.person_id)
            .join(RoleAssignment, RoleAssignment.account_id == Account.id)
            .where(RoleAssignment.role == Role.UNIT_HEAD, RoleAssignment.organisation_id == unit.id)
        )
    )
    issued = len(rows)
    both = sum(1 for organisation, person, _ in rows if organisation is not None and person is not None)
    by_head = sum(1 for _, _, holder in rows if holder is not None and holder in heads)
    return UnitReport(
        unit_id=unit.id,
        unit_name=unit.name,
        start=start,
        end=end,
        issued=issued,
        both_signatures=Figure(
            "Văn bản điện tử có đủ chữ ký số cá nhân và cơ quan", both, issued, settings.target_signed_percent, False
        ),
        head_signed=Figure(
            "Văn bản điện tử do thủ trưởng đơn vị ký số cá nhân",
            by_head,
            issued,
            settings.target_head_signed_percent,
            True,
        ),
        leadership_digital=_leadership_figure(session, unit, both, issued, start, end, settings),
        idle_signers=_idle_signers(session, unit, low, high),
    )


def _leadership_figure(
    session: Session, unit: Organisation, signed: int, issued: int, start: date, end: date, settings: DocumentSettings
) -> Figure | None:
    if not _is_leadership(unit):
        return None
    paper = session.scalar(
        select(func.count(OutgoingDocument.id))
        .join(NumberEntry, NumberEntry.id == OutgoingDocument.number_entry_id)
        .where(
            OutgoingDocument.issuing_body_id == unit.id,
            OutgoingDocument.status == DocumentStatus.PAPER,
            NumberEntry.issue_date >= start,
            NumberEntry.issue_date <= end,
        )
    )
    return Figure(
        "Văn bản của lãnh đạo huyện được ký số (trên tổng số văn bản điện tử và văn bản giấy)",
        signed,
        issued + (paper or 0),
        settings.target_leadership_digital_percent,
        True,
    )


def _idle_signers(session: Session, unit: Organisation, low: datetime, high: datetime) -> tuple[IdleSigner, ...]:
    """People of ``unit`` with a personal certificate usable at some moment of [low, high) — in force, not
    revoked before ``low``, not entered in error — who approved no document in that time."""
    signed = aliased(Certificate)
    approved_any = exists().where(
        signed.holder_id == Person.id,
        OutgoingDocument.personal_certificate_id == signed.id,
        OutgoingDocument.approved_at >= low,
        OutgoingDocument.approved_at < high,
    )
    rows = session.execute(
        select(Person.id, Person.full_name, Person.position, Certificate.serial_hex, Certificate.not_after)
        .join(Certificate, Certificate.holder_id == Person.id)
        .where(
            Person.organisation_id == unit.id,
            Person.is_active.is_(True),
            Certificate.kind == TokenKind.PERSONAL,
            Certificate.entered_in_error_at.is_(None),
            Certificate.not_before < high,
            Certificate.not_after >= low,
            or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= low),
            ~approved_any,
        )
        .order_by(Person.full_name, Person.id, Certificate.not_after.desc())
    ).all()
    seen: dict[int, IdleSigner] = {}
    for person_id, full_name, position, serial, not_after in rows:
        # One line per person: the certificate valid longest.
        seen.setdefault(person_id, IdleSigner(person_id, full_name, position, serial, not_after))
    return tuple(seen.values())


def report_csv(report: UnitReport) -> bytes:
    """The report as one CSV for Excel: a line per figure, then a line per idle signer.

    UTF-8 with a byte-order mark (Excel then reads Vietnamese right), CRLF line ends; a value a spreadsheet
    would run as a formula gets a leading apostrophe."""
    period = f"{report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}"
    header = ["Đơn vị", "Kỳ báo cáo", "Chỉ tiêu", "Số lượng", "Tổng số", "Tỷ lệ (%)", "Mục tiêu", "Đánh giá"]
    rows: list[list[object]] = [[report.unit_name, period, "Văn bản phát hành điện tử", report.issued, "", "", "", ""]]
    for figure in report.figures:
        percent = "" if figure.percent is None else f"{figure.percent:.1f}"
        rows.append(
            [
                report.unit_name,
                period,
                figure.label,
                figure.count,
                figure.total,
                percent,
                figure.target_text,
                figure.verdict,
            ]
        )
    for signer in report.idle_signers:
        who = f"{signer.full_name} ({signer.position})" if signer.position else signer.full_name
        rows.append(
            [
                report.unit_name,
                period,
                "Có chứng thư số còn hiệu lực nhưng không ký văn bản nào trong kỳ",
                who,
                "",
                "",
                "",
                f"Chứng thư số {signer.certificate_serial}",
            ]
        )
    return excel_csv(header, rows)
