"""Checks of the identifiers that recur across the domain, with Vietnamese messages.

Each ``clean_*`` takes what a user typed (or a CSV cell), returns the normalised
value or None for an empty optional field, and raises ``FieldError`` otherwise.
Services collect these into one :class:`certsvc.errors.ValidationFailed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar, overload

from certsvc.errors import ValidationFailed

__all__ = [
    "FieldError",
    "FieldCollector",
    "validated",
    "clean_text",
    "text_problem",
    "has_control",
    "CONTROL_MESSAGE",
    "parse_count",
    "clean_day",
    "bounded_day",
    "FIRST_DAY",
    "LAST_DAY",
    "clean_agency_code",
    "clean_cccd",
    "clean_email",
    "clean_phone",
    "clean_tax_code",
    "clean_symbol",
    "clean_flag",
    "non_empty",
]


class FieldError(ValueError):
    """One field's value is not acceptable; the message says why, in Vietnamese."""


AGENCY_CODE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}$")
CCCD = re.compile(r"^\d{12}$")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
PHONE = re.compile(r"^(?:0|\+84)\d{9,10}$")
TAX_CODE = re.compile(r"^\d{10}(?:-\d{3})?$")
SYMBOL = re.compile(r"^[A-ZĐ0-9][A-ZĐ0-9&-]{0,19}$")


# Control characters: nobody types them, and PostgreSQL refuses NUL in text. Tab and line breaks are
# whitespace (text areas send them); C1 controls are as invisible as C0 ones.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidirectional overrides and zero-width characters: invisible, they make one name look like another.
_HIDDEN = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


CONTROL_MESSAGE = "Có ký tự điều khiển không hợp lệ."


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def text_problem(text: str) -> str | None:
    """Why ``text`` (a form field, a JSON string, a name read from a file) cannot be kept, or None."""
    if has_control(text):
        return CONTROL_MESSAGE
    if _HIDDEN.search(text):
        return "Có ký tự ẩn (đảo chiều chữ hoặc độ rộng bằng 0) không hợp lệ."
    return None


@overload
def clean_text(value: str | None, *, required: Literal[True], max_length: int = 255) -> str: ...
@overload
def clean_text(value: str | None, *, required: bool = False, max_length: int = 255) -> str | None: ...
def clean_text(value: str | None, *, required: bool = False, max_length: int = 255) -> str | None:
    problem = text_problem(value or "")
    if problem:
        raise FieldError(problem)
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise FieldError("Bắt buộc nhập.")
        return None
    if len(text) > max_length:
        raise FieldError(f"Dài quá {max_length} ký tự.")
    return text


def parse_count(value: object, *, maximum: int, minimum: int = 0, message: str | None = None) -> int | None:
    """A whole number from ``minimum`` to ``maximum`` typed in ASCII digits; None when empty.

    ``str.isdigit`` also says yes to "²" or "٣", which ``int`` refuses or reads; only 0-9 count here.
    """
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    # Read no more digits than the maximum has (leading zeros aside): a million-digit number is not parsed.
    digits = text.lstrip("0") or "0"
    if (
        not (text.isascii() and text.isdigit())
        or len(digits) > len(str(maximum))
        or not minimum <= int(digits) <= maximum
    ):
        raise FieldError(message or f"Nhập số nguyên từ {minimum} đến {maximum}.")
    return int(digits)


#: Dates people type: no office record is from before 1900 or after 2100, and arithmetic on them
#: (a deadline, a time zone) stays far from the calendar's ends.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)
_DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def bounded_day(day: date) -> date:
    """``day`` when it lies from :data:`FIRST_DAY` to :data:`LAST_DAY`, else FieldError."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FieldError(f"Ngày phải trong khoảng {FIRST_DAY:%d/%m/%Y} – {LAST_DAY:%d/%m/%Y}.")
    return day


def clean_day(value: object) -> date | None:
    """A date typed as ``YYYY-MM-DD`` (the date input) or ``dd/mm/yyyy``, within the plausible range;
    None when empty."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return bounded_day(value)
    text = str(value or "").strip()
    if not text:
        return None
    for pattern in _DAY_FORMATS:
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return bounded_day(day)
    raise FieldError("Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 21/11/2026.")


def clean_agency_code(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        return None
    if not AGENCY_CODE.match(code):
        raise FieldError("Mã định danh phải gồm 13 ký tự, bốn nhóm cách nhau bởi dấu chấm, ví dụ 000.00.12.H30.")
    return code


def clean_cccd(value: str | None) -> str | None:
    number = (value or "").strip().replace(" ", "")
    if not number:
        return None
    if not CCCD.match(number):
        raise FieldError("Số CCCD phải gồm đúng 12 chữ số.")
    return number


def clean_email(value: str | None) -> str | None:
    address = (value or "").strip()
    if not address:
        return None
    if len(address) > 254 or not EMAIL.match(address):
        raise FieldError("Địa chỉ thư điện tử không hợp lệ.")
    return address.lower()


def clean_phone(value: str | None) -> str | None:
    number = re.sub(r"[\s.\-()]", "", value or "")
    if not number:
        return None
    if not PHONE.match(number):
        raise FieldError("Số điện thoại không hợp lệ (ví dụ 0912345678 hoặc +84912345678).")
    return number


def clean_tax_code(value: str | None) -> str | None:
    code = (value or "").strip()
    if not code:
        return None
    if not TAX_CODE.match(code):
        raise FieldError("Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu gạch và 3 chữ số.")
    return code


def clean_symbol(value: str | None) -> str | None:
    symbol = (value or "").strip().upper()
    if not symbol:
        raise FieldError("Bắt buộc nhập.")
    if not SYMBOL.match(symbol):
        raise FieldError("Ký hiệu viết hoa, không dấu cách, tối đa 20 ký tự (ví dụ UBND, VHTT).")
    return symbol


def clean_flag(value: object) -> bool:
    """A checkbox or a CSV yes/no cell; empty means no."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "y", "yes", "on", "có", "x"}


Raw = TypeVar("Raw")
Clean = TypeVar("Clean")


def non_empty(cleaner: Callable[[Raw], Clean | None]) -> Callable[[Raw], Clean]:
    """``cleaner``, refusing an empty value (one it cleans to None)."""

    def clean(value: Raw) -> Clean:
        cleaned = cleaner(value)
        if cleaned is None:
            raise FieldError("Bắt buộc nhập.")
        return cleaned

    return clean


class FieldCollector:
    """Runs field checks and gathers every failure, so the user sees them all at once."""

    def __init__(self, raw: Mapping[str, object]):
        self.raw = raw
        self.errors: dict[str, str] = {}
        self.values: dict[str, object] = {}

    # A field's raw value is what its form field, query parameter or JSON reader gave (text, a date, a
    # number, None); the mapping cannot say which, but each field's cleaner is written for its own.
    def take(self, name: str, cleaner: Callable[[Any], Clean]) -> Clean | None:
        """The field's cleaned value; None when it is empty or refused (``raise_if_failed`` then raises)."""
        raw = self.raw.get(name)
        try:
            if isinstance(raw, str) and (problem := text_problem(raw)):
                raise FieldError(problem)
            value = cleaner(raw)
        except FieldError as error:
            self.errors[name] = str(error)
            return None
        self.values[name] = value
        return value

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raise_if_failed(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def validated(value: Clean | None, name: str) -> Clean:
    """A field's value read after :meth:`FieldCollector.raise_if_failed`: its cleaner returned a value or
    refused the field, so None here means a check let an empty value through (a bug, not bad input)."""
    if value is None:
        raise RuntimeError(f"{name!r} passed the checks without a value.")
    return value
