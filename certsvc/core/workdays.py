"""Working days: Monday to Friday, minus public holidays.

Deadlines in the domain are counted in working days (the CA processes a new-certificate
file within 3, a revoked token goes back to the CA within 5). Which days are holidays is
configuration, not code:

* the fixed-date public holidays of the Labour Code (1/1, 30/4, 1/5, 2/9) are the default;
* ``CERTSVC_HOLIDAYS`` adds ISO dates separated by commas or spaces — the lunar ones
  (Tết, Giỗ Tổ Hùng Vương), the extra day next to 2/9, and the compensatory or swapped
  days the government announces each year;
* ``CERTSVC_HOLIDAYS_FILE`` names a text file with one ISO date a line (``#`` starts a comment);
* ``CERTSVC_FIXED_HOLIDAYS`` replaces the default fixed dates (``MM-DD`` items; empty for none).

:mod:`certsvc.config` builds the calendar once at start-up (``CERTSVC_WORK_CALENDAR`` in the
app's config); code here never reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

__all__ = ["DEFAULT_FIXED_HOLIDAYS", "HOLIDAY_SETTINGS", "WorkCalendar", "calendar_from_settings"]

#: (month, day) of the public holidays that fall on the same solar date every year.
DEFAULT_FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (4, 30), (5, 1), (9, 2)})
#: The settings :func:`calendar_from_settings` reads.
HOLIDAY_SETTINGS = ("CERTSVC_HOLIDAYS", "CERTSVC_HOLIDAYS_FILE", "CERTSVC_FIXED_HOLIDAYS")


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
    """Which days are working days: weekdays that are neither a fixed-date nor a listed holiday."""

    holidays: frozenset[date] = frozenset()
    fixed: frozenset[tuple[int, int]] = DEFAULT_FIXED_HOLIDAYS

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays and (day.month, day.day) not in self.fixed

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
        return sum(1 for offset in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=offset)))


def calendar_from_settings(settings: Mapping[str, str]) -> WorkCalendar:
    """The calendar ``settings`` (the environment, for :mod:`certsvc.config`) describe; see the module text.

    A bad date or an unreadable holidays file is a :class:`ValueError` naming the setting."""
    holidays = _parse_dates(_split(settings.get("CERTSVC_HOLIDAYS") or ""), "CERTSVC_HOLIDAYS")
    path = (settings.get("CERTSVC_HOLIDAYS_FILE") or "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"CERTSVC_HOLIDAYS_FILE: cannot read {path!r} ({error})") from None
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        holidays |= _parse_dates((line for line in lines if line), f"CERTSVC_HOLIDAYS_FILE {path!r}")
    raw_fixed = settings.get("CERTSVC_FIXED_HOLIDAYS")
    fixed = DEFAULT_FIXED_HOLIDAYS if raw_fixed is None else _parse_fixed(raw_fixed)
    return WorkCalendar(holidays=frozenset(holidays), fixed=fixed)
