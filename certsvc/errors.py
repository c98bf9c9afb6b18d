"""Errors that services raise and views translate, each with a stable code.

The message is Vietnamese, for the person at the screen; the code is for programs
(the JSON API and scripts) and does not change when wording does.
"""

from __future__ import annotations

__all__ = ["CertsvcError", "ValidationFailed", "NotFound", "PermissionDenied", "Conflict"]


class CertsvcError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(CertsvcError):
    """Input was refused; ``field_errors`` maps a field name to what is wrong with it."""

    code = "validation_failed"
    http_status = 400

    def __init__(self, field_errors: dict[str, str], message: str = "Dữ liệu chưa hợp lệ."):
        super().__init__(message)
        self.field_errors = dict(field_errors)


class NotFound(CertsvcError):
    code = "not_found"
    http_status = 404


class PermissionDenied(CertsvcError):
    code = "forbidden"
    http_status = 403

    def __init__(self, message: str = "Bạn không có quyền thực hiện thao tác này."):
        super().__init__(message)


class Conflict(CertsvcError):
    code = "conflict"
    http_status = 409
