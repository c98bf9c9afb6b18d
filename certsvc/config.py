"""Configuration read from the environment — the only module of certsvc that reads it.

Every setting has one name in the environment (``CERTSVC_*``); README documents
them as a table. :func:`load_config` parses each once, refuses a bad value at
start-up with :class:`ConfigError` naming the variable, and stores typed values
(ints, flags, tuples, a :class:`WorkCalendar`) in the Flask config; the rest of the
code reads ``app.config`` and never ``os.environ``. Production must set
``CERTSVC_SECRET_KEY``: there is no default for it, and the app refuses to serve
without one unless the caller (the demo command, the tests) supplies its own. The
commands that only work on the database (``require_secret=False``) run without it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from certsvc.core.workdays import HOLIDAY_SETTINGS, WorkCalendar, calendar_from_settings

__all__ = [
    "ConfigError",
    "PROJECT_ROOT",
    "SETTINGS",
    "HOLIDAY_SETTINGS",
    "WORK_CALENDAR",
    "instance_path",
    "load_config",
    "setting_default",
    "setting_value",
]

#: The repository root: templates, migrations and the instance folder live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The Flask config key of the :class:`WorkCalendar` built from :data:`HOLIDAY_SETTINGS`.
WORK_CALENDAR = "CERTSVC_WORK_CALENDAR"


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the service can run with."""


# Each parser takes the raw value — a string from the environment, or a string or an already typed
# value from the overrides — and returns the typed value, the default when unset or empty.


def _is_unset(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def _flag(name: str, raw: object, default: bool) -> bool:
    if isinstance(raw, bool):
        return raw
    if _is_unset(raw):
        return default
    value = str(raw).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _positive_int(name: str, raw: object, default: int) -> int:
    if _is_unset(raw):
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = raw if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {value}")
    return value


def _day_list(name: str, raw: object, default: tuple[int, ...]) -> tuple[int, ...]:
    """Positive whole numbers of days (separated by commas or spaces), each once, largest first."""
    if _is_unset(raw):
        return default
    if isinstance(raw, str | int):
        items = str(raw).replace(",", " ").split()
    elif isinstance(raw, Iterable):
        items = [str(item) for item in raw]
    else:
        items = []  # refused below
    if not items or any(not item.isdigit() or int(item) <= 0 for item in items):
        raise ConfigError(f"{name} must list positive whole numbers of days, not {raw!r}")
    return tuple(sorted({int(item) for item in items}, reverse=True))


def _text(name: str, raw: object, default: str) -> str:
    return default if _is_unset(raw) else str(raw).strip()


def _clock(name: str, raw: object, default: str) -> time:
    """A time of day written ``HH:MM`` (24-hour clock); the default is written so too, as README shows it."""
    if isinstance(raw, time):
        return raw
    text = str(default if _is_unset(raw) else raw).strip()
    try:
        hours, minutes = text.split(":")
        if not (len(hours) in (1, 2) and len(minutes) == 2 and (hours + minutes).isdigit()):
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name} must be a time of day HH:MM, not {raw!r}") from None


def _percent(name: str, raw: object, default: int) -> int:
    """A whole percentage from 1 to 100."""
    value = _positive_int(name, raw, default)
    if value > 100:
        raise ConfigError(f"{name} must be a percentage from 1 to 100, not {value}")
    return value


def _domain(name: str, raw: object, default: str) -> str:
    """A mail domain such as ``langson.gov.vn`` (lower-cased, a leading ``@`` dropped), or empty for none."""
    text = _text(name, raw, default).lower().removeprefix("@")
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    if text and not re.fullmatch(rf"{label}(?:\.{label})+", text):
        raise ConfigError(f"{name} must be a mail domain such as langson.gov.vn, not {raw!r}")
    return text


def _origin(name: str, raw: object, default: str) -> str:
    """A web origin, ``scheme://host[:port]`` without a path (it is written into a Content-Security-Policy)."""
    text = _text(name, raw, default)
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?", text):
        raise ConfigError(f"{name} must be an origin such as http://127.0.0.1:8987, not {raw!r}")
    return text


def _optional_origin(name: str, raw: object, default: str) -> str:
    """An origin as :func:`_origin` reads it, or empty for none."""
    text = _text(name, raw, default)
    return _origin(name, text, default) if text else ""


#: By a setting's kind; the default a parser is given is of the type it returns, except a time of day's
#: (its ``HH:MM`` text: :func:`setting_value` of an empty mapping gives it typed).
_PARSERS: dict[str, Callable[[str, object, Any], object]] = {
    "str": _text,
    "flag": _flag,
    "int": _positive_int,
    "days": _day_list,
    "time": _clock,
    "percent": _percent,
    "origin": _origin,
    "optional_origin": _optional_origin,
    "domain": _domain,
}


@dataclass(frozen=True)
class _Setting:
    env: str
    key: str
    default: object
    kind: str  # a key of _PARSERS: "str", "flag", "int", "days", "time", "percent", "origin", "optional_origin"…


#: Settings other than the database URL, the secret key and the holidays, as (environment name, Flask key,
#: default, kind).
SETTINGS: tuple[_Setting, ...] = (
    _Setting("CERTSVC_SECURE_COOKIES", "SESSION_COOKIE_SECURE", True, "flag"),
    _Setting("CERTSVC_BEHIND_PROXY", "CERTSVC_BEHIND_PROXY", False, "flag"),
    _Setting("CERTSVC_LOGIN_THROTTLE_AFTER", "CERTSVC_LOGIN_THROTTLE_AFTER", 3, "int"),
    _Setting("CERTSVC_LOGIN_LOCK_AFTER", "CERTSVC_LOGIN_LOCK_AFTER", 30, "int"),
    _Setting("CERTSVC_LOGIN_LOCK_MINUTES", "CERTSVC_LOGIN_LOCK_MINUTES", 15, "int"),
    _Setting("CERTSVC_SESSION_HOURS", "CERTSVC_SESSION_HOURS", 8, "int"),
    _Setting("CERTSVC_LOG_LEVEL", "CERTSVC_LOG_LEVEL", "INFO", "str"),
    # Certificate requests (Nghị định 68/2024: new ≤ 5 years, extension ≤ 3 years)
    _Setting("CERTSVC_MAX_NEW_YEARS", "CERTSVC_MAX_NEW_YEARS", 5, "int"),
    _Setting("CERTSVC_MAX_EXTENSION_YEARS", "CERTSVC_MAX_EXTENSION_YEARS", 3, "int"),
    _Setting("CERTSVC_RENEWAL_GRACE_DAYS", "CERTSVC_RENEWAL_GRACE_DAYS", 30, "int"),
    # The official mail domain: when set, every e-mail on a request form is on it (or a subdomain of it)
    _Setting("CERTSVC_OFFICIAL_EMAIL_DOMAIN", "CERTSVC_OFFICIAL_EMAIL_DOMAIN", "", "domain"),
    # Registries
    _Setting("CERTSVC_EXPIRY_WARNING_DAYS", "CERTSVC_EXPIRY_WARNING_DAYS", 30, "int"),
    _Setting("CERTSVC_REMINDER_DAYS", "CERTSVC_REMINDER_DAYS", (90, 60, 30), "days"),
    # Custody register; the address outside parties (the CA) reach the service at, for the QR of printed minutes
    _Setting("CERTSVC_PUBLIC_URL", "CERTSVC_PUBLIC_URL", "", "optional_origin"),
    _Setting("CERTSVC_CUSTODY_WITNESS_REQUIRED", "CERTSVC_CUSTODY_WITNESS_REQUIRED", True, "flag"),
    _Setting("CERTSVC_CUSTODY_PENDING_HOURS", "CERTSVC_CUSTODY_PENDING_HOURS", 48, "int"),
    # Documents: working hours (a document received outside them counts from the next working session) and
    # the seeds' targets (seed 002 II): digitally signed, signed by the unit's head, district leadership's
    _Setting("CERTSVC_WORK_DAY_START", "CERTSVC_WORK_DAY_START", "08:00", "time"),
    _Setting("CERTSVC_WORK_DAY_END", "CERTSVC_WORK_DAY_END", "17:00", "time"),
    _Setting("CERTSVC_TARGET_SIGNED_PERCENT", "CERTSVC_TARGET_SIGNED_PERCENT", 100, "percent"),
    _Setting("CERTSVC_TARGET_HEAD_SIGNED_PERCENT", "CERTSVC_TARGET_HEAD_SIGNED_PERCENT", 80, "percent"),
    _Setting("CERTSVC_TARGET_LEADERSHIP_DIGITAL_PERCENT", "CERTSVC_TARGET_LEADERSHIP_DIGITAL_PERCENT", 20, "percent"),
    # Readiness: a token counts as working when a check with a verified test signature passed this recently
    _Setting("CERTSVC_READINESS_CHECK_DAYS", "CERTSVC_READINESS_CHECK_DAYS", 30, "int"),
    # The signing agent (token-agent serve) the document pages call on the user's PC
    _Setting("CERTSVC_AGENT_URL", "CERTSVC_AGENT_URL", "http://127.0.0.1:8987", "origin"),
)
_BY_KEY = {setting.key: setting for setting in SETTINGS}


def setting_default(key: str) -> Any:
    """The default of the setting stored under the Flask ``key``: the settings classes of the capabilities
    take their defaults from here, so that :data:`SETTINGS` is the one place they are written."""
    return _BY_KEY[key].default


def setting_value(config: Mapping[str, object], key: str) -> Any:
    """The setting ``key`` of ``config`` (an app config, or a plain mapping in tests), checked and typed as
    :func:`load_config` does — a value it already typed passes unchanged; the default when missing."""
    setting = _BY_KEY[key]
    return _PARSERS[setting.kind](setting.env, config.get(key), setting.default)


def _work_calendar(overrides: dict) -> WorkCalendar:
    """The calendar of :data:`HOLIDAY_SETTINGS` (an override of one wins over the environment), or the
    :class:`WorkCalendar` given as the ``CERTSVC_WORK_CALENDAR`` override; the used overrides are removed."""
    raw = {name: overrides.pop(name) if name in overrides else os.environ.get(name) for name in HOLIDAY_SETTINGS}
    if WORK_CALENDAR in overrides:
        calendar = overrides.pop(WORK_CALENDAR)
        if not isinstance(calendar, WorkCalendar):
            raise ConfigError(f"{WORK_CALENDAR} must be a WorkCalendar, not {calendar!r}")
        return calendar
    try:
        return calendar_from_settings({name: value for name, value in raw.items() if value is not None})
    except ValueError as error:
        raise ConfigError(str(error)) from None


def instance_path() -> Path:
    """Where the SQLite database and the demo's secret live: ``CERTSVC_INSTANCE_PATH`` or ``instance/``."""
    return Path(os.environ.get("CERTSVC_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'certsvc.sqlite'}"


def load_config(instance_path: Path, overrides: dict | None = None, *, require_secret: bool = True) -> dict:
    """Build the Flask config from the environment, then apply ``overrides``.

    ``overrides`` is how the demo command and the tests give their own secret key,
    database or settings; production passes none. An override of a setting (by its
    Flask key, which is its environment name except for ``SESSION_COOKIE_SECURE``)
    wins over the environment and is checked and typed the same way. Without
    ``require_secret`` a missing secret key is allowed (the app then cannot sign cookies).
    """
    overrides = dict(overrides or {})
    config: dict = {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("CERTSVC_DATABASE_URL") or default_database_url(instance_path),
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
        raw = overrides.pop(setting.key) if setting.key in overrides else os.environ.get(setting.env)
        config[setting.key] = _PARSERS[setting.kind](setting.env, raw, setting.default)
    config[WORK_CALENDAR] = _work_calendar(overrides)
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config.update(overrides)
    if require_secret and not config.get("SECRET_KEY"):
        raise ConfigError(
            "CERTSVC_SECRET_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and keep it secret."
        )
    return config
