"""Forms of the registry pages: list filters (query string, no CSRF) and the forms that change things."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField

# SelectChoice is in WTForms 3.3 but not in its stubs (types-WTForms 3.2).
from wtforms import DateField, SelectChoice, StringField, TextAreaField  # type: ignore[attr-defined]

from certsvc.core.enums import LabelledEnum
from certsvc.registry.models import TokenKind, TokenState
from certsvc.registry.service import CertificateStatus
from certsvc.ui.forms import ServiceForm, open_select

__all__ = [
    "enum_choices",
    "CertificateFilterForm",
    "TokenFilterForm",
    "BoardFilterForm",
    "UploadCertificateForm",
    "TokenTransitionForm",
    "RevokeForm",
    "EnteredInErrorForm",
]


def enum_choices(members: type[LabelledEnum] | list, placeholder: str) -> list[SelectChoice]:
    return [SelectChoice("", placeholder)] + [SelectChoice(m.value, m.label) for m in members]


class _Filter(FlaskForm):
    """A filter above a list: read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    organisation_id = open_select("Đơn vị")


class CertificateFilterForm(_Filter):
    status = open_select("Tình trạng")
    q = StringField("Tìm theo người được cấp, tên (CN), số hiệu, UID")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = enum_choices(CertificateStatus, "— Mọi tình trạng —")


class TokenFilterForm(_Filter):
    state = open_select("Trạng thái")
    kind = open_select("Loại thiết bị")
    q = StringField("Tìm theo số sê-ri, mẫu thiết bị, người được cấp")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = enum_choices(TokenState, "— Mọi trạng thái —")
        self.kind.choices = enum_choices(TokenKind, "— Mọi loại —")


class BoardFilterForm(_Filter):
    pass


class UploadCertificateForm(ServiceForm):
    file = FileField("Tệp chứng thư số (PEM, DER, .cer, .p7b)")
    organisation_id = open_select("Đơn vị quản lý")
    kind = open_select("Loại chứng thư")
    holder_id = open_select("Người được cấp")
    token_serial = StringField("Số sê-ri thiết bị lưu khóa")
    predecessor_id = open_select("Thay thế (gia hạn) chứng thư")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(TokenKind, "— Chọn loại —")


class TokenTransitionForm(FlaskForm):
    to_state = open_select("Chuyển sang trạng thái")
    reason = TextAreaField("Lý do")


class RevokeForm(FlaskForm):
    revoked_on = DateField("Ngày thu hồi")
    reason = StringField("Lý do thu hồi")


class EnteredInErrorForm(FlaskForm):
    reason = StringField("Lý do (ghi nhầm thế nào)")
