"""The fields of each request type, in one place.

A province whose form differs changes this module only: the labels, which fields
exist, which are required and how each is checked. Pages render the fields from
:data:`REQUEST_TYPES`; the service cleans input with :func:`clean_fields`; the
annex of a batch lists the same fields with the same labels.

Every type also records the unit's own written request (:data:`UNIT_LETTER`: its number, date and signer),
shown in a section of its own and kept apart from the type's fields, which the annex lists as columns. A draft
saves without it (the head may not have signed the letter yet); the request does not leave the unit without it
(:attr:`FieldSpec.required_to_send`, :func:`refused_sending`).

Limits that are settings rather than form (maximum validity, how long after expiry a
certificate may still be renewed, the official mail domain) are in :class:`SubmissionLimits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from certsvc.config import setting_default, setting_value
from certsvc.core.validation import (
    FieldCollector,
    FieldError,
    clean_agency_code,
    clean_cccd,
    clean_day,
    clean_email,
    clean_flag,
    clean_phone,
    clean_tax_code,
    clean_text,
    non_empty,
    parse_count,
)
from certsvc.errors import ValidationFailed
from certsvc.requests.models import RequestType

__all__ = [
    "FieldSpec",
    "TypeSpec",
    "SubmissionLimits",
    "DEFAULT_LIMITS",
    "REVOCATION_REASONS",
    "RECOVERY_PROBLEMS",
    "URGENT_REASONS",
    "UNIT_LETTER",
    "REQUEST_TYPES",
    "spec_of",
    "clean_fields",
    "NEEDED_TO_SEND",
    "refused_sending",
    "display_value",
    "fields_for_display",
    "display_serial",
]


@dataclass(frozen=True)
class SubmissionLimits:
    """Limits checked when a request is submitted; configurable per deployment."""

    max_new_years: int = setting_default("CERTSVC_MAX_NEW_YEARS")
    max_extension_years: int = setting_default("CERTSVC_MAX_EXTENSION_YEARS")
    #: A certificate expired longer ago than this is not renewed: a new one is requested.
    renewal_grace_days: int = setting_default("CERTSVC_RENEWAL_GRACE_DAYS")
    #: When not empty, every e-mail on a form must be on this domain or one of its subdomains.
    official_email_domain: str = setting_default("CERTSVC_OFFICIAL_EMAIL_DOMAIN")

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> SubmissionLimits:
        """From the app's config (``CERTSVC_MAX_NEW_YEARS``, ``CERTSVC_MAX_EXTENSION_YEARS``,
        ``CERTSVC_RENEWAL_GRACE_DAYS``, ``CERTSVC_OFFICIAL_EMAIL_DOMAIN``), checked by
        :func:`certsvc.config.setting_value`."""
        return cls(
            max_new_years=setting_value(config, "CERTSVC_MAX_NEW_YEARS"),
            max_extension_years=setting_value(config, "CERTSVC_MAX_EXTENSION_YEARS"),
            renewal_grace_days=setting_value(config, "CERTSVC_RENEWAL_GRACE_DAYS"),
            official_email_domain=setting_value(config, "CERTSVC_OFFICIAL_EMAIL_DOMAIN"),
        )

    def hints(self) -> dict[str, str]:
        """The hints of the fields these limits bound, by field name, as forms and the API show them."""
        hints = {
            "validity_years": f"Tối đa {self.max_new_years} năm.",
            "extension_years": f"Tối đa {self.max_extension_years} năm.",
        }
        if self.official_email_domain:
            on_domain = f"Địa chỉ thuộc miền {self.official_email_domain}."
            emails = {f.name for spec in REQUEST_TYPES.values() for f in spec.all_fields if f.widget == "email"}
            hints |= dict.fromkeys(emails, on_domain)
        return hints

    def email_problem(self, address: str) -> str | None:
        """Why ``address`` (a cleaned, lower-case e-mail) is not an official one, or None."""
        domain = self.official_email_domain
        host = address.rsplit("@", 1)[-1]
        if not domain or host == domain or host.endswith("." + domain):
            return None
        return f"Phải là thư điện tử công vụ, thuộc miền {domain} (ví dụ ten@{domain})."


DEFAULT_LIMITS = SubmissionLimits()


@dataclass(frozen=True)
class FieldSpec:
    """One field of a request form: name (the JSON key), Vietnamese label, how it is checked and shown."""

    name: str
    label: str
    #: Takes the raw value a form or the API posted for this field (see ``FieldCollector.take``).
    clean: Callable[[Any], object]
    #: ``text``, ``email``, ``tel``, ``date``, ``number``, ``select``, ``textarea`` or ``checkbox``.
    widget: str = "text"
    #: Needed to save the request at all.
    required: bool = False
    #: Not needed to save a draft, but needed before the request leaves the unit for the focal office (see
    #: :func:`refused_sending`): what the unit may not have yet when the drafter saves, such as its signed letter.
    required_to_send: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    hint: str | None = None
    max_length: int = 255
    #: How a stored text value is shown wherever people or programs read it (pages, annexes, the API),
    #: when that differs from how it is stored: certificate serials are stored lower-case, to be matched
    #: against the registry, and shown upper-case, as the registry and CA portals write them.
    display: Callable[[str], str] | None = None

    def form_value(self, value: object) -> object:
        """``value`` as the form's field shows it: shown like everywhere else, as typed otherwise."""
        return self.display(value) if self.display is not None and isinstance(value, str) else value


@dataclass(frozen=True)
class TypeSpec:
    type: RequestType
    #: The form of Nghị định 68/2024 it corresponds to, e.g. "Mẫu 01".
    form_no: str
    #: The type's own fields, as the annex lists them.
    fields: tuple[FieldSpec, ...]

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """Everything the form asks: the type's fields, then the unit's written request."""
        return self.fields + UNIT_LETTER

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.all_fields if f.name == name), None)


REVOCATION_REASONS: tuple[tuple[str, str], ...] = (
    ("retirement", "Nghỉ hưu"),
    ("left_state_sector", "Thôi việc, chuyển ra ngoài khu vực nhà nước"),
    ("lost_token", "Mất thiết bị lưu khóa bí mật"),
    ("key_compromise", "Lộ khóa bí mật"),
    ("other", "Lý do khác"),
)

RECOVERY_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("pin_locked", "Khóa mã PIN (nhập sai nhiều lần)"),
    ("pin_forgotten", "Quên mã PIN"),
    ("device_fault", "Thiết bị lỗi"),
)

BUDGET_CODE = re.compile(r"^\d{7}$")
SERIAL = re.compile(r"^[0-9a-f]{1,64}$")
#: Revocations the CA is asked to act on at once, outside a batch: the key may be in someone else's hands.
URGENT_REASONS = frozenset({"lost_token", "key_compromise"})


def is_urgent_revocation(kind: RequestType, data: Mapping[str, object] | None) -> bool:
    """A revocation marked urgent for a reason that allows it: the CA is asked to act at once, without waiting
    for a batch."""
    data = data or {}
    return kind is RequestType.REVOCATION and bool(data.get("urgent")) and data.get("reason") in URGENT_REASONS


#: A revocation is asked for a date at most this far ahead: the CA acts within days, not years.
LATEST_INVALID_FROM = timedelta(days=366)
#: The unit's written request is at most this old: an older letter is not the request of today.
OLDEST_UNIT_LETTER = timedelta(days=366)


def _text(value: object, max_length: int = 255) -> str | None:
    return clean_text(None if value is None else str(value), max_length=max_length)


def clean_date(value: object) -> str | None:
    """A date typed as ``YYYY-MM-DD`` (the date input) or ``dd/mm/yyyy`` (see
    :func:`certsvc.core.validation.clean_day`); stored as ISO text."""
    day = clean_day(value)
    return day.isoformat() if day is not None else None


def _past_date(value: object) -> str | None:
    cleaned = clean_date(value)
    if cleaned is not None and date.fromisoformat(cleaned) > date.today():
        raise FieldError("Ngày cấp không thể sau hôm nay.")
    return cleaned


def _future_date(value: object) -> str | None:
    cleaned = clean_date(value)
    if cleaned is not None and date.fromisoformat(cleaned) < date.today():
        raise FieldError("Ngày có hiệu lực thu hồi không thể trước hôm nay.")
    if cleaned is not None and date.fromisoformat(cleaned) > date.today() + LATEST_INVALID_FROM:
        raise FieldError("Ngày có hiệu lực thu hồi không thể sau hôm nay quá một năm.")
    return cleaned


def _letter_date(value: object) -> str | None:
    cleaned = clean_date(value)
    if cleaned is not None and date.fromisoformat(cleaned) > date.today():
        raise FieldError("Ngày công văn không thể sau hôm nay.")
    if cleaned is not None and date.fromisoformat(cleaned) < date.today() - OLDEST_UNIT_LETTER:
        raise FieldError("Công văn đề nghị đã quá một năm: đơn vị lập công văn mới.")
    return cleaned


def _years(value: object) -> int | None:
    return parse_count(value, minimum=1, maximum=99, message="Nhập số năm là số nguyên dương.")


def _budget_code(value: object) -> str | None:
    code = str(value or "").strip()
    if not code:
        return None
    if not BUDGET_CODE.match(code):
        raise FieldError("Mã quan hệ ngân sách gồm 7 chữ số.")
    return code


def clean_serial(value: object) -> str | None:
    """A certificate serial as typed, in any case, colons and spaces ignored: stored as lower-case hex
    digits (the requests service matches it against the registry's serial lower-cased); shown by
    :func:`display_serial`."""
    serial = re.sub(r"[\s:]", "", str(value or "")).lower()
    if not serial:
        return None
    if not SERIAL.match(serial):
        raise FieldError("Số hiệu (serial) gồm các chữ số hệ 16 (0-9, a-f).")
    return serial


def display_serial(serial: str) -> str:
    """A certificate serial as the service shows it everywhere: upper-case hex digits, like the registry
    (``54010A3F``). Stored requests keep it lower-case (see :func:`clean_serial`)."""
    return serial.upper()


def _token_serial(value: object) -> str | None:
    serial = "".join(str(value or "").split())
    if not serial:
        return None
    if len(serial) > 64:
        raise FieldError("Số hiệu thiết bị dài quá 64 ký tự.")
    return serial


def _choice(choices: tuple[tuple[str, str], ...]) -> Callable[[object], str | None]:
    allowed = dict(choices)

    def clean(value: object) -> str | None:
        text = str(value or "").strip()
        if not text:
            return None
        if text not in allowed:
            raise FieldError("Lựa chọn không hợp lệ.")
        return text

    return clean


def _field(
    name: str, label: str, clean: Callable[[Any], object | None], *, required: bool = False, **options
) -> FieldSpec:
    return FieldSpec(name, label, non_empty(clean) if required else clean, required=required, **options)


def _free(name: str, label: str, *, required: bool = False, max_length: int = 255, **options) -> FieldSpec:
    widget = "textarea" if max_length > 255 else "text"
    return _field(
        name,
        label,
        partial(_text, max_length=max_length),
        required=required,
        widget=widget,
        max_length=max_length,
        **options,
    )


_EMAIL = partial(_field, clean=clean_email, widget="email", max_length=254)
_PHONE = partial(_field, clean=clean_phone, widget="tel", max_length=20)
_CCCD = partial(_field, clean=clean_cccd, max_length=12, hint="12 chữ số.")
_VALIDITY = _field("validity_years", "Thời hạn đề nghị (năm)", _years, required=True, widget="number")
_CERTIFICATE = _field(
    "certificate_serial",
    "Số hiệu (serial) chứng thư số",
    clean_serial,
    required=True,
    max_length=100,
    display=display_serial,
    hint="Xem trong sổ chứng thư số, ví dụ 5401010A3F (không phân biệt chữ hoa, chữ thường; "
    "dấu cách, dấu hai chấm được bỏ qua).",
)

#: The unit's own written request ("công văn đề nghị"), signed by its head: Nghị định 68/2024 has the unit ask in
#: writing, so no request leaves the unit without its number, date and signer; a draft saves before the letter
#: is signed.
UNIT_LETTER: tuple[FieldSpec, ...] = (
    _free(
        "unit_letter_number",
        "Số, ký hiệu công văn đề nghị của đơn vị",
        max_length=50,
        hint="Ví dụ 15/UBND-VP.",
        required_to_send=True,
    ),
    _field("unit_letter_date", "Ngày công văn", _letter_date, widget="date", required_to_send=True),
    _free("unit_letter_signer", "Người ký công văn (thủ trưởng đơn vị)", max_length=200, required_to_send=True),
)

REQUEST_TYPES: dict[RequestType, TypeSpec] = {
    spec.type: spec
    for spec in (
        TypeSpec(
            RequestType.NEW_INDIVIDUAL,
            "Mẫu 01",
            (
                _free("full_name", "Họ và tên", required=True, max_length=200),
                _CCCD("cccd", "Số CCCD", required=True),
                _field("cccd_issued_on", "Ngày cấp CCCD", _past_date, required=True, widget="date"),
                _free("cccd_issued_by", "Nơi cấp CCCD", required=True),
                _free("position", "Chức vụ", required=True, max_length=200),
                _free("unit_name", "Cơ quan, đơn vị công tác", required=True),
                _EMAIL("email", "Thư điện tử công vụ", required=True),
                _PHONE("phone", "Số điện thoại di động", required=True),
                _VALIDITY,
            ),
        ),
        TypeSpec(
            RequestType.NEW_ORGANISATION,
            "Mẫu 02",
            (
                _free("org_name", "Tên cơ quan, tổ chức", required=True),
                _field(
                    "agency_code",
                    "Mã định danh điện tử của cơ quan",
                    clean_agency_code,
                    max_length=13,
                    hint="13 ký tự, ví dụ 000.00.12.H30.",
                ),
                _free("address", "Địa chỉ", required=True, max_length=500),
                _field("tax_code", "Mã số thuế", clean_tax_code, required=True, max_length=14),
                _field(
                    "budget_code", "Mã quan hệ ngân sách", _budget_code, required=True, max_length=7, hint="7 chữ số."
                ),
                _free("province", "Tỉnh, thành phố", required=True, max_length=100),
                _EMAIL("email", "Thư điện tử công vụ của cơ quan", required=True),
                _free("head_name", "Người đứng đầu cơ quan", max_length=200),
                _free("head_position", "Chức vụ người đứng đầu", max_length=200),
                _free("receiver_name", "Người nhận thiết bị lưu khóa bí mật", required=True, max_length=200),
                _CCCD("receiver_cccd", "Số CCCD người nhận"),
                _free("receiver_position", "Chức vụ người nhận", max_length=200),
                _PHONE("receiver_phone", "Số điện thoại di động người nhận"),
                _EMAIL("receiver_email", "Thư điện tử công vụ người nhận"),
                _VALIDITY,
            ),
        ),
        TypeSpec(
            RequestType.NEW_DEVICE,
            "Mẫu 03",
            (
                _free("device_name", "Tên thiết bị, dịch vụ, phần mềm", required=True),
                _free("identifier", "Định danh (tên miền, địa chỉ IP hoặc mã hiệu)", required=True),
                _free("purpose", "Mục đích sử dụng", required=True, max_length=1000),
                _free("manager_name", "Người quản lý", required=True, max_length=200),
                _CCCD("manager_cccd", "Số CCCD người quản lý"),
                _free("manager_position", "Chức vụ người quản lý", max_length=200),
                _PHONE("manager_phone", "Số điện thoại di động người quản lý"),
                _EMAIL("email", "Thư điện tử công vụ người quản lý", required=True),
                _VALIDITY,
            ),
        ),
        TypeSpec(
            RequestType.RENEWAL,
            "Mẫu 04",
            (
                _CERTIFICATE,
                _field(
                    "extension_years",
                    "Thời gian gia hạn (năm)",
                    _years,
                    required=True,
                    widget="number",
                ),
                _free("note", "Ghi chú", max_length=1000),
            ),
        ),
        TypeSpec(
            RequestType.CHANGE,
            "Mẫu 04",
            (
                _CERTIFICATE,
                _free("new_full_name", "Họ và tên mới", max_length=200),
                _CCCD("new_cccd", "Số CCCD mới", hint="12 chữ số; khi đổi từ CMND hoặc cấp lại CCCD."),
                _free("new_position", "Chức vụ mới", max_length=200),
                _free("new_unit_name", "Cơ quan, đơn vị công tác mới"),
                _EMAIL("new_email", "Thư điện tử công vụ mới"),
                _PHONE("new_phone", "Số điện thoại di động mới"),
                _free("note", "Lý do thay đổi", max_length=1000),
            ),
        ),
        TypeSpec(
            RequestType.REVOCATION,
            "Mẫu 05",
            (
                _CERTIFICATE,
                _field(
                    "reason", "Lý do thu hồi", _choice(REVOCATION_REASONS), widget="select", choices=REVOCATION_REASONS
                ),
                _free("reason_detail", "Nội dung lý do", max_length=1000, hint="Bắt buộc khi chọn «Lý do khác»."),
                _field(
                    "invalid_from",
                    "Ngày đề nghị chứng thư số hết hiệu lực",
                    _future_date,
                    widget="date",
                    hint="Để trống nếu thu hồi ngay.",
                ),
                _field(
                    "urgent",
                    "Đề nghị thu hồi khẩn, gửi ngay không chờ đợt tổng hợp",
                    clean_flag,
                    widget="checkbox",
                    hint="Chỉ khi mất thiết bị lưu khóa bí mật hoặc lộ khóa bí mật.",
                ),
            ),
        ),
        TypeSpec(
            RequestType.RECOVERY,
            "Mẫu 06",
            (
                _field("token_serial", "Số hiệu thiết bị lưu khóa bí mật", _token_serial, required=True, max_length=64),
                _field(
                    "certificate_serial",
                    "Số hiệu (serial) chứng thư số trên thiết bị",
                    clean_serial,
                    max_length=100,
                    display=display_serial,
                    hint=_CERTIFICATE.hint,
                ),
                _field(
                    "problem",
                    "Tình trạng",
                    _choice(RECOVERY_PROBLEMS),
                    required=True,
                    widget="select",
                    choices=RECOVERY_PROBLEMS,
                ),
                _free("description", "Mô tả thêm", max_length=1000),
                _free("holder_name", "Người sử dụng thiết bị", max_length=200),
                _PHONE("holder_phone", "Số điện thoại di động người sử dụng"),
                _EMAIL("holder_email", "Thư điện tử công vụ người sử dụng"),
            ),
        ),
    )
}


def spec_of(request_type: RequestType) -> TypeSpec:
    return REQUEST_TYPES[request_type]


def clean_fields(
    request_type: RequestType, raw: Mapping[str, object], limits: SubmissionLimits = DEFAULT_LIMITS
) -> tuple[dict, FieldCollector]:
    """Check every field of the form (the type's and the unit's letter); return the cleaned values (None and
    unticked boxes left out) and the collector. E-mails off the official domain of ``limits`` are refused.

    The caller adds its own checks to the collector and calls ``raise_if_failed``.
    """
    collector = FieldCollector(raw)
    for spec in spec_of(request_type).all_fields:
        value = collector.take(spec.name, spec.clean)
        if spec.widget == "email" and isinstance(value, str) and (problem := limits.email_problem(value)):
            collector.fail(spec.name, problem)
    if collector.values.get("urgent") and collector.values.get("reason") not in URGENT_REASONS:
        collector.fail("urgent", "Chỉ đề nghị thu hồi khẩn khi mất thiết bị lưu khóa bí mật hoặc lộ khóa bí mật.")
    values = {name: value for name, value in collector.values.items() if value is not None and value is not False}
    return values, collector


#: Under an empty field the request cannot be sent without.
NEEDED_TO_SEND = "Bắt buộc trước khi gửi đầu mối."


def refused_sending(request_type: RequestType, data: Mapping[str, object]) -> ValidationFailed | None:
    """Why a saved request, whose stored values are ``data``, may not leave the unit yet, or None when its
    fields allow it: each field :attr:`FieldSpec.required_to_send` that is empty (:data:`NEEDED_TO_SEND`) or no
    longer passes its own check (a letter grown older than a year since the draft was saved), named.

    The refusal's ``field_errors`` go under the fields; its message names them, for the API and the page's list
    of what blocks sending.
    """
    collector = FieldCollector(data)
    needed = [spec for spec in spec_of(request_type).all_fields if spec.required_to_send]
    for spec in needed:
        if collector.take(spec.name, spec.clean) is None:
            collector.fail(spec.name, NEEDED_TO_SEND)
    if not collector.errors:
        return None
    named = ", ".join(f"«{spec.label}»" for spec in needed if spec.name in collector.errors)
    return ValidationFailed(collector.errors, f"Đề nghị chưa thể gửi đầu mối: thiếu hoặc chưa đúng {named}.")


def display_value(spec: FieldSpec, value: object) -> str:
    """A stored value as a person reads it: choice labels, dates as dd/mm/yyyy."""
    if value is None or value == "":
        return ""
    if spec.choices:
        return dict(spec.choices).get(str(value), str(value))
    if spec.widget == "checkbox":
        return "Có" if value else ""
    if spec.widget == "date":
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    return spec.display(str(value)) if spec.display is not None else str(value)


def fields_for_display(request_type: RequestType, data: Mapping[str, object]) -> dict[str, object]:
    """A request's stored values as the API gives them: each shown as pages show it (serials
    upper-case), but not turned into labels or dd/mm/yyyy dates."""
    spec = spec_of(request_type)
    shown: dict[str, object] = {}
    for name, value in data.items():
        field = spec.field(name)
        shown[name] = field.form_value(value) if field is not None else value
    return shown
