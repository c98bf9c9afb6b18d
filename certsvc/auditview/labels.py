"""Vietnamese names for the audit log's action codes, object types and detail keys.

The codes are what is stored and hashed; these labels are only for people. A code without a label (a newer
action, or one written by a later version) shows as itself. The steps of requests and documents are named
from their own transition tables, so a new step is named where it is defined.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from certsvc.documents.incoming import ACTION_LABELS as INCOMING_ACTIONS
from certsvc.documents.transitions import ACTION_LABELS as DOCUMENT_ACTIONS
from certsvc.requests.transitions import ACTION_LABELS as REQUEST_ACTIONS

__all__ = [
    "ACTION_LABELS",
    "OBJECT_TYPE_LABELS",
    "action_label",
    "object_type_label",
    "readable_details",
]

ACTION_LABELS: dict[str, str] = {
    "auth.login": "Đăng nhập",
    "auth.login_failed": "Đăng nhập không thành công",
    "auth.login_refused": "Từ chối đăng nhập",
    "auth.logout": "Đăng xuất",
    "account.password_changed": "Đổi mật khẩu",
    "account.created": "Tạo tài khoản",
    "account.password_reset": "Đặt lại mật khẩu",
    "account.disabled": "Vô hiệu hóa tài khoản",
    "account.enabled": "Kích hoạt lại tài khoản",
    "account.unlocked": "Mở khóa tài khoản",
    "role.granted": "Giao vai trò",
    "role.revoked": "Thu hồi vai trò",
    "org.created": "Thêm tổ chức",
    "org.updated": "Sửa thông tin tổ chức",
    "person.created": "Thêm cán bộ",
    "person.updated": "Sửa thông tin cán bộ",
    "request.attachment_added": "Đề nghị chứng thư số: đính kèm tệp",
    "request.attachment_removed": "Đề nghị chứng thư số: gỡ tệp đính kèm",
    "import.organisations": "Nhập danh sách tổ chức",
    "import.people": "Nhập danh sách cán bộ",
    "system.bootstrap": "Khởi tạo hệ thống",
    "system.demo_loaded": "Nạp dữ liệu mẫu",
    "api_token.created": "Tạo khóa API",
    "api_token.revoked": "Thu hồi khóa API",
    "batch.created": "Tạo đợt tổng hợp",
    "batch.locked": "Khóa đợt tổng hợp",
    "batch.letter_created": "Tạo công văn đề nghị của đợt",
    "batch.sent": "Gửi văn bản đề nghị của đợt",
    "certificate.registered": "Ghi sổ chứng thư số",
    "certificate.revoked": "Thu hồi chứng thư số",
    "certificate.entered_in_error": "Đánh dấu chứng thư số ghi nhầm",
    "certificate.expiry_reminders": "Ghi nhắc hạn chứng thư số",
    "token.registered": "Ghi sổ thiết bị ký số",
    "token.state_changed": "Chuyển trạng thái thiết bị",
    "token.recovered": "Khôi phục thiết bị",
    "trust_anchor.added": "Thêm chứng thư gốc tin cậy",
    "trust_anchor.removed": "Gỡ chứng thư gốc tin cậy",
    "revocation_list.added": "Thêm danh sách chứng thư bị thu hồi (CRL)",
    "custody.received": "Sổ theo dõi: nhận thiết bị từ tổ chức cung cấp dịch vụ",
    "custody.inventory": "Sổ theo dõi: kiểm kê thiết bị",
    "custody.found": "Sổ theo dõi: tìm thấy thiết bị",
    "custody.damaged": "Sổ theo dõi: thiết bị hư hỏng",
    "custody.returned": "Sổ theo dõi: nộp lại thiết bị (Mẫu 08)",
    "custody.destroyed": "Sổ theo dõi: tiêu hủy thiết bị",
    "custody.handover_started": "Lập biên bản bàn giao",
    "custody.handover_approved": "Thủ trưởng đồng ý bàn giao",
    "custody.handover_confirmed": "Xác nhận bàn giao",
    "custody.handover_completed": "Hoàn tất bàn giao",
    "custody.handover_viewed": "Xem biên bản bàn giao",
    "custody.lost": "Báo mất thiết bị",
    "custody.minutes_viewed": "Xem biên bản",
    "custody.minutes_downloaded": "Tải biên bản",
    "custody.book_downloaded": "Tải sổ theo dõi",
    "document.signature_refused": "Văn bản đi: từ chối tệp ký số tải lên",
    "agent.pairing_code_created": "Tạo mã ghép nối phần mềm ký số",
    "agent.paired": "Ghép nối phần mềm ký số",
    "agent.revoked": "Thu hồi ghép nối phần mềm ký số",
    "agent.job_created": "Ký số một chạm: tạo yêu cầu ký",  # written by versions before 2026-12
    "agent.job_done": "Ký số một chạm: đã ký",  # written by versions before 2026-12
    "agent.job_failed": "Ký số một chạm: không ký được",
    "readiness.report_stored": "Lưu báo cáo kiểm tra thiết bị ký số",
    "readiness.visit_recorded": "Ghi lượt hỗ trợ kiểm tra tại đầu mối",
    "readiness.go_live_set": "Đặt ngày vận hành của đơn vị",
    "readiness.request_drafted": "Lập đề nghị từ kết quả kiểm tra",
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "account": "Tài khoản",
    "organisation": "Tổ chức",
    "person": "Cán bộ",
    "api_token": "Khóa API",
    "certificate": "Chứng thư số",
    "token": "Thiết bị ký số",
    "trust_anchor": "Chứng thư gốc tin cậy",
    "revocation_list": "Danh sách thu hồi (CRL)",
    "certificate_request": "Đề nghị chứng thư số",
    "request_batch": "Đợt tổng hợp",
    "outgoing_document": "Văn bản đi",
    "incoming_document": "Văn bản đến",
    "pairing_code": "Mã ghép nối",
    "signing_agent": "Phần mềm ký số đã ghép nối",
    "agent_job": "Yêu cầu ký số một chạm",
    "check_report": "Báo cáo kiểm tra thiết bị",
    "assisted_visit": "Lượt hỗ trợ kiểm tra",
}

#: The details' keys as people read them; a key without a name shows as itself.
DETAIL_LABELS: dict[str, str] = {
    "from": "Từ trạng thái",
    "to": "Sang trạng thái",
    "comment": "Ý kiến",
    "reason": "Lý do",
    "changes": "Thay đổi",
    "certificate": "Chứng thư số",
    "certificate_id": "Mã chứng thư số",
    "sha256": "Mã băm SHA-256 của tệp",
    "number": "Số, ký hiệu",
    "filename": "Tên tệp",
    "size": "Kích thước (byte)",
    "step": "Bước",
    "code": "Mã lỗi",
    "message": "Thông báo",
    "issuing_body_id": "Mã cơ quan ban hành",
    "drafting_unit_id": "Mã đơn vị soạn thảo",
    "serial": "Số hiệu",
    "username": "Tên đăng nhập",
    "role": "Vai trò",
    "organisation_id": "Mã tổ chức",
    "agent_job": "Ký qua phần mềm ký số, yêu cầu ký",
    "agent_id": "Mã thiết bị ký số đã ghép nối",
}


def action_label(code: str) -> str:
    """The Vietnamese name of an action, or the code itself when it has none."""
    prefix, _, step = code.partition(".")
    for family, name, steps in (
        ("request", "Đề nghị chứng thư số", REQUEST_ACTIONS),
        ("document", "Văn bản đi", DOCUMENT_ACTIONS),
        ("incoming", "Văn bản đến", INCOMING_ACTIONS),
    ):
        if prefix == family and step in steps:
            return f"{name}: {steps[step][:1].lower()}{steps[step][1:]}"
    return ACTION_LABELS.get(code, code)


def object_type_label(code: str) -> str:
    return OBJECT_TYPE_LABELS.get(code, code)


def _value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list) and len(value) == 2 and not any(isinstance(v, dict | list) for v in value):
        return f"{_value(value[0])} → {_value(value[1])}"  # a change: [before, after]
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return str(value)


def readable_details(details: str) -> list[tuple[str, str]]:
    """An entry's details as (name, value) lines: names in Vietnamese where known, a change ``[before,
    after]`` as "before → after", the fields of ``changes`` one a line. The stored text as one line when it
    is not a JSON object."""
    try:
        value = json.loads(details)
    except ValueError:
        return [("", details)]
    if not isinstance(value, Mapping):
        return [] if value is None else [("", _value(value))]
    lines: list[tuple[str, str]] = []
    for key, item in sorted(value.items()):
        if key == "changes" and isinstance(item, Mapping):
            lines.extend((f"{DETAIL_LABELS['changes']}: {field}", _value(change)) for field, change in item.items())
        else:
            lines.append((DETAIL_LABELS.get(str(key), str(key)), _value(item)))
    return lines
