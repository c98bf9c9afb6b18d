"""Inputs that used to give a 500: huge ids, digits ``int`` refuses, far dates, malformed certificates,
control characters. Each is refused with a message (or shown without crashing) and writes nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.custody.models import CustodyEvent, Handover
from certsvc.errors import ValidationFailed
from certsvc.registry import expiry, registration
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.demo import issue_test_certificate
from certsvc.registry.models import Certificate, TokenKind
from certsvc.requests.models import CertificateRequest, RequestStatus
from certsvc.requests.service import create_draft
from certsvc.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.support.api import Api
from tests.support.custody import handover_form
from tests.support.registry import ISSUER, TESTER, add_certificate, der, next_serial, registry_counts
from tests.support.requests import bring_to, counts, draft, focal, individual, officer

HUGE = 2**63
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def signed_in(make_browser, username: str):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _certificate(
    subject: list[x509.NameAttribute],
    *,
    serial: int = 0x5A17,
    key_usage: bytes | None = None,
    not_after: datetime | None = None,
) -> bytes:
    """A subscriber certificate (DER) from the test issuing CA, with what a broken or hostile CA might put in."""
    now = utcnow()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ISSUER.cert.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=700))
    )
    if key_usage is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, key_usage), critical=True)
    return builder.sign(ISSUER.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _name(cn: str = "Nguyễn Văn An", **others: str) -> list[x509.NameAttribute]:
    oids = {"o": NameOID.ORGANIZATION_NAME, "ou": NameOID.ORGANIZATIONAL_UNIT_NAME}
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    attrs += [x509.NameAttribute(oids[key], value, _validate=False) for key, value in others.items()]
    return [*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn, _validate=False)]


def _upload(org, file_bytes: bytes) -> dict:
    return {
        "organisation_id": str(org.id),
        "kind": "device",
        "holder_id": "",
        "token_serial": "",
        "predecessor_id": "",
        "file": (io.BytesIO(file_bytes), "chungthu.cer"),
    }


# --- 13. ids past the database's integer ----------------------------------------------------------


def _with_id(rule: str, number: int) -> str:
    """``rule`` with ``number`` for each id, and the other arguments (a name, an action) as their names."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"\1", re.sub(r"<int:\w+>", str(number), rule))


def test_every_route_with_an_id_answers_404_for_numbers_past_bigint(app, world, make_browser):
    browser = signed_in(make_browser, world.account(Role.FOCAL_OFFICER).username)
    rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert {"custody.view_token", "api_tokens.revoke_token", "orgs.view_org"} <= {rule.endpoint for rule in rules}
    wrong = {}
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for number in (HUGE, 10**40, 0):
                url = _with_id(rule.rule, number)
                status = browser.client.open(url, method=method, data={"csrf_token": browser.csrf_token}).status_code
                if status != 404:
                    wrong[(method, url)] = status
    assert not wrong


def test_the_largest_id_is_still_read_as_a_missing_record(app, world, make_browser):
    browser = signed_in(make_browser, world.account(Role.FOCAL_OFFICER).username)
    assert browser.get(f"/registry/certificates/{2**63 - 1}").status_code == 404
    assert browser.post(f"/account/api-tokens/{HUGE}/revoke").status_code == 404
    assert browser.get(f"/custody/tokens/{HUGE}").status_code == 404


# --- 14. digits that int() refuses ---------------------------------------------------------------


def test_superscript_digits_in_query_numbers_are_refused_on_pages_and_api(app, session, world, make_browser):
    focal_page = signed_in(make_browser, focal(world).username)
    assert focal_page.get("/requests/queue?min_age_days=²").status_code == 400
    assert focal_page.get("/requests/?min_age_days=٣").status_code == 400
    api = Api(app, session, focal(world))
    for query in ("page=²", "per_page=²", "page=" + "9" * 5000):
        error = api.call("GET", f"/requests?{query}", status=400)["error"]
        assert error["code"] == "validation_failed"
    assert api.call("GET", "/requests?min_age_days=²", status=400)["error"]["fields"] == {
        "min_age_days": "Ghi số ngày (ví dụ 7), không phải ngày tháng."
    }


@pytest.mark.parametrize("kind, field", [("new_individual", "validity_years"), ("renewal", "extension_years")])
def test_superscript_years_are_a_field_error(app, session, world, kind, field):
    cert = add_certificate(session, world.orgs["commune"])
    fields = individual() if kind == "new_individual" else {"certificate_serial": cert.serial_hex}
    fields[field] = "²"
    api = Api(app, session, officer(world))
    before = counts(session)
    error = api.call(
        "POST", "/requests", {"organisation_id": world.orgs["commune"].id, "type": kind, "fields": fields}, status=400
    )["error"]
    assert error["fields"][field] == "Nhập số năm là số nguyên dương."
    assert counts(session) == before


def test_superscript_person_id_in_a_custody_form_is_a_form_error(make_browser, session, seal):
    browser = signed_in(make_browser, seal.keeper.username)
    before = (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry))
    response = browser.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal, receiver_id="²"))
    assert response.status_code == 400
    assert "Chọn một người trong danh sách." in _text(response)
    assert (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry)) == before


# --- 15. far dates, malformed certificates, records entered in error -----------------------------


def test_a_certificate_with_no_expiry_is_listed_and_shown(app, session, world, make_browser):
    cert = issue_test_certificate(
        ISSUER,
        "Máy chủ cổng dịch vụ công",
        None,
        "UBND xã Tân Đoàn",
        not_before=utcnow() - timedelta(days=1),
        not_after=NO_EXPIRY,
    )
    registered = registration.register_certificate(
        session,
        TESTER,
        parse_certificate(der(cert)),
        kind=TokenKind.DEVICE,
        organisation_id=world.orgs["commune"].id,
        token_serial=next_serial(),
    )
    session.commit()
    browser = signed_in(make_browser, focal(world).username)
    for url in (
        "/registry/certificates",
        "/registry/certificates/upload",
        f"/registry/certificates/{registered.id}",
        f"/registry/tokens/{registered.token_id}",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert "31/12/9999" in _text(response), url
    assert browser.get("/registry/board").status_code == 200
    api = Api(app, session, focal(world))
    assert api.call("GET", f"/certificates/{registered.id}")["not_after"].startswith("9999-12-31")


def test_a_malformed_key_usage_is_refused_at_upload(session, world, make_browser):
    browser = signed_in(make_browser, focal(world).username)
    before = registry_counts(session)
    response = browser.post(
        "/registry/certificates/upload", _upload(world.orgs["commune"], _certificate(_name(), key_usage=b"\x05\x00"))
    )
    assert response.status_code == 400
    assert "phần mở rộng hỏng" in _text(response)
    assert registry_counts(session) == before
    with pytest.raises(ValidationFailed):
        parse_certificate(_certificate(_name(), key_usage=b"\x03\x02"))


@pytest.mark.parametrize("revoked_on", ["0001-01-01", "1899-12-31"])
def test_a_revocation_dated_year_one_is_refused(session, world, make_browser, revoked_on):
    cert = add_certificate(session, world.orgs["commune"])
    browser = signed_in(make_browser, focal(world).username)
    before = registry_counts(session)
    response = browser.post(f"/registry/certificates/{cert.id}/revoke", {"revoked_on": revoked_on, "reason": "Lộ khóa"})
    assert response.status_code == 400
    assert "01/01/1900" in _text(response)
    assert registry_counts(session) == before


@pytest.mark.parametrize(
    "invalid_from, message",
    [
        ("9999-12-31", "Ngày phải trong khoảng 01/01/1900 – 31/12/2100."),
        ((date.today() + timedelta(days=400)).isoformat(), "không thể sau hôm nay quá một năm"),
    ],
)
def test_a_revocation_asked_for_a_far_date_is_refused_when_drafted(session, world, invalid_from, message):
    cert = add_certificate(session, world.orgs["commune"])
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        create_draft(
            session,
            officer(world),
            world.orgs["commune"].id,
            "revocation",
            {"certificate_serial": cert.serial_hex, "reason": "lost_token", "invalid_from": invalid_from},
        )
    assert message in refused.value.field_errors["invalid_from"]
    session.rollback()
    assert counts(session) == before


def test_a_stored_far_revocation_date_gives_a_clear_refusal_at_the_outcome(session, world, make_browser):
    cert = add_certificate(session, world.orgs["commune"])
    request = draft(session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "lost_token"})
    bring_to(session, world, request, RequestStatus.SENT)
    # As one submitted before dates were bounded left it.
    request.data = {**request.data, "invalid_from": "9999-12-31"}
    session.commit()
    browser = signed_in(make_browser, focal(world).username)
    before = (counts(session), registry_counts(session))
    response = browser.post(f"/requests/{request.id}/outcome", {"outcome": "done"})
    assert response.status_code == 400
    assert "9999-12-31" in _text(response) and "không hợp lý" in _text(response)
    assert (counts(session), registry_counts(session)) == before


@pytest.mark.parametrize("handed_date", ["0001-01-01", "9999-12-31", "31/12/2101"])
def test_custody_dates_out_of_range_are_refused(make_browser, session, seal, handed_date):
    browser = signed_in(make_browser, seal.keeper.username)
    before = (_count(session, Handover), _count(session, AuditEntry))
    response = browser.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal, handed_date=handed_date))
    assert response.status_code == 400
    assert (_count(session, Handover), _count(session, AuditEntry)) == before


def test_a_record_entered_in_error_leaves_the_lists_and_requests_but_stays(app, session, world, make_browser):
    wrong = add_certificate(session, world.orgs["commune"], cn="Bản Ghi Nhầm", ends=timedelta(days=10))
    browser = signed_in(make_browser, focal(world).username)
    assert "Bản Ghi Nhầm" in _text(browser.get("/registry/certificates"))
    before = registry_counts(session)
    refused = browser.post(f"/registry/certificates/{wrong.id}/entered-in-error", {"reason": ""})
    assert refused.status_code == 400 and "Bắt buộc nhập." in _text(refused)
    assert registry_counts(session) == before
    response = browser.post(
        f"/registry/certificates/{wrong.id}/entered-in-error", {"reason": "Tải nhầm tệp của đơn vị khác"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Certificate, wrong.id).entered_in_error_reason == "Tải nhầm tệp của đơn vị khác"
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.action, entry.object_id) == ("certificate.entered_in_error", str(wrong.id))
    page = _text(browser.get(f"/registry/certificates/{wrong.id}"))
    assert "Ghi nhầm" in page and "Tải nhầm tệp của đơn vị khác" in page
    assert "Bản Ghi Nhầm" not in _text(browser.get("/registry/certificates"))
    assert "Bản Ghi Nhầm" not in _text(browser.get("/registry/board"))
    assert "Bản Ghi Nhầm" not in _text(browser.get("/registry/certificates/upload"))
    api = Api(app, session, focal(world))
    assert api.get("/certificates")["total"] == 0
    again = browser.post(f"/registry/certificates/{wrong.id}/entered-in-error", {"reason": "Lần nữa"})
    assert again.status_code == 400 and "đã được đánh dấu ghi nhầm" in _text(again)
    assert expiry.record_expiry_reminders(session, utcnow(), thresholds=(30,)) == []
    renewal = draft(session, world, "renewal", {"certificate_serial": wrong.serial_hex, "extension_years": "1"})
    assert renewal.certificate_id is None
    assert _count(session, Certificate) == before["Certificate"]


# --- 16. control and hidden characters -----------------------------------------------------------


def test_nul_in_a_request_comment_and_a_return_reason_is_refused(session, world, make_browser):
    request = draft(session, world)
    head = signed_in(make_browser, world.account(Role.UNIT_HEAD).username)
    before = counts(session)
    response = head.post(f"/requests/{request.id}/act/approve_submit", {"comment": "Đồng ý\x00"})
    assert response.status_code == 400 and "ký tự điều khiển" in _text(response)
    bring_to(session, world, request, RequestStatus.SUBMITTED)
    focal_page = signed_in(make_browser, focal(world).username)
    before = counts(session)
    response = focal_page.post(f"/requests/{request.id}/act/return", {"comment": "Thiếu\x00 hồ sơ"})
    assert response.status_code == 400
    assert counts(session) == before
    session.expire_all()
    assert session.get(CertificateRequest, request.id).status is RequestStatus.SUBMITTED


def test_nul_in_api_text_is_a_field_error(app, session, world):
    request = draft(session, world)
    bring_to(session, world, request, RequestStatus.SUBMITTED)
    api = Api(app, session, focal(world))
    before = counts(session)
    error = api.call(
        "POST", f"/requests/{request.id}/transitions", {"action": "return", "comment": "Sai\x00"}, status=400
    )["error"]
    assert error["fields"] == {"comment": "Có ký tự điều khiển không hợp lệ."}
    assert api.call("GET", "/certificates?q=%00", status=400)["error"]["fields"] == {
        "q": "Có ký tự điều khiển không hợp lệ."
    }
    assert counts(session) == before


def test_nul_in_the_login_username_is_refused(browser, session, world):
    before = _count(session, AuditEntry)
    response = browser.post("/login", {"username": "canbo\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert "ký tự điều khiển" in _text(response)
    assert _count(session, AuditEntry) == before


def test_nul_in_a_custody_note_and_a_query_filter_is_refused(make_browser, session, seal):
    browser = signed_in(make_browser, seal.keeper.username)
    before = (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry))
    response = browser.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal, reason="Nghỉ\x00 phép"))
    assert response.status_code == 400
    assert (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry)) == before
    assert browser.get("/registry/certificates?q=%00").status_code == 400


@pytest.mark.parametrize(
    "subject, message",
    [
        (_name(cn="Nguyễn\x00Văn An"), "ký tự điều khiển"),
        (_name(cn="Nguyễn Văn\u202e nA"), "ký tự ẩn"),
        (_name(cn="Nguyễn\u200bVăn An"), "ký tự ẩn"),
        (_name(ou="Phòng " * 200), "dài quá 1000 ký tự"),
    ],
    ids=["nul", "bidi-override", "zero-width", "long-dn"],
)
def test_certificate_names_that_cannot_be_kept_are_refused(session, world, make_browser, subject, message):
    browser = signed_in(make_browser, focal(world).username)
    before = registry_counts(session)
    response = browser.post("/registry/certificates/upload", _upload(world.orgs["commune"], _certificate(subject)))
    assert response.status_code == 400
    assert message in _text(response)
    assert registry_counts(session) == before


@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
def test_a_negative_serial_is_refused(session, world):
    positive = _certificate(_name(), serial=0x05)
    # The builder writes only positive serials: turn INTEGER 5 into -5 in the encoding.
    negative = positive.replace(b"\xa0\x03\x02\x01\x02\x02\x01\x05", b"\xa0\x03\x02\x01\x02\x02\x01\xfb", 1)
    assert negative != positive
    with pytest.raises(ValidationFailed) as refused:
        parse_certificate(negative)
    assert "phải là số dương" in refused.value.message


def test_hidden_characters_in_a_typed_name_are_a_field_error(session, world):
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        create_draft(
            session,
            officer(world),
            world.orgs["commune"].id,
            "new_individual",
            individual(full_name="Hoàng Thị\u202e Mai"),
        )
    assert "ký tự ẩn" in refused.value.field_errors["full_name"]
    session.rollback()
    assert counts(session) == before
