"""Forms of the readiness pages: a check report's upload and an assisted visit."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectMultipleField, StringField, TextAreaField, widgets  # type: ignore[attr-defined]

from certsvc.readiness.models import VisitAction
from certsvc.ui.forms import MarkedRequired, ServiceForm, open_select

__all__ = ["ReportUploadForm", "VisitForm"]


class ReportUploadForm(ServiceForm):
    file = FileField(
        "Tệp kết quả kiểm tra (JSON)", validators=[FileRequired("Chọn tệp do lệnh token-agent check --json tạo ra.")]
    )
    place = StringField("Máy tính hoặc nơi kiểm tra")


class VisitForm(ServiceForm):
    """An assisted visit; :func:`certsvc.readiness.visits.record_visit` checks every field."""

    organisation_id = open_select("Đơn vị của người đến", required=True)
    visitor_name = StringField("Họ và tên người đến", validators=[MarkedRequired()])
    token_serial = StringField("Số sê-ri thiết bị")
    computer = StringField("Máy tính")
    actions = SelectMultipleField(
        "Việc đã làm",
        choices=[SelectChoice(action.value, action.label) for action in VisitAction],
        validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    outcome = TextAreaField("Kết quả", validators=[MarkedRequired()])
    report = FileField("Kết quả kiểm tra chạy tại chỗ (JSON, nếu có)")
