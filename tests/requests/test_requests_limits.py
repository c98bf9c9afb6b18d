"""Policy checks when a request is sent to the focal office: each blocks with a Vietnamese message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from certsvc.config import ConfigError
from certsvc.errors import ValidationFailed
from certsvc.registry.models import TokenKind
from certsvc.requests.checks import SubmissionRefused, submission_problems
from certsvc.requests.fields import DEFAULT_LIMITS, SubmissionLimits
from certsvc.requests.models import RequestStatus
from certsvc.requests.service import take_action
from certsvc.requests.transitions import Action, apply_transition
from certsvc.timeutil import utcnow
from tests.support.registry import add_certificate
from tests.support.requests import counts, draft, head, individual, officer, organisational

OLD = timedelta(days=700)


def _refused(session, world, request, code, limits=DEFAULT_LIMITS):
    before = counts(session)
    with pytest.raises(SubmissionRefused) as refused:
        take_action(session, head(world), request, Action.APPROVE_SUBMIT, limits=limits)
    session.rollback()
    assert code in [p.code for p in refused.value.problems], refused.value.problems
    assert counts(session) == before
    assert request.status is RequestStatus.DRAFT
    return refused.value


def _sent(session, world, request, limits=DEFAULT_LIMITS):
    take_action(session, head(world), request, Action.APPROVE_SUBMIT, limits=limits)
    session.commit()
    assert request.status is RequestStatus.SUBMITTED


@pytest.fixture
def cert(session, world):
    return add_certificate(session, world.orgs["commune"], cn="Nguyễn Văn An")


def test_second_open_request_for_the_same_person(session, world):
    fields = individual()
    first = draft(session, world, fields=fields)
    second = draft(session, world, fields=dict(fields))
    _sent(session, world, first)
    refused = _refused(session, world, second, "duplicate_open")
    assert f"đề nghị số {first.id}" in refused.message
    apply_transition(session, officer(world), first, Action.CANCEL, "Lập trùng")
    session.commit()
    _sent(session, world, second)


def test_second_open_request_for_the_same_certificate(session, world, cert):
    renewal = draft(session, world, "renewal", {"certificate_serial": cert.serial_hex, "extension_years": "2"})
    revocation = draft(session, world, "revocation", {"certificate_id": cert.id, "reason": "retirement"})
    assert renewal.subject_key == revocation.subject_key == f"certificate:{cert.id}"
    _sent(session, world, renewal)
    _refused(session, world, revocation, "duplicate_open")


def test_second_open_request_for_the_same_token(session, world, cert):
    first = draft(session, world, "recovery", {"token_serial": cert.token.serial, "problem": "pin_locked"})
    second = draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "device_fault"})
    _sent(session, world, first)
    _refused(session, world, second, "duplicate_open")


def test_no_recovery_of_a_token_whose_certificate_is_being_revoked(session, world, cert):
    revocation = draft(session, world, "revocation", {"certificate_id": cert.id, "reason": "retirement"})
    recovery = draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"})
    _sent(session, world, revocation)
    refused = _refused(session, world, recovery, "token_being_revoked")
    assert f"Đề nghị thu hồi số {revocation.id}" in refused.message and cert.token.serial in refused.message
    apply_transition(session, officer(world), revocation, Action.CANCEL, "Không thu hồi nữa")
    session.commit()
    _sent(session, world, recovery)


def test_no_recovery_of_a_token_whose_certificate_was_revoked(session, world, cert):
    from certsvc.core.workdays import WorkCalendar
    from certsvc.registry.service import revoke_certificate
    from tests.support.registry import TESTER

    revoke_certificate(session, TESTER, cert, revoked_at=utcnow(), reason="Nghỉ hưu", calendar=WorkCalendar())
    session.commit()
    recovery = draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"})
    refused = _refused(session, world, recovery, "token_being_returned")
    assert "phải nộp lại cơ quan cấp" in refused.message


def test_an_open_recovery_does_not_hold_back_a_revocation(session, world, cert):
    """A lost token or a compromised key is revoked at once, whatever else is open for the token."""
    recovery = draft(session, world, "recovery", {"token_id": cert.token_id, "problem": "pin_locked"})
    _sent(session, world, recovery)
    revocation = draft(session, world, "revocation", {"certificate_id": cert.id, "reason": "key_compromise"})
    assert submission_problems(session, revocation) == []


def test_renewal_of_a_certificate_not_in_the_registry(session, world):
    request = draft(session, world, "renewal", {"certificate_serial": "0A:1B:2C", "extension_years": "1"})
    refused = _refused(session, world, request, "certificate_not_registered")
    assert "0A1B2C" in refused.message and "không có trong sổ" in refused.message


def test_renewal_of_a_revoked_certificate(session, world, cert):
    cert.revoked_at = utcnow()
    session.commit()
    request = draft(session, world, "renewal", {"certificate_serial": cert.serial_hex, "extension_years": "1"})
    _refused(session, world, request, "certificate_revoked")


def test_renewal_of_a_certificate_expired_too_long_is_configurable(session, world):
    long_ago = add_certificate(session, world.orgs["commune"], now=utcnow() - OLD - timedelta(days=100))
    recently = add_certificate(session, world.orgs["commune"], now=utcnow() - OLD - timedelta(days=10))
    request = draft(session, world, "renewal", {"certificate_serial": long_ago.serial_hex, "extension_years": "1"})
    refused = _refused(session, world, request, "certificate_expired_too_long")
    assert "quá 30 ngày" in refused.message
    _sent(session, world, request, SubmissionLimits(renewal_grace_days=120))
    _sent(
        session,
        world,
        draft(session, world, "renewal", {"certificate_serial": recently.serial_hex, "extension_years": "3"}),
    )


def test_validity_over_five_years_for_a_new_certificate(session, world):
    request = draft(session, world, fields=individual(validity_years="6"))
    refused = _refused(session, world, request, "validity_too_long")
    assert "tối đa 5 năm" in refused.message


def test_extension_over_three_years(session, world, cert):
    request = draft(session, world, "renewal", {"certificate_serial": cert.serial_hex, "extension_years": "4"})
    refused = _refused(session, world, request, "extension_too_long")
    assert "tối đa 3 năm" in refused.message


def test_revocation_without_reason(session, world, cert):
    request = draft(session, world, "revocation", {"certificate_serial": cert.serial_hex})
    _refused(session, world, request, "revocation_without_reason")
    other = draft(session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "other"})
    _refused(session, world, other, "revocation_without_reason")


def test_information_change_that_changes_nothing(session, world, cert):
    holder = cert.holder
    same = {
        "certificate_serial": cert.serial_hex,
        "new_full_name": holder.full_name.upper(),
        "new_position": holder.position or "",
    }
    request = draft(session, world, "change", same)
    refused = _refused(session, world, request, "change_changes_nothing")
    assert "không thay đổi nội dung nào" in refused.message
    empty = draft(session, world, "change", {"certificate_serial": cert.serial_hex})
    _refused(session, world, empty, "change_changes_nothing")


def test_information_change_with_a_real_change_goes(session, world, cert):
    request = draft(
        session, world, "change", {"certificate_serial": cert.serial_hex, "new_position": "Phó Chủ tịch UBND xã"}
    )
    assert submission_problems(session, request) == []
    _sent(session, world, request)


def test_recovery_of_an_unknown_token(session, world):
    request = draft(session, world, "recovery", {"token_serial": "KHONG-CO-123", "problem": "pin_forgotten"})
    refused = _refused(session, world, request, "unknown_token")
    assert "KHONG-CO-123" in refused.message


def test_fields_are_checked_when_drafting(session, world):
    with pytest.raises(ValidationFailed) as refused:
        draft(
            session,
            world,
            "revocation",
            {"certificate_serial": "xyz!", "reason": "boredom", "invalid_from": "2001-01-01"},
        )
    assert set(refused.value.field_errors) == {"certificate_serial", "reason", "invalid_from"}


def test_organisation_and_device_requests(session, world):
    org = draft(
        session,
        world,
        "new_organisation",
        organisational(address="Xã Tân Đoàn, huyện Văn Quan"),
    )
    device = draft(
        session,
        world,
        "new_device",
        {
            "device_name": "Hệ thống một cửa điện tử",
            "identifier": "motcua.vanquan.langson.gov.vn",
            "purpose": "Ký số kết quả thủ tục hành chính",
            "manager_name": "Hoàng Minh Đức",
            "email": "duc.vq@langson.gov.vn",
            "validity_years": "3",
        },
    )
    assert org.subject_key == "tax:4900123456"
    _sent(session, world, org)
    _sent(session, world, device)
    with pytest.raises(ValidationFailed) as refused:
        draft(session, world, "new_organisation", {"tax_code": "12", "budget_code": "12a"})
    assert {"tax_code", "budget_code", "org_name", "receiver_name"} <= set(refused.value.field_errors)
    assert TokenKind.ORGANISATION  # kinds map to the registry's token kinds


def test_policy_limits_come_from_the_configuration(monkeypatch):
    assert SubmissionLimits.from_config({}) == SubmissionLimits()
    assert SubmissionLimits.from_config({"CERTSVC_RENEWAL_GRACE_DAYS": "60"}).renewal_grace_days == 60
    limits = SubmissionLimits.from_config({"CERTSVC_MAX_NEW_YEARS": 3, "CERTSVC_MAX_EXTENSION_YEARS": "2"})
    assert (limits.max_new_years, limits.max_extension_years) == (3, 2)
    with pytest.raises(ConfigError, match="CERTSVC_MAX_EXTENSION_YEARS"):  # checked as at start-up, no fallback
        SubmissionLimits.from_config({"CERTSVC_MAX_EXTENSION_YEARS": "ba"})
    monkeypatch.setenv("CERTSVC_MAX_NEW_YEARS", "2")  # read by certsvc.config when the app starts, not here
    assert SubmissionLimits.from_config({}) == SubmissionLimits()
