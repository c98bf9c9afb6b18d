"""Vietnamese names for the audit log's action codes and object types.

The codes are what is stored and hashed; these labels are only for people. A code
without a label (a newer action, or one written by a later version) shows as itself.
"""

from __future__ import annotations

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
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "account": "Tài khoản",
    "organisation": "Tổ chức",
    "person": "Cán bộ",
}


def action_label(code: str) -> str:
    """The Vietnamese name of an action, or the code itself when it has none."""
    return ACTION_LABELS.get(code, code)


def object_type_label(code: str) -> str:
    return OBJECT_TYPE_LABELS.get(code, code)
