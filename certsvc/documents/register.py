"""The number registers (sổ đăng ký văn bản): one series per body, year and kind, numbered from 1 each
1 January; a number given is never given again, and one abandoned stays in the register marked as such.

Numbers come from :class:`NumberCounter` rows, incremented with one UPDATE … RETURNING: two clerks at the same
moment queue on the row and get consecutive numbers, without a gap or a duplicate, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.records import get_record
from certsvc.core.transitions import busy_as_conflict, clean_comment
from certsvc.core.validation import FieldError, clean_day
from certsvc.documents.access import MISSING
from certsvc.documents.drafting import clean_document_values
from certsvc.documents.models import (
    DocumentEvent,
    DocumentType,
    NumberCounter,
    NumberEntry,
    NumberState,
    OutgoingDocument,
    Series,
)
from certsvc.documents.transitions import Action, apply_transition, check_transition
from certsvc.errors import Conflict, NotFound, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.policy import Permission, can
from certsvc.timeutil import to_vietnam, utcnow

__all__ = [
    "vietnam_today",
    "series_of",
    "next_number",
    "symbol_for",
    "take_number",
    "abandon_number",
    "register_paper",
    "FIRST_BOOK_YEAR",
    "book_problems",
    "register_book",
    "documents_of",
]

#: The register's column for an abandoned number's reason.
_MAX_REASON = 500

#: The first year a register can be asked for: before it no office kept one here.
FIRST_BOOK_YEAR = 2000


def vietnam_today() -> date:
    """Today's date in Vietnam: a document's issue date, and the year of its register."""
    return to_vietnam(utcnow()).date()


def series_of(doc: OutgoingDocument) -> Series:
    """Secret documents are numbered apart from the others."""
    return Series.OUTGOING_SECRET if doc.secrecy.paper_only else Series.OUTGOING


def next_number(session: Session, organisation_id: int, year: int, series: Series) -> int:
    """The next number of ``organisation_id``'s ``series`` in ``year`` (1 for the first), taken now.

    The counter row is created when missing (a concurrent creation does nothing), then incremented with
    one UPDATE that returns the new value: the row stays locked until the caller's transaction ends, so
    concurrent takers wait and each gets the next number; a rollback gives the number back.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    key = {"organisation_id": organisation_id, "year": year, "series": series}
    counter = NumberCounter
    with busy_as_conflict("Sổ đang được người khác lấy số. Thử lại sau giây lát."):
        session.execute(insert(counter).values(**key, last_number=0).on_conflict_do_nothing())
        taken = session.execute(
            update(counter)
            .where(counter.organisation_id == organisation_id, counter.year == year, counter.series == series)
            .values(last_number=counter.last_number + 1)
            .returning(counter.last_number)
            .execution_options(synchronize_session=False)
        )
        return taken.scalar_one()


def symbol_for(
    document_type: DocumentType, issuing_body: Organisation, drafting_unit: Organisation, number: int
) -> str:
    """Số và ký hiệu: ``12/QĐ-UBND`` for a named type, ``193/UBND-VHTT`` for a công văn drafted by an office
    of the body, ``05/UBND`` for one drafted by the body itself; numbers below 10 with a leading zero."""
    if not document_type.is_dispatch:
        return f"{number:02d}/{document_type.abbreviation}-{issuing_body.symbol}"
    if drafting_unit.id == issuing_body.id:
        return f"{number:02d}/{issuing_body.symbol}"
    return f"{number:02d}/{issuing_body.symbol}-{drafting_unit.symbol}"


def _enter(session: Session, by: Account, doc: OutgoingDocument, day: date) -> NumberEntry:
    """A new line of the register for ``doc``, dated ``day``, with the next number of its series."""
    series = series_of(doc)
    number = next_number(session, doc.issuing_body_id, day.year, series)
    entry = NumberEntry(
        issuing_body_id=doc.issuing_body_id,
        year=day.year,
        series=series,
        number=number,
        symbol=symbol_for(doc.document_type, doc.issuing_body, doc.drafting_unit, number),
        issue_date=day,
        state=NumberState.TAKEN,
        taken_by_id=by.id,
        taken_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    doc.number_entry = entry
    return entry


def _entry_details(entry: NumberEntry) -> dict[str, object]:
    return {
        "number_entry_id": entry.id,
        "series": entry.series.value,
        "number": entry.number,
        "symbol": entry.symbol,
        "issue_date": entry.issue_date.isoformat(),
    }


def take_number(session: Session, by: Account, doc: OutgoingDocument) -> NumberEntry:
    """The clerk takes the next number of the issuing body's register for a signed document; the issue date
    is today (Vietnam), and the year of the register is its year.

    Refused unless the approval was signed today: the organisation's signature, on the issue date, must
    follow the leader's on the same day (a document approved earlier is returned to be signed again).
    """
    check_transition(session, by, doc, Action.TAKE_NUMBER)
    today = vietnam_today()
    if doc.approved_at is None or to_vietnam(doc.approved_at).date() != today:
        raise Conflict(
            "Chỉ lấy số cho văn bản được ký duyệt trong ngày hôm nay; trả lại để người ký ký duyệt lại.",
            code="approval_not_today",
        )
    entry = _enter(session, by, doc, today)
    apply_transition(session, by, doc, Action.TAKE_NUMBER, details=_entry_details(entry))
    return entry


def abandon_number(session: Session, by: Account, doc: OutgoingDocument, reason: str | None) -> NumberEntry:
    """Give up the number a document took (it goes back to "signed" and may take another): the number is
    not given again, and stays in the register as abandoned with ``reason``."""
    check_transition(session, by, doc, Action.ABANDON_NUMBER)
    text = clean_comment(reason, required=True)
    if text is not None and len(text) > _MAX_REASON:
        raise ValidationFailed({"comment": f"Lý do dài quá {_MAX_REASON} ký tự."})
    entry = doc.number_entry
    if entry is None:  # a numbered document always has its entry; the schema cannot say so
        raise RuntimeError(f"document {doc.id} is numbered without a register entry")
    entry.state = NumberState.ABANDONED
    entry.abandon_reason = text
    doc.number_entry = None
    apply_transition(session, by, doc, Action.ABANDON_NUMBER, text, details=_entry_details(entry))
    return entry


def register_paper(session: Session, by: Account, values: Mapping[str, object]) -> OutgoingDocument:
    """Enter a secret document, issued on paper, in the issuing body's secret series: its register entry only
    (number, date, summary as the clerk writes it, recipients, signer), status "paper", never a file.

    ``values`` are the drafting values (:func:`certsvc.documents.drafting.clean_document_values`) with
    ``issuing_body_id`` (where the clerk holds ISSUE_DOCUMENTS), ``drafting_unit_id`` (the body or one of its
    units; the body when empty), a secrecy other than "thường", and ``issue_date`` (today when empty, never
    later).
    """
    body = get_record(session, Organisation, values.get("issuing_body_id"), "Không có cơ quan ban hành này.")
    if not can(session, by, Permission.ISSUE_DOCUMENTS, body.id):
        raise NotFound("Không có cơ quan ban hành này.")
    unit = body
    if values.get("drafting_unit_id") not in (None, ""):
        unit = get_record(session, Organisation, values.get("drafting_unit_id"), "Không có đơn vị soạn thảo này.")
    cleaned, collector = clean_document_values(session, unit, values)
    today = vietnam_today()
    try:
        day = clean_day(values.get("issue_date")) or today
        if day > today:
            raise FieldError("Ngày ban hành không được sau hôm nay.")
    except FieldError as error:
        collector.fail("issue_date", str(error))
    if cleaned.secrecy is not None and not cleaned.secrecy.paper_only:
        collector.fail("secrecy", "Chỉ vào sổ bản giấy văn bản mật; văn bản thường phát hành điện tử.")
    collector.raise_if_failed()
    doc = cleaned.new_document(unit)
    entry = _enter(session, by, doc, day)
    entry.state = NumberState.USED
    apply_transition(session, by, doc, Action.REGISTER_PAPER, details=_entry_details(entry))
    return doc


def book_problems(year: int, series: Series) -> dict[str, str]:
    """What is wrong with asking for the outgoing register of ``year`` and ``series``, by field: a year from
    :data:`FIRST_BOOK_YEAR` to next year (a register opens on 1 January), and an outgoing series (the incoming
    register has its own page)."""
    problems = {}
    last = vietnam_today().year + 1
    if not FIRST_BOOK_YEAR <= year <= last:
        problems["year"] = f"Năm của sổ phải từ {FIRST_BOOK_YEAR} đến {last}."
    if series is Series.INCOMING:
        problems["series"] = "Đây là sổ văn bản đi; sổ văn bản đến ở trang văn bản đến."
    return problems


def register_book(
    session: Session, by: Account, organisation_id: object, year: int, series: Series
) -> list[NumberEntry]:
    """The lines of ``organisation_id``'s register of ``series`` in ``year``, by number (abandoned ones too);
    a year or series :func:`book_problems` refuses raises ValidationFailed."""
    if problems := book_problems(year, series):
        raise ValidationFailed(problems)
    body = get_record(session, Organisation, organisation_id, MISSING)
    if not can(session, by, Permission.VIEW_DOCUMENTS, body.id):
        raise NotFound(MISSING)
    return list(
        session.scalars(
            select(NumberEntry)
            .where(NumberEntry.issuing_body_id == body.id, NumberEntry.year == year, NumberEntry.series == series)
            .order_by(NumberEntry.number)
        )
    )


def documents_of(session: Session, entries: list[NumberEntry]) -> dict[int, OutgoingDocument]:
    """Each entry's document by entry id: the one holding the number, or for an abandoned number the one that
    gave it up (named by its ``abandon_number`` event)."""
    ids = [entry.id for entry in entries]
    found = {
        doc.number_entry_id: doc
        for doc in session.scalars(select(OutgoingDocument).where(OutgoingDocument.number_entry_id.in_(ids)))
        if doc.number_entry_id is not None
    }
    abandoned = {entry.id for entry in entries if entry.id not in found}
    if abandoned:
        body_ids = {entry.issuing_body_id for entry in entries}
        for event in session.scalars(
            select(DocumentEvent)
            .join(OutgoingDocument)
            .where(DocumentEvent.action == Action.ABANDON_NUMBER, OutgoingDocument.issuing_body_id.in_(body_ids))
        ):
            entry_id = (event.details or {}).get("number_entry_id")
            if entry_id in abandoned:
                found[entry_id] = event.document
    return found
