"""Incoming documents: when they count as received, "Kiểm tra ký số" on arrival, the incoming register per
body and year, return to the sender, the head's direction, the recall, and urgent documents first.

The services are called with the test's session; signatures are made in software with the test PKI of
token_agent.demo (a trust anchor registered, as an administrator would).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlalchemy import func, select

from certsvc.accounts.models import Account, Role
from certsvc.audit.models import AuditEntry
from certsvc.config import ConfigError
from certsvc.core.workdays import WorkCalendar
from certsvc.documents import files
from certsvc.documents.incoming import (
    SENDER_ACTIONS,
    confirm_recall,
    counted_at,
    deliver,
    direct,
    get_incoming,
    incoming_list,
    receive_outside,
    register,
    registrable,
    return_to_sender,
)
from certsvc.documents.models import (
    DocumentEvent,
    DocumentRecipient,
    DocumentStatus,
    DocumentType,
    FileKind,
    IncomingDocument,
    IncomingStatus,
    NumberEntry,
    OutgoingDocument,
    Series,
    Urgency,
)
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.signature_report import signature_checks
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.policy import Permission
from certsvc.registry.models import TrustAnchor
from certsvc.timeutil import VIETNAM_TZ, utcnow
from tests.conftest import add_account, add_org
from token_agent.certs import to_asn1
from token_agent.demo import SIGNING_USAGE, make_draft, root_authority, vn_name
from token_agent.verification import SCHEMA

# -- counting per working hours --------------------------------------------------------------------

#: 2026-12-05 is a Saturday; the 7th, a Monday, is made a day off here (as an announced holiday would be), and
#: so is New Year's Day (a Friday). A fixed calendar: nothing else is off but weekends.
HOLIDAYS = frozenset({date(2026, 12, 7), date(2027, 1, 1)})
SETTINGS = DocumentSettings(calendar=WorkCalendar(holidays=HOLIDAYS, fixed=frozenset()))


def vn(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), VIETNAM_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("arrived", "counted"),
    [
        (vn(date(2026, 12, 3), 9, 30), vn(date(2026, 12, 3), 9, 30)),  # Thursday, in working hours
        (vn(date(2026, 12, 3), 6, 45), vn(date(2026, 12, 3), 8)),  # before the day's session
        (vn(date(2026, 12, 3), 17), vn(date(2026, 12, 4), 8)),  # at the end: the next morning
        (vn(date(2026, 12, 3), 23, 59), vn(date(2026, 12, 4), 8)),
        (vn(date(2026, 12, 4), 18), vn(date(2026, 12, 8), 8)),  # Friday evening, weekend, then the holiday
        (vn(date(2026, 12, 5), 10), vn(date(2026, 12, 8), 8)),  # Saturday
        (vn(date(2026, 12, 7), 10), vn(date(2026, 12, 8), 8)),  # on the holiday, in what would be hours
        (vn(date(2026, 12, 31), 20), vn(date(2027, 1, 4), 8)),  # New Year's Eve, the holiday, the weekend
    ],
)
def test_outside_working_hours_counts_from_the_next_working_session(arrived, counted):
    assert counted_at(arrived, SETTINGS) == counted


def test_working_hours_are_settings():
    late = DocumentSettings(work_day_start=time(7, 30), work_day_end=time(11, 30), calendar=SETTINGS.calendar)
    assert counted_at(vn(date(2026, 12, 3), 7, 40), late) == vn(date(2026, 12, 3), 7, 40)
    assert counted_at(vn(date(2026, 12, 3), 12), late) == vn(date(2026, 12, 4), 7, 30)
    assert DocumentSettings.from_config({"CERTSVC_WORK_DAY_START": "07:30"}).work_day_start == time(7, 30)
    assert DocumentSettings.from_config({}) == DocumentSettings()
    assert (DocumentSettings().work_day_start, DocumentSettings().work_day_end) == (time(8), time(17))


@pytest.mark.parametrize(
    "config",
    [
        {"CERTSVC_WORK_DAY_START": "8h"},
        {"CERTSVC_WORK_DAY_END": "24:00"},
        {"CERTSVC_WORK_DAY_START": "17:00"},  # not before the end
        {"CERTSVC_TARGET_HEAD_SIGNED_PERCENT": "120"},
        {"CERTSVC_TARGET_SIGNED_PERCENT": "0"},
    ],
)
def test_bad_document_settings_are_refused(config):
    with pytest.raises(ConfigError):
        DocumentSettings.from_config(config)


# -- a district with signed files --------------------------------------------------------------------


@dataclass
class District:
    committee: Organisation
    office: Organisation
    commune: Organisation
    clerk: Account
    head: Account
    officer: Account
    commune_clerk: Account
    doc_type: DocumentType
    signed_pdf: bytes


def _signed(pdf: bytes) -> tuple[bytes, TrustAnchor]:
    """``pdf`` signed in software by a person certified by a fresh test root, and that root as an anchor."""
    root = root_authority("Test Root CA (incoming)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = root.issue(vn_name("Nguyễn Văn Nơi Gửi", "CCCD:001234567890"), key.public_key(), usage=SIGNING_USAGE)
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=to_asn1(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(root.cert)]),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), signers.PdfSignatureMetadata(field_name="ChuKy"), signer=signer
    )
    root_der = root.cert.public_bytes(serialization.Encoding.DER)
    anchor = TrustAnchor(
        subject_dn=root.cert.subject.rfc4514_string(),
        sha256=hashlib.sha256(root_der).hexdigest(),
        der=root_der,
        not_after=root.cert.not_valid_after_utc,
    )
    return out.getvalue(), anchor


@pytest.fixture(scope="module")
def signed_pdf_and_anchor():
    return _signed(make_draft())


@pytest.fixture
def district(session, signed_pdf_and_anchor) -> District:
    signed_pdf, anchor = signed_pdf_and_anchor
    session.add(TrustAnchor(**{c: getattr(anchor, c) for c in ("subject_dn", "sha256", "der", "not_after")}))
    committee = add_org(session, None, "committee", "UBND huyện Văn Quan", "UBND", OrgKind.DISTRICT_COMMITTEE)
    office = add_org(session, None, "office", "Phòng Văn hóa và Thông tin", "VHTT", OrgKind.OFFICE, committee)
    commune = add_org(session, None, "commune", "UBND xã Tân Đoàn", "UBND", OrgKind.COMMUNE_COMMITTEE, committee)
    doc_type = session.scalars(select(DocumentType).where(DocumentType.abbreviation.is_(None))).first()
    district = District(
        committee=committee,
        office=office,
        commune=commune,
        clerk=add_account(session, "vanthu", committee, (Role.CLERK, committee)),
        head=add_account(session, "chutich", committee, (Role.UNIT_HEAD, committee), full_name="Chủ tịch"),
        officer=add_account(session, "chuyenvien", office, (Role.UNIT_OFFICER, office), full_name="Chuyên viên"),
        commune_clerk=add_account(session, "vanthuxa", commune, (Role.CLERK, commune)),
        doc_type=doc_type,
        signed_pdf=signed_pdf,
    )
    session.commit()
    return district


def receive(session, d: District, content: bytes, **values) -> IncomingDocument:
    fields = {"sender_name": "Sở Văn hóa, Thể thao và Du lịch", "summary": "V/v tổ chức lễ hội", **values}
    incoming = receive_outside(session, d.clerk, d.committee.id, fields, content, "cv-den.pdf", SETTINGS)
    session.commit()
    return incoming


def audit_count(session) -> int:
    return session.scalar(select(func.count(AuditEntry.seq))) or 0


# -- "Kiểm tra ký số" on arrival ------------------------------------------------------------------------


def test_a_signed_outside_document_is_checked_and_registered(session, district):
    incoming = receive(session, district, district.signed_pdf, urgency="urgent", original_number="12/SVHTTDL-QLVH")
    report = incoming.verification
    assert report["schema"] == SCHEMA
    assert report["verdict"] == "TOTAL_PASSED"
    (signature,) = report["signatures"]
    assert signature["signer"]["common_name"] == "Nguyễn Văn Nơi Gửi"
    assert signature["intact"] and signature["chain_trusted"] and not signature["revoked"]
    assert signature["modification"] == "none"
    assert incoming.status is IncomingStatus.RECEIVED and registrable(incoming)
    assert files.store(session, district.signed_pdf) == incoming.sha256

    register(session, district.clerk, incoming)
    session.commit()
    assert incoming.status is IncomingStatus.REGISTERED
    assert (incoming.arrival_year, incoming.arrival_number) == (incoming.counted_at.astimezone(VIETNAM_TZ).year, 1)
    assert [event.action for event in incoming.events] == ["receive", "register"]


def test_a_file_without_signature_is_indeterminate_and_cannot_be_registered(session, district):
    incoming = receive(session, district, make_draft())
    assert incoming.verification["verdict"] == "INDETERMINATE"
    assert incoming.verification["signatures"] == []
    assert not registrable(incoming)
    before = audit_count(session)

    with pytest.raises(Conflict) as refused:
        register(session, district.clerk, incoming)
    session.rollback()
    assert refused.value.code == "signature_invalid"
    assert "không có chữ ký số" in refused.value.message
    session.refresh(incoming)
    assert incoming.status is IncomingStatus.RECEIVED and incoming.arrival_number is None
    assert audit_count(session) == before

    with pytest.raises(ValidationFailed) as no_reason:
        return_to_sender(session, district.clerk, incoming, "  ")
    assert "comment" in no_reason.value.field_errors
    session.rollback()
    return_to_sender(session, district.clerk, incoming, "Văn bản không có chữ ký số, đề nghị gửi lại bản đã ký.")
    session.commit()
    assert incoming.status is IncomingStatus.RETURNED
    assert incoming.return_reason == "Văn bản không có chữ ký số, đề nghị gửi lại bản đã ký."
    assert audit_count(session) == before + 1
    with pytest.raises(Conflict):
        register(session, district.clerk, incoming)


def test_an_altered_signed_file_is_total_failed_and_cannot_be_registered(session, district):
    # The producer's name in the signed revision's /Info, changed in place: the file still reads.
    altered = district.signed_pdf.replace(b"ReportLab", b"ReportLAB", 1)
    assert altered != district.signed_pdf
    incoming = receive(session, district, altered)
    assert incoming.verification["verdict"] == "TOTAL_FAILED"
    with pytest.raises(Conflict, match="không hợp lệ"):
        register(session, district.clerk, incoming)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a pdf at all",
        b"%PDF-1.7\n" + b"\x00garbage" * 100,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_a_hostile_file_is_refused_with_a_reason_and_nothing_is_kept(session, district, content):
    before = audit_count(session)
    with pytest.raises(ValidationFailed) as refused:
        receive(session, district, content)
    session.rollback()
    assert refused.value.field_errors["file"]
    assert session.scalar(select(func.count(IncomingDocument.id))) == 0
    assert audit_count(session) == before


def encrypted(user_password: bytes) -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(make_draft())))
    writer.encrypt(b"owner-only", user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_file_opens_with_an_empty_password_or_is_refused_clearly(session, district):
    # Exported "restrict editing" (owner password, empty user password): read and checked.
    restricted = receive(session, district, encrypted(b""))
    assert restricted.verification["verdict"] == "INDETERMINATE"
    with pytest.raises(ValidationFailed) as refused:
        receive(session, district, encrypted(b"mat-khau"))
    assert "mật khẩu" in refused.value.field_errors["file"]


def test_the_check_reads_per_signature(session, district):
    (passed,) = signature_checks(receive(session, district, district.signed_pdf).verification)
    assert (passed.field_name, passed.verdict, passed.reason, passed.tone) == ("ChuKy", "TOTAL_PASSED", None, "ok")
    assert passed.signer == "Nguyễn Văn Nơi Gửi (CCCD:001234567890)"
    assert passed.organisation == "UBND huyện Văn Quan" and not passed.is_timestamp
    assert passed.intact and passed.chain_trusted and not passed.revoked and passed.changes == "Không thay đổi"
    assert passed.signing_time is not None and passed.signing_time.tzinfo is not None

    altered = district.signed_pdf.replace(b"ReportLab", b"ReportLAB", 1)
    (failed,) = signature_checks(receive(session, district, altered).verification)
    assert (failed.verdict, failed.tone, failed.intact) == ("TOTAL_FAILED", "bad", False)
    assert failed.reason == "Nội dung văn bản đã bị sửa sau khi ký."
    assert signature_checks(receive(session, district, make_draft()).verification) == []


def test_only_the_receiving_bodys_clerk_receives_and_registers(session, district):
    with pytest.raises(PermissionDenied):
        receive_outside(
            session,
            district.commune_clerk,
            district.committee.id,
            {"sender_name": "X", "summary": "Y"},
            district.signed_pdf,
            "x.pdf",
            SETTINGS,
        )
    session.rollback()
    incoming = receive(session, district, district.signed_pdf)
    with pytest.raises(PermissionDenied):
        register(session, district.commune_clerk, incoming)
    with pytest.raises(NotFound):
        get_incoming(session, district.commune_clerk, incoming.id)
    with pytest.raises(PermissionDenied):
        get_incoming(session, district.head, incoming.id, Permission.RECEIVE_DOCUMENTS)


def test_what_the_document_carries_is_checked(session, district):
    with pytest.raises(ValidationFailed) as refused:
        receive_outside(
            session,
            district.clerk,
            district.committee.id,
            {"sender_name": "", "summary": "x" * 501, "urgency": "very", "original_date": "31/02/2026"},
            district.signed_pdf,
            "x.pdf",
            SETTINGS,
        )
    assert set(refused.value.field_errors) == {"sender_name", "summary", "urgency", "original_date"}


# -- the incoming register ---------------------------------------------------------------------------------


def _arrived(session, d: District, body: Organisation, at: datetime, urgency=Urgency.NORMAL) -> IncomingDocument:
    """An incoming document as a check found it valid, arrived at ``at``."""
    valid = {
        "schema": SCHEMA,
        "verdict": "TOTAL_PASSED",
        "signatures": [{"kind": "signature", "verdict": "TOTAL_PASSED"}],
    }
    incoming = IncomingDocument(
        receiving_body_id=body.id,
        sender_name="Sở Nội vụ",
        summary=f"Văn bản đến lúc {at:%d/%m/%Y %H:%M}",
        urgency=urgency,
        verification=valid,
        arrived_at=at,
        counted_at=counted_at(at, SETTINGS),
    )
    session.add(incoming)
    session.commit()
    return incoming


def test_arrival_numbers_run_per_body_and_year(session, district):
    d = district
    commune_docs = [_arrived(session, d, d.commune, vn(date(2026, 12, 3), 9)) for _ in range(2)]
    first, second = (_arrived(session, d, d.committee, vn(date(2026, 12, 3), 9 + hour)) for hour in range(2))
    # Arrived on New Year's Eve after hours: counted on 4 January 2027, in the new year's register.
    new_year = _arrived(session, d, d.committee, vn(date(2026, 12, 31), 20))

    for incoming in (second, new_year, first):
        register(session, d.clerk, incoming)
        session.commit()
    for incoming in commune_docs:
        register(session, d.commune_clerk, incoming)
        session.commit()

    assert (second.arrival_year, second.arrival_number) == (2026, 1)
    assert (first.arrival_year, first.arrival_number) == (2026, 2)
    assert (new_year.arrival_year, new_year.arrival_number) == (2027, 1)
    assert [(i.arrival_year, i.arrival_number) for i in commune_docs] == [(2026, 1), (2026, 2)]
    with pytest.raises(Conflict) as again:
        register(session, d.clerk, first)
    assert again.value.code == "already_changed"


def test_urgent_documents_come_first_then_the_newest(session, district):
    d = district
    day = date(2026, 12, 3)
    old_ordinary = _arrived(session, d, d.committee, vn(day, 8))
    new_ordinary = _arrived(session, d, d.committee, vn(day, 10))
    urgent = _arrived(session, d, d.committee, vn(day, 9), Urgency.URGENT)
    flash = _arrived(session, d, d.committee, vn(day, 8, 30), Urgency.FLASH)
    very_urgent = _arrived(session, d, d.committee, vn(day, 11), Urgency.VERY_URGENT)
    _arrived(session, d, d.commune, vn(day, 12), Urgency.FLASH)  # another body's: not listed

    listed = session.scalars(incoming_list(session, d.clerk)).all()
    assert listed == [flash, very_urgent, urgent, new_ordinary, old_ordinary]
    waiting = incoming_list(session, d.clerk, status=IncomingStatus.REGISTERED)
    assert session.scalars(waiting).all() == []


# -- direction ------------------------------------------------------------------------------------------


def test_only_the_head_directs_a_registered_document(session, district):
    d = district
    incoming = _arrived(session, d, d.committee, vn(date(2026, 12, 3), 9))
    deadline = (utcnow() + timedelta(days=7)).astimezone(VIETNAM_TZ).date()
    with pytest.raises(Conflict):
        direct(session, d.head, incoming, d.officer.person_id, deadline.isoformat(), "Xử lý")
    register(session, d.clerk, incoming)
    session.commit()
    for not_head in (d.clerk, d.officer, d.commune_clerk):
        with pytest.raises(PermissionDenied):
            direct(session, not_head, incoming, d.officer.person_id, deadline.isoformat(), "Xử lý")

    elsewhere = add_org(session, None, "dept", "Sở Nội vụ tỉnh Lạng Sơn", "SNV", OrgKind.AGENCY)
    outsider = add_account(session, "snv", elsewhere).person
    with pytest.raises(ValidationFailed) as refused:
        direct(session, d.head, incoming, outsider.id, "01/01/2020", "Xử lý")
    assert set(refused.value.field_errors) == {"handler_id", "handle_by"}

    direct(session, d.head, incoming, str(d.officer.person_id), deadline.isoformat(), "Phòng VHTT chủ trì, báo cáo.")
    session.commit()
    assert incoming.handler_id == d.officer.person_id and incoming.handle_by == deadline
    assert incoming.direction == "Phòng VHTT chủ trì, báo cáo."
    assert incoming.events[-1].action == "direct"
    # The officer directed to handle it sees it, although he holds no role at the committee.
    assert get_incoming(session, d.officer, incoming.id) is incoming
    assert session.scalars(incoming_list(session, d.officer)).all() == [incoming]


# -- documents of the service: delivery, the sender's timeline, recall -----------------------------------


def test_a_sent_document_arrives_and_its_sender_sees_the_answers(session, district):
    d = district
    signer = session.get(Person, d.head.person_id)
    doc = OutgoingDocument(
        status=DocumentStatus.SENT,
        issuing_body_id=d.committee.id,
        drafting_unit_id=d.office.id,
        document_type=d.doc_type,
        summary="V/v hướng dẫn ký số văn bản",
        urgency=Urgency.URGENT,
        signer=signer,
        authority_lines="CHỦ TỊCH",
    )
    entry = NumberEntry(
        issuing_body_id=d.committee.id,
        year=2026,
        series=Series.OUTGOING,
        number=7,
        symbol="07/UBND-VHTT",
        issue_date=date(2026, 12, 3),
    )
    doc.number_entry = entry
    doc.recipients = [DocumentRecipient(organisation_id=d.commune.id), DocumentRecipient(organisation_id=d.office.id)]
    session.add(doc)
    session.flush()
    files.add_version(session, d.clerk, doc, FileKind.ISSUED, d.signed_pdf, "07-UBND-VHTT.pdf")
    session.commit()

    delivered = deliver(session, d.clerk, doc, SETTINGS)
    session.commit()
    assert sorted(i.receiving_body_id for i in delivered) == sorted([d.commune.id, d.office.id])
    to_commune = next(i for i in delivered if i.receiving_body_id == d.commune.id)
    assert to_commune.status is IncomingStatus.RECEIVED and to_commune.outgoing_id == doc.id
    assert (to_commune.original_number, to_commune.original_date) == ("07/UBND-VHTT", date(2026, 12, 3))
    assert to_commune.urgency is Urgency.URGENT and to_commune.sha256 == files.latest(doc, FileKind.ISSUED).sha256
    assert to_commune.verification["verdict"] == "TOTAL_PASSED"

    register(session, d.commune_clerk, to_commune)
    session.commit()
    to_office = next(i for i in delivered if i.receiving_body_id == d.office.id)
    office_clerk = add_account(session, "vanthuphong", d.office, (Role.CLERK, d.office))
    return_to_sender(session, office_clerk, to_office, "Không thuộc thẩm quyền của Phòng.")
    session.commit()
    answers = session.scalars(select(DocumentEvent).where(DocumentEvent.document_id == doc.id)).all()
    assert [(e.action, e.to_status) for e in answers] == [
        ("recipient_registered", DocumentStatus.SENT),
        ("recipient_returned", DocumentStatus.SENT),
    ]
    assert "UBND xã Tân Đoàn" in answers[0].comment and "Không thuộc thẩm quyền" in answers[1].comment
    assert {e.action for e in answers} <= set(SENDER_ACTIONS)

    with pytest.raises(Conflict) as not_recalled:
        confirm_recall(session, d.commune_clerk, to_commune)
    assert not_recalled.value.code == "not_recalled"
    session.rollback()
    doc.status, doc.recalled_at, doc.recall_reason = DocumentStatus.RECALLED, utcnow(), "Ban hành nhầm"
    session.commit()
    confirm_recall(session, d.commune_clerk, to_commune)
    session.commit()
    assert to_commune.recall_confirmed_at is not None and to_commune.status is IncomingStatus.REGISTERED
    with pytest.raises(Conflict):
        confirm_recall(session, d.commune_clerk, to_commune)
    actions = session.scalars(
        select(DocumentEvent.action).where(DocumentEvent.document_id == doc.id).order_by(DocumentEvent.id)
    ).all()
    assert actions == ["recipient_registered", "recipient_returned", "recipient_confirmed_recall"]
