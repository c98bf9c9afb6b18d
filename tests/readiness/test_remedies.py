"""One click from a failed check to the right request, drafted once through the normal request services."""

from __future__ import annotations

import threading

import pytest
from pkcs11 import TokenFlag
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.people.models import Person
from certsvc.readiness import remedies
from certsvc.readiness.models import ReportSource
from certsvc.readiness.remedies import HOLDER_CHECK, draft_from_check, holder_mismatch
from certsvc.readiness.reports import store_report
from certsvc.registry.models import TokenKind
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType
from token_agent import demo

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


def head(readiness) -> Person:
    return readiness.world.account(Role.UNIT_HEAD).person


def officer(readiness) -> Account:
    return readiness.world.account(Role.UNIT_OFFICER)


def reason_of(request: CertificateRequest) -> str:
    return request.data.get("description") or request.data.get("reason_detail") or request.data.get("note")


@pytest.mark.parametrize(
    ("label", "flag", "check_id", "request_type", "field"),
    [
        ("VAN-THU", TokenFlag.USER_PIN_LOCKED, "pin.locked", RequestType.RECOVERY, ("problem", "pin_locked")),
        ("TRONG", None, "cert.present", RequestType.RECOVERY, ("problem", "device_fault")),
        ("SAP-HET-HAN", None, "cert.validity", RequestType.RENEWAL, ("extension_years", 1)),
        ("THIEU-KHOA", None, "cert.private_key", RequestType.REVOCATION, ("reason", "other")),
    ],
)
def test_each_failed_check_drafts_the_right_request_once(
    session, readiness, label, flag, check_id, request_type, field
):
    if label == "VAN-THU":
        readiness.seal(session)
    elif label == "TRONG":  # the head's certificate registered on the token that turns out empty
        readiness.register(session, "KHAC", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_HEAD), on="TRONG")
    else:
        readiness.head_certificate(session, label)
    row = checked(session, readiness, label, flag=flag)
    drafted = draft_from_check(session, officer(readiness), row.id, check_id)
    session.commit()
    request = drafted.request
    assert drafted.created and request.request_type is request_type and request.status is RequestStatus.DRAFT
    assert request.organisation_id == readiness.commune.id and request.token_id == row.token_id
    assert request.data[field[0]] == field[1]
    assert f"kết quả kiểm tra số {row.report_id}" in reason_of(request) and row.token_serial in reason_of(request)
    again = draft_from_check(session, officer(readiness), row.id, check_id)
    assert not again.created and again.request.id == request.id
    assert requests_count(session) == 1  # a missing key's new certificate is left to the prefilled form


def test_a_missing_key_revokes_and_leaves_the_new_certificate_to_the_prefilled_form(session, readiness, browser):
    holder = head(readiness)
    holder.cccd, holder.email, holder.phone = "001234567882", "canbo@tandoan.langson.gov.vn", "0912345678"
    certificate = readiness.head_certificate(session, "THIEU-KHOA")
    row = checked(session, readiness, "THIEU-KHOA")
    browser.login("unitofficer")
    response = browser.post(f"/readiness/checked/{row.id}/request", {"check": "cert.private_key"})
    (revocation,) = session.scalars(select(CertificateRequest)).all()
    assert revocation.request_type is RequestType.REVOCATION and revocation.certificate_id == certificate.id
    # The CCCD's date and place of issue and the validity are not in the registry: the form asks for them.
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/requests/new/new_individual?certificate_id={certificate.id}"
    )
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Đã lập dự thảo đề nghị số {revocation.id} (Thu hồi chứng thư số)" in page
    for known in (holder.full_name, "001234567882", "canbo@tandoan.langson.gov.vn", "0912345678", "UBND xã Tân Đoàn"):
        assert f'value="{known}"' in page
    # The form of another kind of request is not filled with the holder's details.
    other = browser.get(f"/requests/new/new_organisation?certificate_id={certificate.id}").get_data(as_text=True)
    assert holder.full_name not in other and "001234567882" not in other
    again = browser.post(f"/readiness/checked/{row.id}/request", {"check": "cert.private_key"}, follow_redirects=True)
    assert f"Đã có đề nghị số {revocation.id} đang mở (Thu hồi chứng thư số)" in again.get_data(as_text=True)
    assert requests_count(session) == 1


def test_a_revoked_certificate_asks_only_a_new_one_saved_when_the_registry_knows_enough(
    session, readiness, monkeypatch
):
    holder = head(readiness)
    holder.cccd = "001234567890"
    readiness.head_certificate(session, "THU-HOI")
    row = checked(session, readiness, "THU-HOI")
    refused = draft_from_check(session, officer(readiness), row.id, "cert.revocation")
    assert refused.request is None and refused.new_type is RequestType.NEW_INDIVIDUAL and refused.new_request is None
    session.rollback()
    assert requests_count(session) == 0  # nothing to revoke: the CA did it; the form is filled by the unit
    # A province whose form asks only what the registry knows: the draft is saved, and a second click shows it.
    known = remedies.replacement_fields
    monkeypatch.setattr(
        remedies,
        "replacement_fields",
        lambda cert: (
            known(cert)
            | {"cccd_issued_on": "2021-04-01", "cccd_issued_by": "Cục Cảnh sát QLHC về TTXH", "validity_years": "3"}
            | {"email": "an@vanquan.gov.vn", "phone": "0912345678", "position": "Chủ tịch"}
        ),
    )
    drafted = draft_from_check(session, officer(readiness), row.id, "cert.revocation")
    session.commit()
    new = drafted.new_request
    assert drafted.new_created and new.request_type is RequestType.NEW_INDIVIDUAL and new.status is RequestStatus.DRAFT
    assert new.data["full_name"] == holder.full_name and new.data["cccd"] == "001234567890"
    assert new.subject_person_id == holder.id
    again = draft_from_check(session, officer(readiness), row.id, "cert.revocation")
    assert not again.new_created and again.new_request.id == new.id and requests_count(session) == 1


def test_holder_details_differing_from_the_registry_draft_an_information_change(session, readiness, browser):
    readiness.head_certificate(session)  # CN "Nguyễn Văn An", CCCD:001234567890; registered to "Cán bộ unithead"
    row = checked(session, readiness, "LANH-DAO")
    mismatch = holder_mismatch(row)
    assert mismatch.name_differs and not mismatch.cccd_differs  # the registry has no CCCD for the head yet
    browser.login("unitofficer")
    page = browser.get(f"/readiness/reports/{row.report_id}").get_data(as_text=True)
    assert "họ tên «Nguyễn Văn An», sổ ghi «Cán bộ unithead»" in page
    assert "Lập đề nghị: Thay đổi nội dung thông tin chứng thư số" in page
    drafted = draft_from_check(session, officer(readiness), row.id, HOLDER_CHECK)
    session.commit()
    change = drafted.request
    assert change.request_type is RequestType.CHANGE and change.certificate_id == row.certificate_id
    assert change.data["new_full_name"] == "Cán bộ unithead" and "sổ ghi «Cán bộ unithead»" in change.data["note"]
    assert draft_from_check(session, officer(readiness), row.id, HOLDER_CHECK).request.id == change.id


def test_matching_holder_details_offer_no_change_and_a_different_cccd_does(session, readiness):
    holder = head(readiness)
    holder.full_name, holder.cccd = f"  {demo.SIGNER.upper()} ", "001234567890"
    readiness.head_certificate(session)
    row = checked(session, readiness, "LANH-DAO")
    assert holder_mismatch(row) is None
    with pytest.raises(ValidationFailed):
        draft_from_check(session, officer(readiness), row.id, HOLDER_CHECK)
    holder.cccd = "001234567899"
    session.commit()
    mismatch = holder_mismatch(row)
    assert mismatch.cccd_differs and not mismatch.name_differs
    assert "số CCCD 001234567890, sổ ghi 001234567899" in mismatch.message


def test_no_request_for_a_check_that_passed_nor_from_who_may_not_draft(session, readiness):
    readiness.head_certificate(session)
    row = checked(session, readiness, "LANH-DAO")
    with pytest.raises(ValidationFailed):
        draft_from_check(session, officer(readiness), row.id, "cert.validity")
    readiness.seal(session)
    locked = checked(session, readiness, "VAN-THU", flag=TokenFlag.USER_PIN_LOCKED)
    with pytest.raises(PermissionDenied):  # the focal office sees the board but drafts no unit's request
        draft_from_check(session, readiness.world.account(Role.FOCAL_OFFICER), locked.id, "pin.locked")
    assert requests_count(session) == 0


def test_two_clicks_at_once_draft_one_request(database_url, session, readiness):
    readiness.head_certificate(session, "SAP-HET-HAN")
    row = checked(session, readiness, "SAP-HET-HAN")
    engine = create_engine(database_url, connect_args={"timeout": 30} if database_url.startswith("sqlite") else {})
    barrier = threading.Barrier(2)
    outcomes: list[tuple[bool, int]] = []

    def click() -> None:
        with Session(engine) as own:
            clicker = own.merge(officer(readiness), load=True)
            assert clicker.roles  # loaded before the race: both then only draft
            barrier.wait()
            drafted = draft_from_check(own, clicker, row.id, "cert.validity")
            own.commit()
            outcomes.append((drafted.created, drafted.request.id))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert sorted(created for created, _ in outcomes) == [False, True]
    assert len({number for _, number in outcomes}) == 1 and requests_count(session) == 1
