"""The seeds' targets report on a small hand-made register: each figure, its red or green state, the people
who signed nothing, the CSV, and the refusal of a bad period or of someone without the report's permission."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.documents.models import DocumentStatus, DocumentType, NumberEntry, OutgoingDocument, Secrecy, Series
from certsvc.documents.report import Figure, clean_period, report_csv, unit_report
from certsvc.documents.settings import DocumentSettings
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import OrgKind
from certsvc.people.models import Person
from certsvc.registry.models import Certificate, TokenKind
from certsvc.timeutil import VIETNAM_TZ
from tests.conftest import add_account, add_org

START, END = date(2026, 10, 1), date(2026, 12, 31)
SETTINGS = DocumentSettings()
_serials = count(1)


def vn(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), VIETNAM_TZ).astimezone(UTC)


def certificate(session, person: Person, kind=TokenKind.PERSONAL, **fields) -> Certificate:
    serial = next(_serials)
    values = {
        "not_before": vn(date(2026, 1, 1)),
        "not_after": vn(date(2028, 1, 1)),
        **fields,
    }
    cert = Certificate(
        serial_hex=f"{serial:04X}",
        subject_dn=f"CN={person.full_name}",
        subject_cn=person.full_name,
        issuer_dn="CN=Test CA",
        sha1=f"{serial:040x}",
        sha256=f"{serial:064x}",
        der=b"test",
        kind=kind,
        organisation_id=person.organisation_id,
        holder_id=person.id,
        **values,
    )
    session.add(cert)
    session.flush()
    return cert


@pytest.fixture
def register(session):
    """UBND huyện's register in the last quarter of 2026.

    Electronic, in the period: four signed by the chairman (the unit head), one by a vice-chairman; one of
    the chairman's lacks the organisation signature. Outside the counts: one issued before the period, one
    still waiting for its number, one of the commune. Paper (secret): fifteen registered in the period, one
    before it. People: a second vice-chairman with a valid certificate who signed nothing (listed); one whose
    certificate expired before the period, one revoked before it, one entered in error (not listed).
    """
    committee = add_org(session, None, "committee", "UBND huyện Văn Quan", "UBND", OrgKind.DISTRICT_COMMITTEE)
    office = add_org(session, None, "office", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, committee)
    commune = add_org(session, None, "commune", "UBND xã Tân Đoàn", "UBND", OrgKind.COMMUNE_COMMITTEE, committee)
    chairman = add_account(session, "chutich", committee, (Role.UNIT_HEAD, committee), full_name="Hoàng Văn Chủ")
    vice = add_account(session, "phochutich", committee, full_name="Lê Thị Phó").person
    idle = add_account(session, "phochutich2", committee, full_name="Nông Văn Nhàn").person
    expired = add_account(session, "hethan", committee, full_name="Vi Văn Hết").person
    revoked = add_account(session, "thuhoi", committee, full_name="Lục Văn Thu").person
    in_error = add_account(session, "nham", committee, full_name="Đinh Văn Nhầm").person
    commune_head = add_account(session, "chutichxa", commune, (Role.UNIT_HEAD, commune), full_name="Chủ tịch xã")
    add_account(session, "vanthu", committee, (Role.CLERK, committee))
    add_account(session, "thamdinh", office, (Role.REVIEWER, office))
    add_account(session, "dauMoi", office, (Role.FOCAL_OFFICER, office))
    committee.focal_office = office

    head_cert = certificate(session, chairman.person)
    vice_cert = certificate(session, vice)
    certificate(session, idle)
    certificate(session, idle, not_after=vn(date(2029, 1, 1)))  # renewed: listed once
    certificate(session, idle, kind=TokenKind.ORGANISATION)
    certificate(session, expired, not_after=vn(date(2026, 9, 30)))
    certificate(session, revoked, revoked_at=vn(date(2026, 9, 1)))
    certificate(session, in_error, entered_in_error_at=vn(date(2026, 2, 1)))
    seal = certificate(session, chairman.person, kind=TokenKind.ORGANISATION)
    commune_cert = certificate(session, commune_head.person)
    doc_type = session.scalars(select(DocumentType).where(DocumentType.abbreviation.is_(None))).first()
    numbers = count(1)

    def document(status, issued: date | None, body=committee, personal=head_cert, organisation=seal, **fields):
        day = issued or START
        entry = NumberEntry(
            issuing_body_id=body.id,
            year=day.year,
            series=Series.OUTGOING_SECRET if status is DocumentStatus.PAPER else Series.OUTGOING,
            number=next(numbers),
            symbol="x",
            issue_date=day,
        )
        doc = OutgoingDocument(
            status=status,
            issuing_body_id=body.id,
            drafting_unit_id=office.id if body is committee else body.id,
            document_type=doc_type,
            summary="Văn bản thử",
            signer_id=(personal.holder_id if personal else chairman.person_id),
            authority_lines="CHỦ TỊCH",
            number_entry=entry,
            personal_certificate=personal if status is not DocumentStatus.PAPER else None,
            organisation_certificate=organisation if status is not DocumentStatus.PAPER else None,
            approved_at=vn(day, 9) if status is not DocumentStatus.PAPER else None,
            issued_at=vn(day) if issued and status is not DocumentStatus.PAPER else None,
            **fields,
        )
        session.add(doc)

    document(DocumentStatus.SENT, date(2026, 10, 5))
    document(DocumentStatus.ISSUED, date(2026, 11, 20))
    document(DocumentStatus.RECALLED, date(2026, 12, 31))
    document(DocumentStatus.SENT, date(2026, 12, 1), organisation=None)
    document(DocumentStatus.SENT, date(2026, 10, 1), personal=vice_cert)
    document(DocumentStatus.SENT, date(2026, 9, 30))  # before the period
    document(DocumentStatus.SIGNED, None)  # approved in the period, not issued
    document(DocumentStatus.SENT, date(2026, 11, 2), body=commune, personal=commune_cert, organisation=None)
    for _ in range(15):
        document(DocumentStatus.PAPER, date(2026, 11, 3), secrecy=Secrecy.SECRET)
    document(DocumentStatus.PAPER, date(2026, 1, 3), secrecy=Secrecy.SECRET)
    session.commit()
    return {"committee": committee, "commune": commune, "chairman": chairman, "idle": idle}


def account(session, username):
    from certsvc.accounts.models import Account

    return session.scalars(select(Account).where(Account.username == username)).one()


def test_the_figures_of_a_hand_made_register(session, register):
    report = unit_report(session, account(session, "chutich"), register["committee"].id, START, END, SETTINGS)
    assert report.issued == 5
    both = report.both_signatures
    assert (both.count, both.total, both.percent, both.met, both.tone) == (4, 5, 80.0, False, "bad")
    head = report.head_signed
    # 4 of 5 by the chairman (the one without the seal carries his signature too): 80% is not above 80%.
    assert (head.count, head.total, head.percent, head.met, head.tone) == (4, 5, 80.0, False, "bad")
    leadership = report.leadership_digital
    assert leadership is not None
    assert (leadership.count, leadership.total, leadership.percent) == (4, 20, 20.0)
    assert leadership.tone == "bad"  # "trên 20%": exactly 20% is not enough
    assert [signer.full_name for signer in report.idle_signers] == ["Nông Văn Nhàn"]
    assert report.idle_signers[0].not_after == vn(date(2029, 1, 1))
    data = report.as_dict()
    assert data["issued_electronically"] == 5 and data["head_signed"]["met"] is False


def test_a_figure_meets_its_target_green(session, register):
    settings = DocumentSettings(target_signed_percent=80, target_head_signed_percent=75)
    report = unit_report(session, account(session, "chutich"), register["committee"].id, START, END, settings)
    assert report.both_signatures.tone == "ok"  # 80% reaches a target of 80%
    assert report.head_signed.tone == "ok"  # 80% is above 75%


def test_a_unit_below_the_leadership_and_an_empty_period(session, register):
    commune_report = unit_report(session, account(session, "chutichxa"), register["commune"].id, START, END, SETTINGS)
    assert commune_report.leadership_digital is None
    assert (commune_report.issued, commune_report.both_signatures.count) == (1, 0)
    assert commune_report.head_signed.tone == "ok"  # the commune's chairman signed its one document

    empty = unit_report(
        session, account(session, "chutich"), register["committee"].id, date(2025, 1, 1), date(2025, 1, 31), SETTINGS
    )
    assert empty.issued == 0
    assert (empty.both_signatures.percent, empty.both_signatures.met, empty.both_signatures.tone) == (None, None, "")


def test_who_sees_the_report(session, register):
    committee = register["committee"].id
    for username in ("chutich", "dauMoi"):
        unit_report(session, account(session, username), committee, START, END, SETTINGS)
    for username in ("vanthu", "thamdinh", "chutichxa"):
        with pytest.raises(PermissionDenied):
            unit_report(session, account(session, username), committee, START, END, SETTINGS)
    with pytest.raises(NotFound):
        unit_report(session, account(session, "chutich"), 999_999_999_999, START, END, SETTINGS)


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({}, {"from", "to"}),
        ({"from": "2026-12-31", "to": "2026-01-01"}, {"to"}),
        ({"from": "2025-01-01", "to": "2026-01-02"}, {"to"}),
        ({"from": "31/02/2026", "to": "1800-01-01"}, {"from", "to"}),
        ({"from": "2026-01-01", "to": "soon"}, {"to"}),
    ],
)
def test_a_bad_period_is_refused(values, fields):
    with pytest.raises(ValidationFailed) as refused:
        clean_period(values)
    assert set(refused.value.field_errors) == fields


def test_a_period_is_both_days_included_up_to_a_leap_year():
    assert clean_period({"from": "01/01/2028", "to": "31/12/2028"}) == (date(2028, 1, 1), date(2028, 12, 31))
    assert clean_period({"from": "2026-12-06", "to": "2026-12-06"}) == (date(2026, 12, 6), date(2026, 12, 6))


def test_the_csv_opens_in_excel(session, register):
    report = unit_report(session, account(session, "chutich"), register["committee"].id, START, END, SETTINGS)
    data = report_csv(report)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row["Chỉ tiêu"] for row in rows][:4] == [
        "Văn bản phát hành điện tử",
        report.both_signatures.label,
        report.head_signed.label,
        report.leadership_digital.label,
    ]
    assert rows[1]["Số lượng"] == "4" and rows[1]["Tỷ lệ (%)"] == "80.0" and rows[1]["Đánh giá"] == "Chưa đạt"
    assert rows[2]["Mục tiêu"] == "trên 80%"
    assert rows[-1]["Số lượng"] == "Nông Văn Nhàn (Chuyên viên)"
    assert {row["Kỳ báo cáo"] for row in rows} == {"01/10/2026 – 31/12/2026"}


def test_a_figure_compares_in_whole_numbers():
    assert Figure("x", 4, 5, 80, strictly_above=False).met is True
    assert Figure("x", 1, 3, 33, strictly_above=True).met is True
    assert Figure("x", 0, 0, 20, strictly_above=True).met is None


def test_the_period_bound_is_inclusive_in_vietnam_time(session, register):
    # The document issued on 31/12/2026 at 10:00 in Vietnam is 03:00 UTC; a day later it is outside.
    report = unit_report(
        session, account(session, "chutich"), register["committee"].id, END, END + timedelta(days=1), SETTINGS
    )
    assert report.issued == 1
