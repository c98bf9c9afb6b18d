"""Working days: Monday to Friday, minus public holidays, plus the announced swapped working days.

Deadlines in the domain are counted in working days (the CA processes a new-certificate
file within 3, a revoked token goes back to the CA within 5). The public holidays come from
the ``holidays`` package (``holidays.country_holidays("VN")``, whose data ships with it: no
network): Tết with its extra days, Giỗ Tổ Hùng Vương, observed and substituted days, and the
Saturdays made working days in exchange. Settings correct it for what the government announces
after the package was released:

* ``CERTSVC_HOLIDAYS`` adds days off: ISO dates separated by commas or spaces;
* ``CERTSVC_HOLIDAYS_FILE`` names a text file of such days, one ISO date a line (``#`` starts a comment);
* ``CERTSVC_WORKING_DAYS`` lists ISO dates that are working days whatever the package says (a
  Saturday made a working day, a day off the package lists that was not adopted); no date may be
  both an added day off and a listed working day;
* ``CERTSVC_FIXED_HOLIDAYS`` (``MM-DD`` items; empty for none), when set, replaces the package with
  these dates every year: the calendar as it was before the package, for an office that keeps its own.

:mod:`certsvc.config` builds the calendar once at start-up (``CERTSVC_WORK_CALENDAR`` in the
app's config); code here never reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import holidays as holidays_package

__all__ = ["HOLIDAY_SETTINGS", "WorkCalendar", "calendar_from_settings", "public_holidays"]

#: The settings :func:`calendar_from_settings` reads.
HOLIDAY_SETTINGS = ("CERTSVC_HOLIDAYS", "CERTSVC_HOLIDAYS_FILE", "CERTSVC_WORKING_DAYS", "CERTSVC_FIXED_HOLIDAYS")
#: The years the package computes; outside them only weekends and the settings count.
_FIRST_YEAR, _LAST_YEAR = holidays_package.VN.start_year, holidays_package.VN.end_year


@cache
def public_holidays(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Vietnam's days off in ``year`` and the weekend days made working days, as the package lists them."""
    if not _FIRST_YEAR <= year <= _LAST_YEAR:  # the package computes per year: never ask it for year 1 or 9999
        return frozenset(), frozenset()
    listed = holidays_package.country_holidays("VN", years=year)
    return frozenset(listed), frozenset(day for day in listed.weekend_workdays if day.year == year)


def _split(raw: str) -> list[str]:
    return [item for item in raw.replace(",", " ").split() if item]


def _parse_fixed(raw: str) -> frozenset[tuple[int, int]]:
    fixed = set()
    for item in _split(raw):
        month, _, day = item.partition("-")
        try:
            date(2000, int(month), int(day))  # a leap year: 02-29 is accepted
        except ValueError:
            raise ValueError(f"CERTSVC_FIXED_HOLIDAYS: {item!r} is not a MM-DD date") from None
        fixed.add((int(month), int(day)))
    return frozenset(fixed)


def _parse_dates(items: Iterable[str], source: str) -> set[date]:
    days = set()
    for item in items:
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise ValueError(f"{source}: {item!r} is not an ISO date (YYYY-MM-DD)") from None
    return days


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days: ``working_days`` always; otherwise weekdays that are neither in
    ``holidays`` nor public holidays — the package's (with its swapped working Saturdays), or, when
    ``fixed`` is given, those month-days every year instead."""

    holidays: frozenset[date] = frozenset()
    fixed: frozenset[tuple[int, int]] | None = None
    working_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        if self.fixed is not None:
            return day.weekday() < 5 and (day.month, day.day) not in self.fixed
        days_off, swapped = public_holidays(day.year)
        return day in swapped or (day.weekday() < 5 and day not in days_off)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted); ``day`` for n = 0."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        while n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )


def calendar_from_settings(settings: Mapping[str, str]) -> WorkCalendar:
    """The calendar ``settings`` (the environment, for :mod:`certsvc.config`) describe; see the module text.

    A bad date, an unreadable holidays file or a date both added and made a working day is a
    :class:`ValueError` naming the setting."""
    holidays = _parse_dates(_split(settings.get("CERTSVC_HOLIDAYS") or ""), "CERTSVC_HOLIDAYS")
    path = (settings.get("CERTSVC_HOLIDAYS_FILE") or "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"CERTSVC_HOLIDAYS_FILE: cannot read {path!r} ({error})") from None
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        holidays |= _parse_dates((line for line in lines if line), f"CERTSVC_HOLIDAYS_FILE {path!r}")
    working = _parse_dates(_split(settings.get("CERTSVC_WORKING_DAYS") or ""), "CERTSVC_WORKING_DAYS")
    if both := sorted(holidays & working):
        raise ValueError(
            f"CERTSVC_WORKING_DAYS: {', '.join(map(str, both))} also listed as a day off "
            "(CERTSVC_HOLIDAYS or CERTSVC_HOLIDAYS_FILE)"
        )
    raw_fixed = settings.get("CERTSVC_FIXED_HOLIDAYS")
    return WorkCalendar(
        holidays=frozenset(holidays),
        working_days=frozenset(working),
        fixed=None if raw_fixed is None else _parse_fixed(raw_fixed),
    )
