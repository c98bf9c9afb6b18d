"""One click from a failed check to the right request, drafted once through the normal request services."""

from __future__ import annotations

import pytest
from pkcs11 import TokenFlag
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.readiness.models import ReportSource
from certsvc.readiness.remedies import draft_from_check
from certsvc.readiness.reports import store_report
from certsvc.registry.models import TokenKind
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def checked(session, readiness, label: str, **kwargs):
    report = store_report(
        session,
        readiness.world.account(Role.FOCAL_OFFICER),
        readiness.checks.report(label, **kwargs),
        source=ReportSource.VISIT,
    )
    session.commit()
    return report.tokens[0]


def requests_count(session) -> int:
    return session.scalar(select(func.count()).select_from(CertificateRequest))


@pytest.mark.parametrize(
    ("label", "flag", "check_id", "request_type", "field", "then_new"),
    [
        ("VAN-THU", TokenFlag.USER_PIN_LOCKED, "pin.locked", RequestType.RECOVERY, ("problem", "pin_locked"), None),
        ("TRONG", None, "cert.present", RequestType.RECOVERY, ("problem", "device_fault"), None),
        ("SAP-HET-HAN", None, "cert.validity", RequestType.RENEWAL, ("extension_years", 1), None),
        (
            "THU-HOI",
            None,
            "cert.revocation",
            RequestType.REVOCATION,
            ("reason", "other"),
            RequestType.NEW_INDIVIDUAL,
        ),
        (
            "THIEU-KHOA",
            None,
            "cert.private_key",
            RequestType.REVOCATION,
            ("reason", "other"),
            RequestType.NEW_INDIVIDUAL,
        ),
    ],
)
def test_each_failed_check_drafts_the_right_request_once(
    session, readiness, label, flag, check_id, request_type, field, then_new
):
    if label == "VAN-THU":
        readiness.seal(session)
    elif label == "TRONG":  # the head's certificate registered on the token that turns out empty
        readiness.register(session, "KHAC", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_HEAD), on="TRONG")
    else:
        readiness.head_certificate(session, label)
    row = checked(session, readiness, label, flag=flag)
    officer = readiness.world.account(Role.UNIT_OFFICER)
    drafted = draft_from_check(session, officer, row.id, check_id)
    session.commit()
    request = drafted.request
    assert drafted.created and request.request_type is request_type and request.status is RequestStatus.DRAFT
    assert request.organisation_id == readiness.commune.id and request.token_id == row.token_id
    assert request.data[field[0]] == field[1] and drafted.new_type is then_new
    reason = request.data.get("description") or request.data.get("reason_detail") or request.data.get("note")
    assert f"kết quả kiểm tra số {row.report_id}" in reason and row.token_serial in reason
    again = draft_from_check(session, officer, row.id, check_id)
    assert not again.created and again.request.id == request.id and requests_count(session) == 1


def test_no_request_for_a_check_that_passed_nor_from_who_may_not_draft(session, readiness):
    readiness.head_certificate(session)
    row = checked(session, readiness, "LANH-DAO")
    with pytest.raises(ValidationFailed):
        draft_from_check(session, readiness.world.account(Role.UNIT_OFFICER), row.id, "cert.validity")
    readiness.seal(session)
    locked = checked(session, readiness, "VAN-THU", flag=TokenFlag.USER_PIN_LOCKED)
    with pytest.raises(PermissionDenied):  # the focal office sees the board but drafts no unit's request
        draft_from_check(session, readiness.world.account(Role.FOCAL_OFFICER), locked.id, "pin.locked")
    assert requests_count(session) == 0
