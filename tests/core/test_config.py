"""Configuration from the environment."""

import re
from datetime import date

import pytest

from certsvc import create_app
from certsvc.config import HOLIDAY_SETTINGS, PROJECT_ROOT, SETTINGS, WORK_CALENDAR, ConfigError, load_config
from certsvc.core.workdays import WorkCalendar


def test_secret_key_is_required_without_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("CERTSVC_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CERTSVC_SECRET_KEY"):
        load_config(tmp_path)


def test_defaults_are_safe(monkeypatch, tmp_path):
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    monkeypatch.delenv("CERTSVC_DATABASE_URL", raising=False)
    monkeypatch.delenv("CERTSVC_SECURE_COOKIES", raising=False)
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'certsvc.sqlite'}"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_values_are_read_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("CERTSVC_DATABASE_URL", "postgresql+psycopg://u@db/certsvc")
    monkeypatch.setenv("CERTSVC_LOGIN_LOCK_MINUTES", "30")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/certsvc"
    assert config["CERTSVC_LOGIN_LOCK_MINUTES"] == 30
    monkeypatch.setenv("CERTSVC_SECURE_COOKIES", "maybe")
    with pytest.raises(ConfigError, match="CERTSVC_SECURE_COOKIES"):
        load_config(tmp_path)
    monkeypatch.setenv("CERTSVC_SECURE_COOKIES", "no")
    monkeypatch.setenv("CERTSVC_LOGIN_LOCK_MINUTES", "-1")
    with pytest.raises(ConfigError, match="CERTSVC_LOGIN_LOCK_MINUTES"):
        load_config(tmp_path)


def test_bad_holiday_and_reminder_settings_stop_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("CERTSVC_HOLIDAYS", "2026-02-30")
    with pytest.raises(ConfigError, match="2026-02-30"):
        load_config(tmp_path)
    monkeypatch.setenv("CERTSVC_HOLIDAYS", "2026-02-16, 2026-02-17")
    monkeypatch.setenv("CERTSVC_REMINDER_DAYS", "90,sáu mươi")
    with pytest.raises(ConfigError, match="CERTSVC_REMINDER_DAYS"):
        load_config(tmp_path)
    monkeypatch.setenv("CERTSVC_REMINDER_DAYS", "90,60,30")
    assert load_config(tmp_path)["CERTSVC_CUSTODY_PENDING_HOURS"] == 48


# --- typed values, parsed once ----------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    """An environment with a secret and none of the settings this file checks."""
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    for name in (*(s.env for s in SETTINGS), *HOLIDAY_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_are_stored_typed_with_their_defaults(clean_env, tmp_path):
    config = load_config(tmp_path)
    assert config["CERTSVC_EXPIRY_WARNING_DAYS"] == 30
    assert config["CERTSVC_REMINDER_DAYS"] == (90, 60, 30)
    assert config[WORK_CALENDAR] == WorkCalendar()
    assert config["CERTSVC_CUSTODY_WITNESS_REQUIRED"] is True and config["CERTSVC_MAX_NEW_YEARS"] == 5
    assert {s.key for s in SETTINGS} | {WORK_CALENDAR} <= set(config)
    assert not set(HOLIDAY_SETTINGS) & set(config)  # only the calendar built from them is kept


def test_environment_values_are_parsed_into_typed_values(clean_env, tmp_path):
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("2026-02-17  # mùng 1 Tết\n")
    clean_env.setenv("CERTSVC_REMINDER_DAYS", "30, 90 60,30")
    clean_env.setenv("CERTSVC_EXPIRY_WARNING_DAYS", "45")
    clean_env.setenv("CERTSVC_HOLIDAYS", "2026-02-16")
    clean_env.setenv("CERTSVC_HOLIDAYS_FILE", str(holidays))
    clean_env.setenv("CERTSVC_FIXED_HOLIDAYS", "09-02")
    config = load_config(tmp_path)
    assert config["CERTSVC_REMINDER_DAYS"] == (90, 60, 30)
    assert config["CERTSVC_EXPIRY_WARNING_DAYS"] == 45
    assert config[WORK_CALENDAR] == WorkCalendar(
        holidays=frozenset({date(2026, 2, 16), date(2026, 2, 17)}), fixed=frozenset({(9, 2)})
    )


def test_overrides_win_and_are_checked_like_the_environment(clean_env, tmp_path):
    clean_env.setenv("CERTSVC_REMINDER_DAYS", "90")
    clean_env.setenv("CERTSVC_HOLIDAYS", "2026-02-16")
    config = load_config(
        tmp_path,
        {
            "CERTSVC_REMINDER_DAYS": [15, 45],
            "CERTSVC_EXPIRY_WARNING_DAYS": "60",
            "CERTSVC_HOLIDAYS": "2026-11-23",
            "CERTSVC_SESSION_HOURS": 2,
        },
    )
    assert config["CERTSVC_REMINDER_DAYS"] == (45, 15)
    assert (config["CERTSVC_EXPIRY_WARNING_DAYS"], config["CERTSVC_SESSION_HOURS"]) == (60, 2)
    assert config[WORK_CALENDAR].holidays == {date(2026, 11, 23)}
    calendar = WorkCalendar(fixed=frozenset())
    assert load_config(tmp_path, {WORK_CALENDAR: calendar})[WORK_CALENDAR] is calendar
    with pytest.raises(ConfigError, match="CERTSVC_EXPIRY_WARNING_DAYS"):
        load_config(tmp_path, {"CERTSVC_EXPIRY_WARNING_DAYS": 0})
    with pytest.raises(ConfigError, match=WORK_CALENDAR):
        load_config(tmp_path, {WORK_CALENDAR: "2026-11-23"})


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("CERTSVC_REMINDER_DAYS", "90,sáu mươi", "CERTSVC_REMINDER_DAYS"),
        ("CERTSVC_REMINDER_DAYS", "90,0", "CERTSVC_REMINDER_DAYS"),
        ("CERTSVC_REMINDER_DAYS", ",", "CERTSVC_REMINDER_DAYS"),
        ("CERTSVC_EXPIRY_WARNING_DAYS", "ba mươi", "CERTSVC_EXPIRY_WARNING_DAYS"),
        ("CERTSVC_HOLIDAYS", "2026-02-30", "CERTSVC_HOLIDAYS"),
        ("CERTSVC_HOLIDAYS", "16/02/2026", "CERTSVC_HOLIDAYS"),
        ("CERTSVC_FIXED_HOLIDAYS", "13-01", "CERTSVC_FIXED_HOLIDAYS"),
        ("CERTSVC_HOLIDAYS_FILE", "/nonexistent/holidays.txt", "CERTSVC_HOLIDAYS_FILE"),
        ("CERTSVC_PUBLIC_URL", "kyso.langson.gov.vn", "CERTSVC_PUBLIC_URL"),
        ("CERTSVC_PUBLIC_URL", "https://kyso.langson.gov.vn/custody", "CERTSVC_PUBLIC_URL"),
    ],
)
def test_a_bad_setting_refuses_start_up_naming_the_variable(clean_env, tmp_path, name, value, named):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


# --- one reader of the environment, one table of settings ------------------------------------------------------


def test_only_config_reads_the_environment():
    """The process's environment, that is: a request's WSGI ``environ`` is the request."""
    package = PROJECT_ROOT / "certsvc"
    readers = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted(package.rglob("*.py"))
        if path != package / "config.py"
        and re.search(r"\bos\.environ\b|\bgetenv\b|from os import .*\benviron\b", path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_readme_lists_every_setting():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("## Command line")]
    documented = set(re.findall(r"^\| `(CERTSVC_[A-Z_]+)` \|", table, re.MULTILINE))
    known = (
        {s.env for s in SETTINGS}
        | set(HOLIDAY_SETTINGS)
        | {"CERTSVC_DATABASE_URL", "CERTSVC_SECRET_KEY", "CERTSVC_INSTANCE_PATH", "CERTSVC_TEST_DATABASE_URL"}
    )
    assert documented == known
