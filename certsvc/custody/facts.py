"""What a register entry says, fact by fact, with Vietnamese labels: for the pages that show an entry and for
the verification of a printed minute.

:func:`hashed_facts` lists every value the entry's hash covers (its columns and each key of its details), so
that a reader comparing a paper with the register sees any difference: a paper whose seal number was altered
shows another seal number than the page. :func:`printed_facts` is the part of it a printed minute carries
(the minute is made from the same details), which is all an outside party checking a paper may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from certsvc.custody.book import details_of
from certsvc.custody.models import CustodyEvent, PermissionKind
from certsvc.timeutil import format_vietnam

__all__ = ["Fact", "DETAIL_LABELS", "detail_text", "hashed_facts", "printed_facts"]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


#: The details' keys in reading order, with their labels; a key not listed is shown under its own name.
DETAIL_LABELS = {
    "unit": "Đơn vị",
    "serial": "Số hiệu thiết bị (serial)",
    "model": "Chủng loại",
    "certificate_serial": "Số hiệu chứng thư số",
    "certificate_subject": "Chủ thể chứng thư số",
    "certificate_valid_to": "Chứng thư số có hiệu lực đến",
    "happened_at": "Thời điểm sự việc",
    "place": "Địa điểm",
    "giver_name": "Bên giao",
    "giver_position": "Chức vụ bên giao",
    "receiver_name": "Bên nhận",
    "receiver_position": "Chức vụ bên nhận",
    "witness_name": "Người chứng kiến",
    "witness_position": "Chức vụ người chứng kiến",
    "previous_keeper_name": "Người đang quản lý thiết bị",
    "keeper_name": "Người giữ thiết bị sau sự việc",
    "reporter_name": "Người báo mất",
    "head_name": "Thủ trưởng đơn vị",
    "head_position": "Chức vụ thủ trưởng đơn vị",
    "ca_name": "Tổ chức nhận lại thiết bị",
    "ca_representative": "Đại diện bên nhận lại",
    "revoked_at": "Chứng thư số bị thu hồi ngày",
    "revocation_reason": "Lý do thu hồi",
    "revocation_request": "Theo đề nghị thu hồi số",
    "revocation_letter": "Công văn đề nghị thu hồi",
    "return_due_on": "Hạn nộp lại thiết bị",
    "permission": "Căn cứ bàn giao",
    "decision_number": "Số văn bản cho phép",
    "decision_date": "Ngày văn bản cho phép",
    "approved_by": "Thủ trưởng đơn vị phê duyệt",
    "approved_at": "Phê duyệt lúc",
    "reason": "Lý do",
    "circumstances": "Hoàn cảnh mất",
    "condition": "Tình trạng",
    "accessories": "Phụ kiện kèm theo",
    "seal_numbers": "Số niêm phong",
    "note": "Ghi chú",
    "giver_confirmed_at": "Bên giao xác nhận lúc",
    "receiver_confirmed_at": "Bên nhận xác nhận lúc",
    "witness_confirmed_at": "Người chứng kiến xác nhận lúc",
    "handover": "Mã biên bản trên hệ thống",
}

#: Details that only the system reads: the handover's row id and the code of its permission (the minute
#: names the permission itself: the decision's number or the head's approval).
_NOT_PRINTED = {"handover", "permission"}


def detail_text(key: str, value: object) -> str:
    """A detail as people read it: times in Vietnam time, days as dd/mm/yyyy, the permission's label."""
    if key == "permission":
        return next((kind.label for kind in PermissionKind if kind.value == value), str(value))
    if isinstance(value, str) and key.endswith(("_at", "_date", "_on")):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if key.endswith("_at") and "T" in value:
            return format_vietnam(parsed)
        return date(parsed.year, parsed.month, parsed.day).strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def _detail_facts(details: dict, keys: set[str] | None = None) -> list[Fact]:
    ordered = [key for key in DETAIL_LABELS if key in details] + sorted(details.keys() - DETAIL_LABELS.keys())
    return [
        Fact(DETAIL_LABELS.get(key) or key, detail_text(key, details[key]))
        for key in ordered
        if keys is None or key in keys
    ]


def printed_facts(event: CustodyEvent) -> list[Fact]:
    """What the entry's minute prints: its number and every detail but the system's own."""
    details = details_of(event)
    return [Fact("Mục số trong sổ theo dõi", str(event.seq)), *_detail_facts(details, details.keys() - _NOT_PRINTED)]


def hashed_facts(event: CustodyEvent, keeper: str) -> list[Fact]:
    """Every value the entry's hash covers, in order, but when and by whom it was written (the pages show
    those with the recorder's name: :func:`certsvc.accounts.actors.actor_names`): the register's columns
    (``keeper`` names the keeper after the event) and each of its details."""
    return [
        Fact("Mục số trong sổ theo dõi", str(event.seq)),
        Fact("Thiết bị", event.token.serial),
        Fact("Đơn vị (theo sổ)", event.organisation.name),
        Fact("Sự việc", event.kind.label),
        Fact("Người giữ sau sự việc (theo sổ)", keeper),
        *_detail_facts(details_of(event)),
        Fact("Mã băm của mục trước", event.prev_hash),
    ]
