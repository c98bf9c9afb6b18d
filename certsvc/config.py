"""Configuration read from the environment.

Every setting has one name in the environment (``CERTSVC_*``); README documents
them as a table. Production must set ``CERTSVC_SECRET_KEY``: there is no default
for it, and the app refuses to start without one unless the caller (the demo
command, the tests) supplies its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigError", "PROJECT_ROOT", "SETTINGS", "instance_path", "load_config"]

#: The repository root: templates, migrations and the instance folder live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the service can run with."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {value}")
    return value


@dataclass(frozen=True)
class _Setting:
    env: str
    key: str
    default: object
    kind: str  # "str", "flag" or "int"


#: Settings other than the database URL and the secret key, as (environment name, Flask key, default).
SETTINGS: tuple[_Setting, ...] = (
    _Setting("CERTSVC_SECURE_COOKIES", "SESSION_COOKIE_SECURE", True, "flag"),
    _Setting("CERTSVC_BEHIND_PROXY", "CERTSVC_BEHIND_PROXY", False, "flag"),
    _Setting("CERTSVC_LOGIN_THROTTLE_AFTER", "CERTSVC_LOGIN_THROTTLE_AFTER", 3, "int"),
    _Setting("CERTSVC_LOGIN_LOCK_AFTER", "CERTSVC_LOGIN_LOCK_AFTER", 10, "int"),
    _Setting("CERTSVC_LOGIN_LOCK_MINUTES", "CERTSVC_LOGIN_LOCK_MINUTES", 15, "int"),
    _Setting("CERTSVC_SESSION_HOURS", "CERTSVC_SESSION_HOURS", 8, "int"),
    _Setting("CERTSVC_LOG_LEVEL", "CERTSVC_LOG_LEVEL", "INFO", "str"),
    # Certificate requests (Nghị định 68/2024: new ≤ 5 years, extension ≤ 3 years)
    _Setting("CERTSVC_MAX_NEW_YEARS", "CERTSVC_MAX_NEW_YEARS", 5, "int"),
    _Setting("CERTSVC_MAX_EXTENSION_YEARS", "CERTSVC_MAX_EXTENSION_YEARS", 3, "int"),
    _Setting("CERTSVC_RENEWAL_GRACE_DAYS", "CERTSVC_RENEWAL_GRACE_DAYS", 30, "int"),
    # Registries
    _Setting("CERTSVC_EXPIRY_WARNING_DAYS", "CERTSVC_EXPIRY_WARNING_DAYS", 30, "int"),
    # Custody register
    _Setting("CERTSVC_CUSTODY_WITNESS_REQUIRED", "CERTSVC_CUSTODY_WITNESS_REQUIRED", True, "flag"),
    _Setting("CERTSVC_CUSTODY_PENDING_HOURS", "CERTSVC_CUSTODY_PENDING_HOURS", 48, "int"),
)


def _check_calendar() -> None:
    """Holiday and reminder settings are read where they are used; refuse bad ones at start-up."""
    from certsvc.core.workdays import calendar_from_settings

    try:
        calendar_from_settings()
    except (ValueError, OSError) as error:
        raise ConfigError(f"holiday settings: {error}") from None
    raw = os.environ.get("CERTSVC_REMINDER_DAYS", "")
    items = raw.replace(",", " ").split()
    if any(not item.isdigit() or int(item) <= 0 for item in items):
        raise ConfigError(f"CERTSVC_REMINDER_DAYS must list positive whole numbers of days, not {raw!r}")


def instance_path() -> Path:
    """Where the SQLite database and the demo's secret live: ``CERTSVC_INSTANCE_PATH`` or ``instance/``."""
    return Path(os.environ.get("CERTSVC_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'certsvc.sqlite'}"


def load_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply ``overrides``.

    ``overrides`` is how the demo command and the tests give their own secret key
    and database; production passes none.
    """
    overrides = dict(overrides or {})
    config: dict = {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("CERTSVC_DATABASE_URL")
        or default_database_url(instance_path),
        "SECRET_KEY": os.environ.get("CERTSVC_SECRET_KEY"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    for setting in SETTINGS:
        if setting.kind == "flag":
            config[setting.key] = _flag(setting.env, setting.default)
        elif setting.kind == "int":
            config[setting.key] = _positive_int(setting.env, setting.default)
        else:
            config[setting.key] = os.environ.get(setting.env) or setting.default
    _check_calendar()
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config.update(overrides)
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            "CERTSVC_SECRET_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and keep it secret."
        )
    return config
