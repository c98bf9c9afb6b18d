"""Reports of real SoftHSM tokens land on the readiness board with the state the issue's rule gives."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pkcs11 import TokenFlag
from sqlalchemy import event, select

from certsvc.accounts.models import Role
from certsvc.documents.models import DocumentStatus, DocumentType, OutgoingDocument
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.orgs.models import OrgKind
from certsvc.readiness import board as boards
from certsvc.readiness.board import (
    BoardFilter,
    HolderRole,
    ReadinessSettings,
    UnitState,
    board_csv,
    clean_filter,
    readiness_board,
)
from certsvc.readiness.models import ReportSource
from certsvc.readiness.reports import store_report
from certsvc.registry.models import TokenKind, TokenState
from certsvc.timeutil import utcnow
from tests.conftest import add_account, add_org

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]

SETTINGS = ReadinessSettings()


def upload(session, readiness, label: str, **kwargs) -> None:
    store_report(
        session,
        readiness.world.account(Role.FOCAL_OFFICER),
        readiness.checks.report(label, **kwargs),
        source=ReportSource.UPLOAD,
    )
    session.commit()


def commune_board(session, readiness, viewer: Role = Role.FOCAL_OFFICER):
    board = readiness_board(
        session, readiness.world.account(viewer), SETTINGS, BoardFilter(unit_id=readiness.commune.id)
    )
    (unit,) = board.units
    return unit


def test_a_unit_whose_organisation_and_head_tokens_passed_is_ready(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session)
    readiness.register(session, "KHAC", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_OFFICER))
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, "LANH-DAO")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.READY and unit.missing == ()
    organisation, head, holder = unit.rows
    assert (organisation.role, head.role, holder.role) == (HolderRole.ORGANISATION, HolderRole.HEAD, HolderRole.HOLDER)
    assert (
        organisation.keeper_name == "Nông Thị Giữ" and organisation.token_serial == readiness.checks.serials["VAN-THU"]
    )
    assert head.last_check.test_signature_ok and head.last_good_check is not None
    assert holder.last_check is None and holder.problems  # never checked: shown, but not a gap of the unit
    assert head.signs is False  # a valid certificate, no document approved in the period


def approved_document(session, readiness, certificate, days_ago: int) -> None:
    """A document of the commune approved ``days_ago`` with ``certificate``."""
    commune, head = readiness.commune, readiness.world.account(Role.UNIT_HEAD)
    session.add(
        OutgoingDocument(
            status=DocumentStatus.ISSUED,
            issuing_body_id=commune.id,
            drafting_unit_id=commune.id,
            document_type=session.scalar(select(DocumentType).where(DocumentType.abbreviation.is_(None))),
            summary="V/v triển khai ký số",
            signer_id=head.person_id,
            authority_lines="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
            personal_certificate_id=certificate.id,
            approved_at=utcnow() - timedelta(days=days_ago),
        )
    )
    session.commit()


def test_a_holder_signs_when_they_approved_a_document_within_the_period(session, readiness):
    certificate = readiness.head_certificate(session)
    approved_document(session, readiness, certificate, days_ago=SETTINGS.check_days + 5)
    (head,) = [row for row in commune_board(session, readiness).rows if row.role is HolderRole.HEAD]
    assert head.signs is False  # only before the period
    approved_document(session, readiness, certificate, days_ago=2)
    (head,) = [row for row in commune_board(session, readiness).rows if row.role is HolderRole.HEAD]
    assert head.signs is True
    organisation = commune_board(session, readiness).rows[0]
    assert organisation.signs is None  # asked of people only


def test_the_organisation_token_details_are_withheld_from_who_may_not_see_custody(session, readiness):
    readiness.seal(session)
    upload(session, readiness, "VAN-THU")
    officer_view = commune_board(session, readiness, Role.UNIT_OFFICER).rows[0]
    assert officer_view.secret_hidden and officer_view.keeper_name is None and officer_view.token_serial is None
    head_view = commune_board(session, readiness, Role.UNIT_HEAD).rows[0]
    assert not head_view.secret_hidden and head_view.keeper_name == "Nông Thị Giữ"


def test_an_organisation_token_with_its_pin_locked_fails_the_unit(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU", flag=TokenFlag.USER_PIN_LOCKED)
    upload(session, readiness, "LANH-DAO")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.FAILING
    assert "pin.locked" in unit.rows[0].failing_ids
    assert any("Mã PIN đã bị khóa" in text for text in unit.missing)


def test_a_head_token_never_checked_keeps_the_unit_unchecked(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.UNCHECKED
    assert unit.missing == (f"{unit.rows[1].holder_name}: chưa có lần kiểm tra ký thử đạt trong 30 ngày qua.",)


def test_an_expiring_head_certificate_makes_the_unit_expiring(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session, "SAP-HET-HAN")
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, "SAP-HET-HAN")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.EXPIRING
    assert unit.rows[1].last_check.test_signature_ok and "hết hạn ngày" in unit.missing[0]


@pytest.mark.parametrize(
    ("label", "failing"),
    [("THU-HOI", "cert.revocation"), ("THIEU-KHOA", "cert.private_key")],
)
def test_a_revoked_or_keyless_head_token_fails_the_unit(session, readiness, label, failing):
    readiness.seal(session)
    readiness.head_certificate(session, label)
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, label)
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.FAILING and failing in unit.rows[1].failing_ids
    # A revoked certificate's key still signs; a certificate without its key cannot.
    assert unit.rows[1].last_check.test_signature_ok is (label == "THU-HOI")
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    found = readiness_board(session, focal, SETTINGS, BoardFilter(failing_check=failing)).units
    assert [u.unit_id for u in found] == [readiness.commune.id]


def test_an_empty_token_fails_the_unit(session, readiness):
    readiness.seal(session)
    # The head's certificate is registered on a token that turns out to hold nothing.
    readiness.register(session, "KHAC", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_HEAD), on="TRONG")
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, "TRONG")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.FAILING and "cert.present" in unit.rows[1].failing_ids
    assert any("Thiết bị không có chứng thư số" in text for text in unit.missing)


def test_an_expired_head_certificate_leaves_the_unit_incomplete(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session, "HET-HAN")
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, "HET-HAN")
    unit = commune_board(session, readiness)
    assert unit.state is UnitState.INCOMPLETE
    assert unit.missing == (f"{unit.rows[1].holder_name}: chưa có chứng thư số cá nhân còn hiệu lực.",)


def test_a_unit_sees_only_itself_and_the_focal_office_every_unit_it_serves(session, readiness):
    officer = readiness.world.account(Role.UNIT_OFFICER)
    assert [u.unit_id for u in readiness_board(session, officer, SETTINGS).units] == [readiness.commune.id]
    with pytest.raises(PermissionDenied):
        readiness_board(session, officer, SETTINGS, BoardFilter(unit_id=readiness.world.orgs["other_commune"].id))
    focal_units = {
        u.unit_id for u in readiness_board(session, readiness.world.account(Role.FOCAL_OFFICER), SETTINGS).units
    }
    assert {readiness.commune.id, readiness.world.orgs["other_commune"].id} <= focal_units


def test_the_board_reads_a_fixed_number_of_queries_whatever_the_number_of_units(session, readiness, database_url):
    readiness.seal(session)
    readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU")
    focal = readiness.world.account(Role.FOCAL_OFFICER)

    def queries() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(session.get_bind(), "before_cursor_execute", listener)
        try:
            readiness_board(session, focal, SETTINGS)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listener)
        return len(statements)

    queries()  # the organisation tree and the account's roles are read on first use
    before = queries()
    district = readiness.world.orgs["district"]
    for n in range(20):
        unit = add_org(session, None, "", f"UBND xã Thử {n}", "UBND", OrgKind.COMMUNE_COMMITTEE, district)
        add_account(session, f"thutruong{n}", unit, (Role.UNIT_HEAD, unit))
    session.commit()
    queries()  # the organisation tree changed: read once more (one query), then kept by its version
    assert queries() == before


def test_filters_and_csv(session, readiness):
    readiness.seal(session)
    readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU")
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    unchecked = readiness_board(session, focal, SETTINGS, clean_filter({"state": "unchecked"}))
    assert readiness.commune.id in [u.unit_id for u in unchecked.units]
    assert all(u.state is UnitState.UNCHECKED for u in unchecked.units)
    with pytest.raises(ValidationFailed):
        clean_filter({"state": "nope", "unit": "x"})
    board = readiness_board(session, focal, SETTINGS, BoardFilter(unit_id=readiness.commune.id))
    lines = list(csv.reader(io.StringIO(board_csv(board).decode("utf-8-sig"))))
    assert lines[0][0] == "Đơn vị" and lines[1][0] == "UBND xã Tân Đoàn"
    assert lines[1][1] == "Chưa kiểm tra ký thử gần đây" and lines[1][13] == "Nông Thị Giữ"


def test_the_page_shows_ten_units_at_a_time_and_counts_every_state_when_filtering(session, readiness):
    district = readiness.world.orgs["district"]
    for n in range(25):
        add_org(session, None, "", f"UBND xã Trang {n:02d}", "UBND", OrgKind.COMMUNE_COMMITTEE, district)
    session.commit()
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    every = readiness_board(session, focal, SETTINGS)
    second = readiness_board(session, focal, SETTINGS, page=2)
    assert len(second.units) == 10 and second.total == len(every.units) and second.pages == -(-second.total // 10)
    assert [u.unit_id for u in second.units] == [u.unit_id for u in every.units[10:20]]
    filtered = readiness_board(session, focal, SETTINGS, BoardFilter(state=UnitState.INCOMPLETE), page=1)
    assert filtered.counted_all and filtered.count(UnitState.INCOMPLETE) == filtered.total == len(every.units)


def filtered_state(session, readiness) -> UnitState:
    """The commune's state as the state filter sees it (every unit's state, kept between requests)."""
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    found = [
        state
        for state in UnitState
        if readiness.commune.id
        in [u.unit_id for u in readiness_board(session, focal, SETTINGS, BoardFilter(state=state)).units]
    ]
    assert len(found) == 1
    return found[0]


def test_the_state_filter_follows_every_change_that_decides_a_state(session, readiness):
    organisation = readiness.seal(session)
    head_certificate = readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU")
    assert filtered_state(session, readiness) is UnitState.UNCHECKED
    upload(session, readiness, "LANH-DAO")
    assert filtered_state(session, readiness) is UnitState.READY
    head_certificate.token.state = TokenState.PIN_LOCKED
    session.commit()
    assert filtered_state(session, readiness) is UnitState.FAILING is commune_board(session, readiness).state
    head_certificate.token.state = TokenState.ACTIVE
    session.commit()
    assert filtered_state(session, readiness) is UnitState.READY
    readiness.world.account(Role.UNIT_HEAD).is_disabled = True
    session.commit()
    assert filtered_state(session, readiness) is UnitState.INCOMPLETE
    readiness.world.account(Role.UNIT_HEAD).is_disabled = False
    organisation.revoked_at = utcnow()
    session.commit()
    assert filtered_state(session, readiness) is UnitState.INCOMPLETE
    assert commune_board(session, readiness).missing[0].endswith("chưa có chứng thư số của cơ quan còn hiệu lực.")


def test_the_state_filter_sees_a_passed_check_grow_old(session, readiness, monkeypatch):
    readiness.seal(session)
    readiness.head_certificate(session)
    upload(session, readiness, "VAN-THU")
    upload(session, readiness, "LANH-DAO")
    assert filtered_state(session, readiness) is UnitState.READY
    later = utcnow() + timedelta(days=SETTINGS.check_days, minutes=1)
    monkeypatch.setattr(boards, "utcnow", lambda: later)
    assert filtered_state(session, readiness) is commune_board(session, readiness).state is not UnitState.READY
