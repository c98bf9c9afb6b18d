"""Vietnamese names for the audit log's action codes and object types.

The codes are what is stored and hashed; these labels are only for people. A code
without a label (a newer action, or one written by a later version) shows as itself.
"""

from __future__ import annotations

from certsvc.requests.transitions import ACTION_LABELS as REQUEST_ACTIONS

__all__ = ["ACTION_LABELS", "OBJECT_TYPE_LABELS", "action_label", "object_type_label"]

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
    "import.organisations": "Nhập danh sách tổ chức",
    "import.people": "Nhập danh sách cán bộ",
    "system.bootstrap": "Khởi tạo hệ thống",
    "system.demo_loaded": "Nạp dữ liệu mẫu",
    "api_token.created": "Tạo khóa API",
    "api_token.revoked": "Thu hồi khóa API",
    "batch.created": "Tạo đợt tổng hợp",
    "batch.locked": "Khóa đợt tổng hợp",
    "batch.sent": "Gửi văn bản đề nghị của đợt",
    "certificate.registered": "Ghi sổ chứng thư số",
    "certificate.revoked": "Thu hồi chứng thư số",
    "certificate.expiry_reminders": "Ghi nhắc hạn chứng thư số",
    "token.registered": "Ghi sổ thiết bị ký số",
    "token.state_changed": "Chuyển trạng thái thiết bị",
    "token.recovered": "Khôi phục thiết bị",
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
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "account": "Tài khoản",
    "organisation": "Tổ chức",
    "person": "Cán bộ",
    "api_token": "Khóa API",
    "certificate": "Chứng thư số",
    "token": "Thiết bị ký số",
    "certificate_request": "Đề nghị chứng thư số",
    "request_batch": "Đợt tổng hợp",
}


def action_label(code: str) -> str:
    """The Vietnamese name of an action, or the code itself when it has none."""
    if code.startswith("request."):
        step = REQUEST_ACTIONS.get(code.removeprefix("request."))
        if step is not None:
            return f"Đề nghị chứng thư số: {step.lower()}"
    return ACTION_LABELS.get(code, code)


def object_type_label(code: str) -> str:
    return OBJECT_TYPE_LABELS.get(code, code)
