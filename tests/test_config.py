"""Configuration from the environment."""

import pytest

from certsvc.config import ConfigError, load_config


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
