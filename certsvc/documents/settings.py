"""The documents capability's settings, read by the views from the app's config.

Working hours decide when an incoming document counts as received (DOMAIN: one received outside working
hours counts from the start of the next working session); the targets are the seeds' (seed 002 II) that
the report colours its figures against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from certsvc.config import WORK_CALENDAR, ConfigError, setting_default, setting_value
from certsvc.core.workdays import WorkCalendar

__all__ = ["DocumentSettings"]


@dataclass(frozen=True)
class DocumentSettings:
    """``CERTSVC_WORK_DAY_START``/``_END``, the ``CERTSVC_TARGET_*_PERCENT`` targets and the work calendar."""

    # A time of day's default is written as text in SETTINGS: read typed. In field(): a time is immutable,
    # but not one of the types ruff knows as such.
    work_day_start: time = field(default=setting_value({}, "CERTSVC_WORK_DAY_START"))
    work_day_end: time = field(default=setting_value({}, "CERTSVC_WORK_DAY_END"))
    #: Share of electronically issued documents carrying both signatures (at least this).
    target_signed_percent: int = setting_default("CERTSVC_TARGET_SIGNED_PERCENT")
    #: Share signed personally by the unit's head (above this, "trên 80%").
    target_head_signed_percent: int = setting_default("CERTSVC_TARGET_HEAD_SIGNED_PERCENT")
    #: Share of the district leadership's documents signed digitally (above this, "trên 20%").
    target_leadership_digital_percent: int = setting_default("CERTSVC_TARGET_LEADERSHIP_DIGITAL_PERCENT")
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def __post_init__(self) -> None:
        if self.work_day_start >= self.work_day_end:
            raise ConfigError("CERTSVC_WORK_DAY_START must be earlier than CERTSVC_WORK_DAY_END")

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> DocumentSettings:
        """From the app's config, checked by :func:`certsvc.config.setting_value`; the calendar is the one
        :func:`certsvc.config.load_config` built (the package's alone when missing)."""
        calendar = config.get(WORK_CALENDAR)
        return cls(
            work_day_start=setting_value(config, "CERTSVC_WORK_DAY_START"),
            work_day_end=setting_value(config, "CERTSVC_WORK_DAY_END"),
            target_signed_percent=setting_value(config, "CERTSVC_TARGET_SIGNED_PERCENT"),
            target_head_signed_percent=setting_value(config, "CERTSVC_TARGET_HEAD_SIGNED_PERCENT"),
            target_leadership_digital_percent=setting_value(config, "CERTSVC_TARGET_LEADERSHIP_DIGITAL_PERCENT"),
            calendar=calendar if isinstance(calendar, WorkCalendar) else WorkCalendar(),
        )
