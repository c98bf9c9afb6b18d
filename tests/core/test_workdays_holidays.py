"""The work calendar's public holidays come from the ``holidays`` package; settings add and remove days."""

from __future__ import annotations

import socket
from datetime import date, datetime, time, timedelta

import holidays
import pytest

from certsvc.accounts.models import Role
from certsvc.config import WORK_CALENDAR, ConfigError, load_config
from certsvc.core.workdays import HOLIDAY_SETTINGS, WorkCalendar, calendar_from_settings, public_holidays
from certsvc.registry import service
from certsvc.timeutil import VIETNAM_TZ
from tests.support.registry import add_certificate

TET_2027 = [date(2027, 2, 4) + timedelta(days=n) for n in range(7)]  # 29 Tết (Thu) to mùng 5 (Wed)


@pytest.fixture
def calendar_env(monkeypatch):
    """An environment with a secret and no calendar setting: the calendar an installation gets by default."""
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    for name in HOLIDAY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_token_revoked_before_tet_2027_is_due_back_after_the_whole_break(make_app, calendar_env, session, world):
    assert sorted(day for day in holidays.country_holidays("VN", years=2027) if day.month == 2) == TET_2027
    cert = add_certificate(session, world.orgs["commune"], cn="Nông Văn Khánh")
    app = make_app()  # nothing configured: the package's calendar
    revoked_on = date(2027, 2, 3)  # Wednesday, the last working day before Tết
    service.record_past_revocation(
        session,
        world.account(Role.FOCAL_OFFICER),
        cert,
        revoked_on=revoked_on,
        reason="Nghỉ hưu",
        calendar=service.RegistrySettings.from_config(app.config).calendar,
        now=datetime.combine(revoked_on, time(10), VIETNAM_TZ),
    )
    session.commit()

    (token_return,) = service.open_returns(session, [cert.token_id])
    # Thu 11, Fri 12, Mon 15, Tue 16, Wed 17 February: the seven days of Tết are not counted
    assert token_return.due_on == date(2027, 2, 17)
    assert WorkCalendar(fixed=frozenset()).add_working_days(revoked_on, 5) == date(2027, 2, 10)  # weekends only


def test_gio_to_national_day_substitution_and_culture_day_are_days_off():
    calendar = WorkCalendar()
    assert calendar.add_working_days(date(2027, 4, 15), 1) == date(2027, 4, 19)  # Giỗ Tổ Hùng Vương, Fri 16/4
    assert calendar.add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)  # Giỗ Tổ on Sunday: Monday off
    # 2/9/2026 with 1/9, and Monday 31/8 off in exchange for Saturday 22/8, a working day
    assert calendar.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    assert calendar.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert calendar.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)  # Ngày Văn hóa Việt Nam
    assert calendar.working_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 4


def test_settings_add_days_off_and_make_days_working_days(calendar_env, tmp_path):
    monday = date(2026, 11, 23)
    assert WorkCalendar().add_working_days(monday, 5) == date(2026, 12, 1)
    calendar_env.setenv("CERTSVC_WORKING_DAYS", "2026-11-24")  # 24/11 not adopted after all
    assert load_config(tmp_path)[WORK_CALENDAR].add_working_days(monday, 5) == date(2026, 11, 30)
    calendar_env.setenv("CERTSVC_HOLIDAYS", "2026-11-27")  # a day off announced late
    assert load_config(tmp_path)[WORK_CALENDAR].add_working_days(monday, 5) == date(2026, 12, 1)
    calendar_env.delenv("CERTSVC_WORKING_DAYS")
    assert load_config(tmp_path)[WORK_CALENDAR].add_working_days(monday, 5) == date(2026, 12, 2)
    swapped = calendar_from_settings({"CERTSVC_WORKING_DAYS": "2026-11-28"})  # a Saturday made a working day
    assert swapped.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 28)


def test_a_date_both_added_and_made_a_working_day_or_a_bad_date_stops_the_start(calendar_env, tmp_path):
    calendar_env.setenv("CERTSVC_HOLIDAYS", "2026-11-27")
    calendar_env.setenv("CERTSVC_WORKING_DAYS", "2026-11-27")
    with pytest.raises(ConfigError, match="CERTSVC_WORKING_DAYS: 2026-11-27"):
        load_config(tmp_path)
    calendar_env.setenv("CERTSVC_WORKING_DAYS", "28/11/2026")
    with pytest.raises(ConfigError, match="CERTSVC_WORKING_DAYS"):
        load_config(tmp_path)


def test_fixed_holidays_replace_the_package_with_the_office_own_calendar(calendar_env, tmp_path):
    calendar_env.setenv("CERTSVC_FIXED_HOLIDAYS", "01-01, 04-30, 05-01, 09-02")
    calendar_env.setenv("CERTSVC_HOLIDAYS", "2027-02-08")
    own = load_config(tmp_path)[WORK_CALENDAR]
    assert own.add_working_days(date(2027, 2, 3), 5) == date(2027, 2, 11)  # only the listed day of Tết
    assert own.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_the_calendar_needs_no_network_and_never_asks_for_far_years(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the calendar went to the network")

    def asked(country, years, **kwargs):
        assert 1901 <= years <= 2100, years
        return real(country, years=years, **kwargs)

    real = holidays.country_holidays
    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(holidays, "country_holidays", asked)
    public_holidays.cache_clear()
    try:
        assert WorkCalendar().add_working_days(date(2027, 2, 3), 5) == date(2027, 2, 17)
        assert WorkCalendar().add_working_days(date(9999, 12, 20), 5) == date(9999, 12, 27)
        assert WorkCalendar().working_days_between(date(1, 1, 1), date(1, 1, 8)) == 5
    finally:
        public_holidays.cache_clear()  # nothing computed under the patches stays
