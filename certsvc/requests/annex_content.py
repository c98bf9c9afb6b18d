"""What the annex of a batch lists: one table per request type present, with the type's fields (labels from
:mod:`certsvc.requests.fields`) and what the CA needs beside them: the unit's own letter, whose certificate a
request names, a renewal's current expiry, a change's current values beside the new ones.

The layout is :mod:`certsvc.requests.papers` (PDF, XLSX, CSV); :mod:`certsvc.requests.letters` builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

from certsvc.requests.checks import current_information
from certsvc.requests.fields import FieldSpec, display_value, spec_of
from certsvc.requests.models import Batch, CertificateRequest, RequestType
from certsvc.requests.papers.annex import AnnexTable
from certsvc.timeutil import to_vietnam

__all__ = ["annex_tables"]

#: Each type's sheet (and CSV section) name: the type said whole within Excel's 31 characters with the
#: table's number in front.
_SHEET_NAMES = {
    RequestType.NEW_INDIVIDUAL: "Cấp mới cá nhân",
    RequestType.NEW_ORGANISATION: "Cấp mới tổ chức",
    RequestType.NEW_DEVICE: "Cấp mới thiết bị",
    RequestType.RENEWAL: "Gia hạn",
    RequestType.CHANGE: "Thay đổi thông tin",
    RequestType.REVOCATION: "Thu hồi",
    RequestType.RECOVERY: "Khôi phục thiết bị",
}

#: Types that name a registry record get a column saying whose it is.
_SUBJECT_COLUMN = {
    RequestType.RENEWAL: "Chủ thể chứng thư số",
    RequestType.CHANGE: "Chủ thể chứng thư số",
    RequestType.REVOCATION: "Chủ thể chứng thư số",
    RequestType.RECOVERY: "Người, đơn vị sử dụng thiết bị",
}

_UNIT_LETTER_COLUMN = "Văn bản đề nghị của đơn vị (số, ngày)"
_EXPIRY_COLUMN = "Ngày hết hạn hiện tại"
_CHANGES_COLUMN = "Nội dung thay đổi (hiện tại → đề nghị)"
#: A change request's fields that carry a new value: ``new_<what>``, shown beside the current ``<what>``.
_NEW = "new_"


def _unit_letter(request: CertificateRequest) -> str:
    """The unit's own letter asking for the request: "12/UBND ngày 01/12/2026"; blank when not recorded."""
    number = str(request.data.get("unit_letter_number") or "").strip()
    raw_day = request.data.get("unit_letter_date")
    try:
        day = f"ngày {date.fromisoformat(str(raw_day)):%d/%m/%Y}" if raw_day else ""
    except ValueError:  # kept as typed rather than lost
        day = f"ngày {raw_day}"
    return " ".join(part for part in (number, day) if part)


def _current_expiry(request: CertificateRequest) -> str:
    certificate = request.certificate
    return f"{to_vietnam(certificate.not_after):%d/%m/%Y}" if certificate is not None else ""


def _changes(request: CertificateRequest) -> str:
    """One line per value the request changes: "Chức vụ: Phó Chủ tịch → Chủ tịch", the current value as the
    registry knows it ("…" when it does not)."""
    certificate = request.certificate
    current = current_information(certificate) if certificate is not None else {}
    lines = []
    for field in spec_of(request.request_type).fields:
        if not field.name.startswith(_NEW) or not request.data.get(field.name):
            continue
        before = current.get(field.name) or "…"
        lines.append(f"{field.label.removesuffix(' mới')}: {before} → {display_value(field, request.data[field.name])}")
    return "\n".join(lines)


#: Fields about one person that share a column, one line each (name first): a table of Mẫu 02 would
#: otherwise have some twenty columns, too narrow to read on A4.
_PERSON_COLUMNS: dict[RequestType, dict[str, tuple[str, ...]]] = {
    RequestType.NEW_ORGANISATION: {
        "Người đứng đầu": ("head_name", "head_position"),
        "Người nhận thiết bị lưu khóa bí mật": (
            "receiver_name",
            "receiver_position",
            "receiver_cccd",
            "receiver_phone",
            "receiver_email",
        ),
    },
    RequestType.NEW_DEVICE: {
        "Người quản lý": ("manager_name", "manager_position", "manager_cccd", "manager_phone", "email"),
    },
    RequestType.RECOVERY: {"Người sử dụng thiết bị": ("holder_name", "holder_phone", "holder_email")},
}


def _person_line(field: FieldSpec, value: str) -> str:
    """A line of a person's column: a CCCD and a phone number say what they are, the rest reads by itself."""
    if field.name.endswith("cccd"):
        return f"CCCD: {value}"
    return f"ĐT: {value}" if field.widget == "tel" else value


def _columns(kind: RequestType) -> list[tuple[str, Callable[[CertificateRequest], str]]]:
    """The type's own columns, (header, cell): a field each, a person's fields together (see
    :data:`_PERSON_COLUMNS`, in the place of the person's first field), a change's new values in one."""
    spec, groups = spec_of(kind), _PERSON_COLUMNS.get(kind, {})
    grouped = {name: header for header, names in groups.items() for name in names}
    columns: list[tuple[str, Callable[[CertificateRequest], str]]] = []
    for field in spec.fields:
        header = grouped.get(field.name)
        if header is None and not (kind is RequestType.CHANGE and field.name.startswith(_NEW)):
            columns.append((field.label, partial(_value, field)))
        elif header is not None and field.name == groups[header][0]:
            parts = [part for name in groups[header] if (part := spec.field(name)) is not None]
            columns.append((header, partial(_person, parts)))
    return columns


def _value(field: FieldSpec, request: CertificateRequest) -> str:
    return display_value(field, request.data.get(field.name))


def _person(fields: list[FieldSpec], request: CertificateRequest) -> str:
    return "\n".join(_person_line(field, shown) for field in fields if (shown := _value(field, request)))


#: Columns some types add after the subject: (header, cell), in order.
_EXTRA_COLUMNS: dict[RequestType, list[tuple[str, Callable[[CertificateRequest], str]]]] = {
    RequestType.RENEWAL: [(_EXPIRY_COLUMN, _current_expiry)],
    RequestType.CHANGE: [(_CHANGES_COLUMN, _changes)],
}


def _table(number: int, kind: RequestType, requests: list[CertificateRequest]) -> AnnexTable:
    subject = [(_SUBJECT_COLUMN[kind], _subject)] if kind in _SUBJECT_COLUMN else []
    columns = [
        ("Đơn vị đề nghị", _unit_name),
        (_UNIT_LETTER_COLUMN, _unit_letter),
        ("Số đề nghị", _request_number),
        *subject,
        *_EXTRA_COLUMNS.get(kind, []),
        *_columns(kind),
    ]
    form_no = spec_of(kind).form_no
    return AnnexTable(
        title=f"Bảng {number}. Đề nghị {kind.label[0].lower()}{kind.label[1:]} ({form_no})",
        columns=[header for header, _ in columns],
        rows=[[cell(request) for _, cell in columns] for request in requests],
        sheet_name=f"{number}. {_SHEET_NAMES[kind]} ({form_no})",
    )


def _unit_name(request: CertificateRequest) -> str:
    return request.organisation.name


def _request_number(request: CertificateRequest) -> str:
    return str(request.id)


def _subject(request: CertificateRequest) -> str:
    return request.subject_line.name


def annex_tables(batch: Batch) -> list[AnnexTable]:
    """One table per request type present, in the order of :class:`RequestType`."""
    tables: list[AnnexTable] = []
    for kind in RequestType:
        requests = [r for r in batch.requests if r.request_type is kind]
        if requests:
            tables.append(_table(len(tables) + 1, kind, requests))
    return tables
