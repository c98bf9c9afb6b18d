"""Each setting's default is written once, in ``certsvc.config.SETTINGS``; the settings classes and README agree."""

from __future__ import annotations

import re

import pytest

from certsvc.config import PROJECT_ROOT, SETTINGS, ConfigError, load_config
from certsvc.core.workdays import HOLIDAY_SETTINGS
from certsvc.custody.service import CustodySettings
from certsvc.documents.settings import DocumentSettings
from certsvc.registry.service import RegistrySettings
from certsvc.requests.fields import SubmissionLimits

CAPABILITY_SETTINGS = (SubmissionLimits, CustodySettings, RegistrySettings, DocumentSettings)


def test_an_installation_configured_with_nothing_gets_the_settings_classes_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CERTSVC_SECRET_KEY", "x" * 32)
    for name in (*(s.env for s in SETTINGS), *HOLIDAY_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    for settings in CAPABILITY_SETTINGS:
        assert settings.from_config(config) == settings() == settings.from_config({})


def test_readme_shows_the_defaults_of_the_settings_table():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `(CERTSVC_[A-Z_]+)` \|.*\| `([^`]*)` \|$", readme, re.MULTILINE))

    def shown(default: object) -> str:
        if isinstance(default, bool):
            return "true" if default else "false"
        if isinstance(default, tuple):
            return ",".join(map(str, default))
        return str(default)

    assert {s.env: documented.get(s.env) for s in SETTINGS} == {s.env: shown(s.default) for s in SETTINGS}


@pytest.mark.parametrize(
    ("settings", "key", "value"),
    [
        (SubmissionLimits, "CERTSVC_MAX_EXTENSION_YEARS", "ba"),
        (CustodySettings, "CERTSVC_CUSTODY_PENDING_HOURS", "0"),
        (RegistrySettings, "CERTSVC_REMINDER_DAYS", "90,sáu mươi"),
        (DocumentSettings, "CERTSVC_WORK_DAY_START", "8 giờ"),
        (DocumentSettings, "CERTSVC_TARGET_HEAD_SIGNED_PERCENT", "120"),
    ],
)
def test_a_bad_value_is_refused_naming_it_not_replaced_by_a_default(settings, key, value):
    with pytest.raises(ConfigError, match=key):
        settings.from_config({key: value})
