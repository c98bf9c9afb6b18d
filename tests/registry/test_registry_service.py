"""Registry rules without a browser: registration, renewal chains, the token state machine,
revocation and token returns, statuses at their boundaries, working days, expiry reminders."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.core.workdays import WorkCalendar, calendar_from_settings
from certsvc.errors import Conflict, PermissionDenied, ValidationFailed
from certsvc.registry import expiry, registration, service
from certsvc.registry.models import Certificate, ExpiryReminder, Token, TokenKind, TokenReturn, TokenState
from certsvc.registry.service import CertificateStatus, certificate_status, status_clause
from certsvc.registry.tokens import TRANSITIONS
from tests.support.registry import TESTER, add_certificate, next_serial, parsed, registry_counts

#: The settings of an app configured with nothing: 30 warning days, reminders at 90, 60 and 30 days, the usual holidays.
DEFAULTS = service.RegistrySettings()


def last_entries(session, n: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(n)))[::-1]


# --- registration ---------------------------------------------------------------------------------------------


def test_registration_creates_the_token_and_one_audit_entry(session, world):
    commune = world.orgs["commune"]
    before = registry_counts(session)
    focal = world.account(Role.FOCAL_OFFICER)
    cert = registration.register_certificate(
        session,
        focal,
        parsed(cn="UBND xã Tân Đoàn", uid="MST:4900123456"),
        kind=TokenKind.ORGANISATION,
        organisation_id=commune.id,
        token_serial="5401A7C3FFFF",
    )
    session.commit()
    after = registry_counts(session)
    assert after["Certificate"] - before["Certificate"] == 1
    assert after["AuditEntry"] - before["AuditEntry"] == 1
    token = cert.token
    assert (token.serial, token.state, token.kind, token.is_secret, token.organisation_id) == (
        "5401A7C3FFFF",
        TokenState.ACTIVE,
        TokenKind.ORGANISATION,
        True,
        commune.id,
    )
    assert [(e.from_state, e.to_state) for e in token.events] == [(None, TokenState.ACTIVE)]
    (entry,) = last_entries(session, 1)
    assert (entry.action, entry.actor_label, entry.object_id) == (
        "certificate.registered",
        "focalofficer",
        str(cert.id),
    )
    assert '"token_created":true' in entry.details
    assert cert.subject_uid == "MST:4900123456" and cert.key_usage == "digitalSignature, nonRepudiation"


def test_a_duplicate_is_refused_and_nothing_is_written(session, world):
    commune = world.orgs["commune"]
    same = parsed()
    registration.register_certificate(session, TESTER, same, kind=TokenKind.DEVICE, organisation_id=commune.id)
    session.commit()
    before = registry_counts(session)
    with pytest.raises(ValidationFailed) as refused:
        registration.register_certificate(
            session, TESTER, same, kind=TokenKind.DEVICE, organisation_id=commune.id, token_serial=next_serial()
        )
    session.rollback()
    assert "đã có trong sổ" in refused.value.field_errors["file"]
    assert registry_counts(session) == before


def test_an_existing_token_is_linked_and_an_in_stock_one_put_in_service(session, world):
    commune = world.orgs["commune"]
    first = add_certificate(session, commune)
    second = add_certificate(session, commune, serial=first.token.serial, holder=first.holder)
    assert second.token_id == first.token_id
    stock = Token(serial="STOCK01", kind=TokenKind.PERSONAL, organisation_id=commune.id, state=TokenState.IN_STOCK)
    session.add(stock)
    session.commit()
    third = add_certificate(session, commune, serial="STOCK01")
    assert third.token.state is TokenState.ACTIVE
    assert [e.to_state for e in third.token.events] == [TokenState.ACTIVE]


@pytest.mark.parametrize("problem", ["other_unit", "other_kind", "returned", "no_holder", "bad_serial"])
def test_registration_refusals_write_nothing(session, world, problem):
    commune, other = world.orgs["commune"], world.orgs["other_commune"]
    elsewhere = add_certificate(session, other, kind=TokenKind.DEVICE)
    returned = Token(serial="GONE01", kind=TokenKind.DEVICE, organisation_id=commune.id, state=TokenState.RETURNED)
    session.add(returned)
    session.commit()
    before = registry_counts(session)
    kind, serial = {
        "other_unit": (TokenKind.DEVICE, elsewhere.token.serial),
        "other_kind": (TokenKind.ORGANISATION, "GONE01"),
        "returned": (TokenKind.DEVICE, "GONE01"),
        "no_holder": (TokenKind.PERSONAL, None),
        "bad_serial": (TokenKind.DEVICE, "TK 01; DROP"),
    }[problem]
    with pytest.raises(ValidationFailed):
        registration.register_certificate(
            session, TESTER, parsed(), kind=kind, organisation_id=commune.id, token_serial=serial
        )
    session.rollback()
    assert registry_counts(session) == before


def test_only_those_who_manage_the_unit_may_register(session, world):
    commune = world.orgs["commune"]
    for role in (Role.UNIT_HEAD, Role.UNIT_OFFICER, Role.ADMINISTRATOR, Role.AUDITOR, Role.CLERK):
        with pytest.raises(PermissionDenied):
            registration.register_certificate(
                session, world.account(role), parsed(), kind=TokenKind.DEVICE, organisation_id=commune.id
            )
    with pytest.raises(PermissionDenied):  # the province is not served by the focal office
        registration.register_certificate(
            session,
            world.account(Role.FOCAL_OFFICER),
            parsed(),
            kind=TokenKind.DEVICE,
            organisation_id=world.orgs["province"].id,
        )


def test_renewal_chain_same_token_new_token_and_no_second_successor(session, world):
    commune = world.orgs["commune"]
    old = add_certificate(session, commune)
    renewed = add_certificate(session, commune, holder=old.holder, serial=None, predecessor=old)
    assert old.successor is renewed and renewed.predecessor is old
    assert renewed.token_id == old.token_id  # an extension stays on the same token
    replaced = add_certificate(session, commune, holder=old.holder, predecessor=renewed)
    assert replaced.token.replaces_id == old.token_id and replaced.token.replacements == 1
    before = registry_counts(session)
    with pytest.raises(ValidationFailed) as refused:
        registration.register_certificate(
            session,
            TESTER,
            parsed(),
            kind=TokenKind.PERSONAL,
            organisation_id=commune.id,
            holder_id=old.holder_id,
            predecessor=old,
        )
    session.rollback()
    assert "đã được thay" in refused.value.field_errors["predecessor_id"]
    assert registry_counts(session) == before


def test_get_or_create_token(session, world):
    commune = world.orgs["commune"]
    token = registration.get_or_create_token(
        session,
        world.account(Role.FOCAL_OFFICER),
        "NEW001",
        kind=TokenKind.DEVICE,
        organisation_id=commune.id,
        model="ePass2003",
    )
    session.commit()
    assert (token.state, token.model, token.is_secret) == (TokenState.ACTIVE, "ePass2003", False)
    assert last_entries(session, 1)[0].action == "token.registered"
    before = registry_counts(session)
    again = registration.get_or_create_token(
        session, TESTER, "NEW001", kind=TokenKind.DEVICE, organisation_id=commune.id
    )
    assert again.id == token.id and registry_counts(session) == before


# --- the token state machine ----------------------------------------------------------------------------------


def test_every_transition_allowed_or_refused_as_the_table_says(session, world):
    commune = world.orgs["commune"]
    serials = itertools.count()
    for source, target in itertools.product(TokenState, TokenState):
        token = Token(serial=f"SM{next(serials):03d}", kind=TokenKind.DEVICE, organisation_id=commune.id, state=source)
        session.add(token)
        session.commit()
        before = registry_counts(session)
        if (source, target) in TRANSITIONS:
            event = service.transition_token(session, TESTER, token, target, "Kiểm tra bảng chuyển trạng thái")
            session.commit()
            after = registry_counts(session)
            assert (token.state, event.from_state, event.to_state) == (target, source, target)
            assert after["TokenEvent"] - before["TokenEvent"] == 1
            assert after["AuditEntry"] - before["AuditEntry"] == 1
            assert token.recoveries == (1 if target is TokenState.ACTIVE and source in service.RECOVERABLE else 0)
        else:
            with pytest.raises(Conflict):
                service.transition_token(session, TESTER, token, target, "Kiểm tra bảng chuyển trạng thái")
            session.rollback()
            assert registry_counts(session) == before
            assert session.get(Token, token.id).state is source


def test_a_transition_needs_a_reason(session, world):
    token = add_certificate(session, world.orgs["commune"]).token
    before = registry_counts(session)
    with pytest.raises(ValidationFailed) as refused:
        service.transition_token(session, TESTER, token, TokenState.SUSPENDED, "   ")
    session.rollback()
    assert "lý do" in refused.value.field_errors["reason"]
    assert registry_counts(session) == before


def test_recover_token(session, world):
    token = add_certificate(session, world.orgs["commune"]).token
    with pytest.raises(Conflict):
        service.recover_token(session, TESTER, token, "Không bị khóa")
    session.rollback()
    service.transition_token(session, TESTER, token, TokenState.PIN_LOCKED, "Nhập sai PIN")
    service.recover_token(session, world.account(Role.FOCAL_OFFICER), token, "Mở khóa PIN theo Mẫu 06")
    session.commit()
    assert (token.state, token.recoveries) == (TokenState.ACTIVE, 1)
    assert last_entries(session, 1)[0].action == "token.recovered"
    with pytest.raises(PermissionDenied):
        service.recover_token(session, world.account(Role.UNIT_HEAD), token, "Thử")


# --- revocation and the token's return --------------------------------------------------------------------------


def test_revocation_opens_the_return_and_returning_closes_it(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    before = registry_counts(session)
    friday = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam, a Friday
    service.revoke_certificate(
        session, world.account(Role.FOCAL_OFFICER), cert, revoked_at=friday, reason="Nghỉ hưu", calendar=WorkCalendar()
    )
    session.commit()
    after = registry_counts(session)
    assert after["AuditEntry"] - before["AuditEntry"] == 1 and after["TokenReturn"] - before["TokenReturn"] == 1
    assert (cert.revoked_at, cert.revocation_reason) == (friday, "Nghỉ hưu")
    (pending,) = service.open_returns(session, [cert.token_id])
    assert pending.due_on == date(2026, 11, 30)  # five working days: Mon 23, Wed 25 … Mon 30 (24/11 is a holiday)
    assert certificate_status(cert, friday, warn_days=DEFAULTS.warning_days) is CertificateStatus.REVOKED
    with pytest.raises(Conflict):
        service.revoke_certificate(
            session, TESTER, cert, revoked_at=friday, reason="Lần hai", calendar=DEFAULTS.calendar
        )
    session.rollback()
    service.transition_token(session, TESTER, cert.token, TokenState.RETURNED, "Đã nộp lại theo biên bản Mẫu 08")
    session.commit()
    assert service.open_returns(session, [cert.token_id]) == []
    assert session.get(TokenReturn, pending.id).returned_at is not None


def test_revocation_needs_a_reason_and_writes_nothing_without(session, world):
    cert = add_certificate(session, world.orgs["commune"])
    before = registry_counts(session)
    with pytest.raises(ValidationFailed):
        service.revoke_certificate(
            session, TESTER, cert, revoked_at=datetime.now(UTC), reason="", calendar=DEFAULTS.calendar
        )
    session.rollback()
    assert registry_counts(session) == before and session.get(Certificate, cert.id).revoked_at is None


# --- status at its boundaries ------------------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("not_after", "revoked_at", "expected"),
    [
        (NOW + timedelta(days=30, seconds=1), None, CertificateStatus.VALID),
        (NOW + timedelta(days=30), None, CertificateStatus.EXPIRING),
        (NOW, None, CertificateStatus.EXPIRING),  # notAfter is the last valid moment
        (NOW - timedelta(microseconds=1), None, CertificateStatus.EXPIRED),
        (NOW + timedelta(days=400), NOW, CertificateStatus.REVOKED),
        (NOW + timedelta(days=400), NOW + timedelta(seconds=1), CertificateStatus.VALID),  # revocation not yet in force
        (NOW - timedelta(days=1), NOW - timedelta(days=2), CertificateStatus.REVOKED),
    ],
)
def test_status_at_boundaries_in_python_and_in_sql(session, world, not_after, revoked_at, expected):
    cert = add_certificate(session, world.orgs["commune"])
    cert.not_after, cert.revoked_at = not_after, revoked_at
    session.commit()
    assert certificate_status(cert, NOW, warn_days=30) is expected
    for status in CertificateStatus:
        found = session.scalar(
            select(Certificate.id).where(Certificate.id == cert.id, status_clause(status, NOW, warn_days=30))
        )
        assert (found is not None) == (status is expected), status


def test_the_expiring_threshold_is_the_callers_value_read_from_the_app_config(session, world, make_app, monkeypatch):
    cert = add_certificate(session, world.orgs["commune"])
    cert.not_after = NOW + timedelta(days=45)
    assert certificate_status(cert, NOW, warn_days=60) is CertificateStatus.EXPIRING
    assert certificate_status(cert, NOW, warn_days=10) is CertificateStatus.VALID
    with pytest.raises(TypeError):
        certificate_status(cert, NOW)  # no hidden default: a caller that forgets the setting fails at once
    monkeypatch.setenv("CERTSVC_EXPIRY_WARNING_DAYS", "60")  # the environment counts only when an app is built
    configured = service.RegistrySettings.from_config(make_app().config)
    assert configured.warning_days == 60
    assert certificate_status(cert, NOW, warn_days=configured.warning_days) is CertificateStatus.EXPIRING
    assert DEFAULTS.warning_days == 30


# --- working days ----------------------------------------------------------------------------------------------


def test_working_days_skip_the_weekend_and_holidays(monkeypatch, tmp_path):
    calendar = WorkCalendar()
    assert calendar.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday → Monday
    assert calendar.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 21)
    # Wed 29/4; 30/4 and 1/5 are holidays, then the weekend
    assert calendar.add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    assert calendar.add_working_days(date(2026, 4, 29), 5) == date(2026, 5, 8)
    assert calendar.working_days_between(date(2026, 4, 29), date(2026, 5, 8)) == 5
    assert calendar.working_days_between(date(2026, 5, 8), date(2026, 4, 29)) == -5
    assert calendar_from_settings({}) == calendar
    listed = calendar_from_settings({"CERTSVC_HOLIDAYS": "2026-11-23, 2026-11-24"})
    assert listed.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 25)
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# Tết Bính Ngọ\n2026-02-16\n2026-02-17  # mùng 1\n")
    from_file = calendar_from_settings({"CERTSVC_HOLIDAYS_FILE": str(holidays), "CERTSVC_FIXED_HOLIDAYS": ""})
    assert from_file.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 18)
    assert from_file.working_days_between(date(2026, 4, 29), date(2026, 4, 30)) == 1  # no fixed holidays any more
    monkeypatch.setenv("CERTSVC_HOLIDAYS", "2026-04-29")  # the environment is config.py's business, not read here
    assert calendar_from_settings({}) == calendar
    with pytest.raises(ValueError, match="CERTSVC_HOLIDAYS"):
        calendar_from_settings({"CERTSVC_HOLIDAYS": "23/11/2026"})
    with pytest.raises(ValueError, match="CERTSVC_HOLIDAYS_FILE"):
        calendar_from_settings({"CERTSVC_HOLIDAYS_FILE": str(tmp_path / "missing.txt")})


# --- expiry reminders ------------------------------------------------------------------------------------------


def test_reminders_are_recorded_once_per_threshold_and_never_for_renewed_certificates(session, world):
    commune = world.orgs["commune"]
    soon = add_certificate(session, commune, ends=timedelta(days=20), now=NOW)
    later = add_certificate(session, commune, ends=timedelta(days=45), now=NOW)
    renewed = add_certificate(session, commune, ends=timedelta(days=10), now=NOW)
    add_certificate(session, commune, holder=renewed.holder, serial=None, predecessor=renewed, now=NOW)
    revoked = add_certificate(session, commune, ends=timedelta(days=10), now=NOW)
    service.revoke_certificate(
        session, TESTER, revoked, revoked_at=NOW - timedelta(days=1), reason="Nghỉ hưu", calendar=DEFAULTS.calendar
    )
    add_certificate(session, commune, ends=timedelta(days=-3), now=NOW)  # expired: no reminder
    session.commit()
    before = registry_counts(session)
    recorded = expiry.record_expiry_reminders(session, NOW, thresholds=DEFAULTS.reminder_thresholds)
    session.commit()
    assert {(r.certificate_id, r.threshold_days) for r in recorded} == {(soon.id, 30), (later.id, 60)}
    assert registry_counts(session)["AuditEntry"] - before["AuditEntry"] == 1
    assert last_entries(session, 1)[0].action == "certificate.expiry_reminders"
    again = registry_counts(session)
    assert (
        expiry.record_expiry_reminders(session, NOW + timedelta(hours=1), thresholds=DEFAULTS.reminder_thresholds) == []
    )
    session.commit()
    assert registry_counts(session) == again  # nothing new, not even an audit entry
    recorded = expiry.record_expiry_reminders(
        session, NOW + timedelta(days=20), thresholds=DEFAULTS.reminder_thresholds
    )
    session.commit()
    assert {(r.certificate_id, r.threshold_days) for r in recorded} == {(later.id, 30)}
    stored = session.scalars(select(ExpiryReminder.certificate_id, ExpiryReminder.threshold_days)).all()
    assert renewed.id not in stored and revoked.id not in stored


def test_remind_command(app, session, world):
    from certsvc.registry.cli import registry

    add_certificate(session, world.orgs["commune"], ends=timedelta(days=5))
    result = app.test_cli_runner().invoke(registry, ["remind"])
    assert result.exit_code == 0, result.output
    assert "Đã ghi 1 nhắc hạn" in result.output and "mốc 30 ngày" in result.output
    result = app.test_cli_runner().invoke(registry, ["remind"])
    assert "Đã ghi 0 nhắc hạn" in result.output


# --- the board -------------------------------------------------------------------------------------------------


def test_board_windows_and_overdue_returns(session, world):
    commune = world.orgs["commune"]
    in_10 = add_certificate(session, commune, ends=timedelta(days=10), now=NOW)
    in_50 = add_certificate(session, commune, ends=timedelta(days=50), now=NOW)
    in_80 = add_certificate(session, commune, ends=timedelta(days=80), now=NOW)
    gone = add_certificate(session, commune, ends=timedelta(days=-2), now=NOW)
    add_certificate(session, commune, ends=timedelta(days=200), now=NOW)
    revoked = add_certificate(session, commune, now=NOW)
    service.revoke_certificate(
        session, TESTER, revoked, revoked_at=NOW - timedelta(days=14), reason="Nghỉ hưu", calendar=DEFAULTS.calendar
    )
    session.commit()
    board = expiry.expiry_board(session, {commune.id}, NOW, calendar=DEFAULTS.calendar)
    assert [(days, [r.certificate.id for r in rows]) for days, rows in board.windows] == [
        (30, [in_10.id]),
        (60, [in_50.id]),
        (90, [in_80.id]),
    ]
    assert [r.certificate.id for r in board.expired] == [gone.id] and board.expired[0].days_left == -2
    (pending,) = board.returns
    assert pending.overdue and pending.working_days_left < 0
    assert expiry.expiry_board(session, {world.orgs["other_commune"].id}, NOW, calendar=DEFAULTS.calendar).returns == []
