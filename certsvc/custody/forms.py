"""Forms of the custody pages. Fields are named like the service's raw input; the service validates.

A field the service refuses empty is marked required (:class:`~certsvc.ui.forms.MarkedRequired`): in the class
when every use of the form requires it, by :func:`mark_required` when that depends on more than the form (the
kind of event, the handover settings).
"""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import BooleanField, StringField, TextAreaField

from certsvc.custody.entries import EVENT_KIND_FIELDS, EVENT_REQUIRED_FIELDS
from certsvc.custody.models import CustodyEventKind
from certsvc.ui.forms import MarkedRequired, ServiceForm, open_select

__all__ = ["HandoverForm", "ReceiveForm", "EventForm", "LossForm", "HINTS", "mark_required"]


def _date(label: str, *, required: bool = False) -> StringField:
    return StringField(label, render_kw={"type": "date"}, validators=[MarkedRequired()] if required else [])


def _time(label: str, *, required: bool = False) -> StringField:
    return StringField(label, render_kw={"type": "time"}, validators=[MarkedRequired()] if required else [])


def mark_required(form: ServiceForm, names: Iterable[str]) -> None:
    """Mark these fields of this form (not of its class) required: an asterisk and the browser's ``required``."""
    for name in names:
        form[name].flags.required = True


class _WhenWhere(ServiceForm):
    event_date = _date("Ngày xảy ra")
    event_time = _time("Giờ")
    place = StringField("Địa điểm")


class ReceiveForm(_WhenWhere):
    keeper_id = open_select("Người nhận và giữ thiết bị", required=True)
    condition = StringField("Tình trạng khi nhận")
    accessories = StringField("Phụ kiện kèm theo")
    seal_numbers = StringField("Số niêm phong")
    note = TextAreaField("Ghi chú")


class EventForm(_WhenWhere):
    """One kind of event of the plain event form (the kind is the page's, not a field): the fields every kind
    has and those of its own, marked as :data:`~certsvc.custody.entries.EVENT_REQUIRED_FIELDS` requires."""

    keeper_id = open_select("Người nhận giữ thiết bị tìm thấy")
    condition = StringField("Tình trạng thiết bị")
    seal_numbers = StringField("Số niêm phong")
    ca_name = StringField("Tổ chức nhận lại thiết bị")
    ca_representative = StringField("Người đại diện bên nhận")
    reason = StringField("Lý do nộp lại (thu hồi, hết hạn)")
    note = TextAreaField("Nội dung, ghi chú")

    def for_kind(self, kind: CustodyEventKind) -> None:
        """Keep the fields ``kind`` asks for (the service ignores the others' own) and mark those it requires."""
        required = EVENT_REQUIRED_FIELDS[kind]
        for name in EVENT_KIND_FIELDS.difference(required):
            del self[name]
        mark_required(self, required)


class LossForm(_WhenWhere):
    circumstances = TextAreaField("Hoàn cảnh mất thiết bị", validators=[MarkedRequired()])
    head_id = open_select("Thủ trưởng đơn vị ký biên bản (Mẫu 09)")
    note = TextAreaField("Ghi chú")


class HandoverForm(ServiceForm):
    """A new handover. The witness is required when the settings say so (the page marks it then); the letter of
    permission (number and date) unless the unit head is asked to approve instead, which no mark can say."""

    giver_id = open_select("Bên giao (người đang giữ thiết bị)", required=True)
    receiver_id = open_select("Bên nhận", required=True)
    witness_id = open_select("Người chứng kiến")
    handed_date = _date("Ngày bàn giao", required=True)
    handed_time = _time("Giờ bàn giao", required=True)
    place = StringField("Địa điểm bàn giao", validators=[MarkedRequired()])
    decision_number = StringField("Số văn bản cho phép")
    decision_date = _date("Ngày văn bản cho phép")
    ask_approval = BooleanField("Chưa có văn bản: xin thủ trưởng đơn vị phê duyệt trên hệ thống")
    condition = StringField("Tình trạng thiết bị", validators=[MarkedRequired()])
    accessories = StringField("Phụ kiện kèm theo")
    seal_numbers = StringField("Số niêm phong")
    reason = StringField("Lý do bàn giao", validators=[MarkedRequired()])


HINTS = {
    "giver_id": "Theo sổ theo dõi, chỉ người đang giữ thiết bị mới giao được.",
    "receiver_id": "Văn thư hoặc thủ trưởng đơn vị; người nhận tự xác nhận bằng tài khoản của mình.",
    "witness_id": "Người của đơn vị (hoặc do thủ trưởng đơn vị chỉ định) có tài khoản xem sổ theo dõi; người chứng "
    "kiến cũng tự xác nhận biên bản.",
    "decision_number": "Văn bản của người có thẩm quyền cho phép giao thiết bị cho người khác, ví dụ 15/QĐ-UBND. "
    "Bắt buộc nhập số và ngày văn bản, trừ khi chọn xin thủ trưởng đơn vị phê duyệt.",
    "seal_numbers": "Số các tem niêm phong trên hộp hoặc phong bì, cách nhau bởi dấu phẩy.",
    "head_id": "Tên người này in ở khối chữ ký «Thủ trưởng đơn vị» của biên bản xác nhận mất thiết bị.",
    "event_date": "Để trống cả ngày và giờ nếu việc vừa xảy ra (ghi theo giờ ghi sổ); đã nhập giờ thì nhập cả ngày.",
}
