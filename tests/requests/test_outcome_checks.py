"""The certificate a CA sends back is checked before it is recorded (issue 15, item 27): issued by a CA
certificate configured as trusted, valid no longer than the request asked, its subject the request's (name
and CCCD, organisation name and tax code, the old certificate's holder for a renewal or change). Real
certificates from the test PKI; a refusal says every problem under the file field and changes nothing."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from certsvc.core.workdays import WorkCalendar
from certsvc.errors import ValidationFailed
from certsvc.registry import anchors
from certsvc.registry.demo import issue_test_certificate, throwaway_issuer
from certsvc.registry.models import Certificate, TrustAnchor
from certsvc.requests import batches
from certsvc.requests.models import CertificateRequest, RequestStatus
from certsvc.timeutil import utcnow
from tests.requests.test_form_errors_placement import alert_box, field_block
from tests.requests.test_requests_pages import signed_in, text
from tests.support.registry import TESTER, add_certificate, make_cert, pem, registry_counts, trust_test_issuer
from tests.support.requests import bring_to, counts, draft, focal, individual, organisational

CALENDAR = WorkCalendar()
NAME = "Hoàng Thị Mai"
ORGANISATION = organisational(validity_years="3")


def _sent(session, world, kind="new_individual", fields=None) -> CertificateRequest:
    return bring_to(
        session, world, draft(session, world, kind, fields or individual(full_name=NAME)), RequestStatus.SENT
    )


def _record(session, world, request, certificate: bytes):
    return batches.record_outcome(
        session,
        focal(world),
        request,
        {"outcome": "done", "token_serial": "TK-KIEMTRA"},
        certificate,
        calendar=CALENDAR,
    )


def _refusal(session, world, request, certificate: bytes) -> str:
    """The message under the file field; the refusal left the request, the registry and the audit log alone."""
    before = (counts(session), registry_counts(session))
    with pytest.raises(ValidationFailed) as refused:
        _record(session, world, request, certificate)
    session.rollback()
    assert (counts(session), registry_counts(session)) == before
    assert session.get(CertificateRequest, request.id).status is RequestStatus.SENT
    assert list(refused.value.field_errors) == ["certificate_file"]
    return refused.value.field_errors["certificate_file"]


def _for(request, cn: str = NAME, uid: str | None = None, **validity) -> bytes:
    return pem(make_cert(cn, uid or f"CCCD:{request.data['cccd']}", **validity))


# --- the issuer -----------------------------------------------------------------------------------------


def test_without_a_trusted_ca_configured_the_file_is_refused_with_what_to_do(session, world):
    request = _sent(session, world)
    message = _refusal(session, world, request, _for(request))
    assert "Chưa cấu hình chứng thư của CA tin cậy" in message and "Chứng thư gốc tin cậy" in message


def test_a_certificate_of_another_ca_is_refused_even_under_the_trusted_ca_name(session, world):
    request = _sent(session, world)
    trust_test_issuer(session)
    # The same issuer name as the trusted CA, another key: only the signature tells them apart.
    impostor = throwaway_issuer()
    now = utcnow()
    forged = issue_test_certificate(
        impostor,
        NAME,
        f"CCCD:{request.data['cccd']}",
        "UBND xã Tân Đoàn",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=700),
    )
    assert forged.issuer == make_cert().issuer
    message = _refusal(session, world, request, pem(forged))
    assert "do «CA phục vụ các cơ quan nhà nước (thử nghiệm)» cấp, không phải CA tin cậy đã cấu hình" in message
    assert "Họ tên" not in message  # the subject is right


def test_a_removed_trusted_ca_no_longer_counts(session, world):
    request = _sent(session, world)
    trust_test_issuer(session)
    anchors.remove_anchor(session, TESTER, session.scalar(select(TrustAnchor.id)))
    session.commit()
    assert "Chưa cấu hình chứng thư của CA tin cậy" in _refusal(session, world, request, _for(request))


# --- the validity ---------------------------------------------------------------------------------------


def test_a_new_certificate_valid_longer_than_asked_or_expired_is_refused(session, world):
    request = _sent(session, world, fields=individual(full_name=NAME, validity_years="2"))
    trust_test_issuer(session)
    three_years = _for(request, starts=timedelta(days=-1), ends=timedelta(days=3 * 365))
    assert "quá thời hạn đề nghị 2 năm của đề nghị" in _refusal(session, world, request, three_years)
    expired = _for(request, starts=timedelta(days=-400), ends=timedelta(days=-1))
    assert "đã hết hạn ngày" in _refusal(session, world, request, expired)
    two_years = _for(request, starts=timedelta(days=-1), ends=timedelta(days=2 * 365 - 1))
    result = _record(session, world, request, two_years)
    session.commit()
    assert result.status is RequestStatus.DONE and session.get(Certificate, result.certificate_id) is not None


def test_a_renewal_runs_at_most_its_years_past_the_old_certificate(session, world):
    old = add_certificate(session, world.orgs["commune"], ends=timedelta(days=100))
    request = _sent(session, world, "renewal", {"certificate_serial": old.serial_hex, "extension_years": "1"})
    trust_test_issuer(session)
    too_long = pem(make_cert(old.subject_cn, old.subject_uid, ends=timedelta(days=100 + 2 * 365)))
    assert "quá gia hạn 1 năm của đề nghị" in _refusal(session, world, request, too_long)
    renewed = pem(make_cert(old.subject_cn, old.subject_uid, ends=timedelta(days=100 + 365)))
    result = _record(session, world, request, renewed)
    session.commit()
    assert session.get(Certificate, result.certificate_id).predecessor_id == old.id


def test_a_changed_certificate_ends_no_later_than_the_one_it_replaces(session, world):
    old = add_certificate(session, world.orgs["commune"], ends=timedelta(days=300))
    fields = {"certificate_serial": old.serial_hex, "new_full_name": "Nguyễn Văn Bình", "note": "Đổi họ tên"}
    request = _sent(session, world, "change", fields)
    trust_test_issuer(session)
    later = pem(make_cert("Nguyễn Văn Bình", old.subject_uid, ends=timedelta(days=600)))
    assert "quá hạn của chứng thư cũ" in _refusal(session, world, request, later)
    same_end = pem(make_cert("Nguyễn Văn Bình", old.subject_uid, ends=timedelta(days=300)))
    assert _record(session, world, request, same_end).status is RequestStatus.DONE


# --- the subject ----------------------------------------------------------------------------------------


def test_a_person_certificate_must_carry_the_requested_name_and_cccd(session, world):
    request = _sent(session, world)
    trust_test_issuer(session)
    cccd = request.data["cccd"]
    wrong_name = _refusal(session, world, request, _for(request, cn="Hoàng Thị Mải"))
    assert f"Họ tên trong chứng thư số là «Hoàng Thị Mải», đề nghị ghi «{NAME}»." in wrong_name
    assert "CCCD" not in wrong_name
    wrong_cccd = _refusal(session, world, request, _for(request, uid="CCCD:001234567890"))
    assert f"không có số CCCD {cccd} của đề nghị" in wrong_cccd and "Họ tên" not in wrong_cccd
    both = _refusal(session, world, request, _for(request, cn="Người Khác", uid="CCCD:001234567890"))
    assert "Họ tên" in both and "số CCCD" in both  # every problem at once
    # A CA writing the diacritics decomposed, in other case, still names the same person.
    decomposed = unicodedata.normalize("NFD", NAME.upper())
    assert _record(session, world, request, _for(request, cn=decomposed)).status is RequestStatus.DONE


def test_an_organisation_certificate_must_name_the_organisation_and_its_tax_code(session, world):
    request = _sent(session, world, "new_organisation", ORGANISATION)
    trust_test_issuer(session)
    other_org = pem(make_cert("UBND xã Yên Phúc", "MST:4900123456", org="UBND xã Yên Phúc"))
    assert "Tên cơ quan, tổ chức trong chứng thư số là «UBND xã Yên Phúc»" in _refusal(
        session, world, request, other_org
    )
    other_tax = pem(make_cert("UBND xã Tân Đoàn", "MST:4900999999", org="UBND xã Tân Đoàn"))
    assert "không có mã số thuế 4900123456" in _refusal(session, world, request, other_tax)
    # The name may be the common name or the organisation (O) of the subject.
    issued = pem(make_cert("Văn thư UBND xã Tân Đoàn", "MST:4900123456", org="UBND xã Tân Đoàn"))
    assert _record(session, world, request, issued).status is RequestStatus.DONE


# --- the page -------------------------------------------------------------------------------------------


def test_the_outcome_form_shows_the_problems_under_the_file_field_and_keeps_what_was_typed(
    make_browser, session, world
):
    request = _sent(session, world)
    trust_test_issuer(session)
    browser = signed_in(make_browser, "focalofficer")
    wrong = _for(request, cn="Người Khác", ends=timedelta(days=9 * 365))
    refused = browser.post(
        f"/requests/{request.id}/outcome",
        {
            "outcome": "done",
            "token_serial": "TKMAI01",
            "comment": "Nhận qua bưu điện",
            "certificate_file": (BytesIO(wrong), "mai.cer"),
        },
        content_type="multipart/form-data",
    )
    page = text(refused)
    assert refused.status_code == 400
    under_file = field_block(page, "o-file")
    assert f"Chứng thư số «Người Khác» không khớp với đề nghị số {request.id}:" in under_file
    assert "quá thời hạn đề nghị 5 năm" in under_file and "Họ tên trong chứng thư số là «Người Khác»" in under_file
    assert "không khớp" not in alert_box(page)
    assert 'value="TKMAI01"' in field_block(page, "o-token")
    session.expire_all()
    assert session.get(CertificateRequest, request.id).status is RequestStatus.SENT
