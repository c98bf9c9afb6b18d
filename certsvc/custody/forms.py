"""Forms of the custody pages. Fields are named like the service's raw input; the service validates."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField

from certsvc.ui.forms import ServiceForm, open_select

__all__ = ["HandoverForm", "ReceiveForm", "EventForm", "LossForm", "HINTS"]


def _date(label: str) -> StringField:
    return StringField(label, render_kw={"type": "date"})


def _time(label: str) -> StringField:
    return StringField(label, render_kw={"type": "time"})


class _WhenWhere(ServiceForm):
    event_date = _date("Ngày xảy ra")
    event_time = _time("Giờ")
    place = StringField("Địa điểm")


class ReceiveForm(_WhenWhere):
    keeper_id = open_select("Người nhận và giữ thiết bị")
    condition = StringField("Tình trạng khi nhận")
    accessories = StringField("Phụ kiện kèm theo")
    seal_numbers = StringField("Số niêm phong")
    note = TextAreaField("Ghi chú")


class EventForm(_WhenWhere):
    kind = open_select("Sự việc")
    keeper_id = open_select("Người giữ thiết bị (khi tìm thấy)")
    condition = StringField("Tình trạng thiết bị")
    seal_numbers = StringField("Số niêm phong")
    ca_name = StringField("Tổ chức nhận lại thiết bị (khi nộp lại CA)")
    ca_representative = StringField("Người đại diện bên nhận (khi nộp lại CA)")
    reason = StringField("Lý do nộp lại (thu hồi, hết hạn)")
    note = TextAreaField("Nội dung, ghi chú")


class LossForm(_WhenWhere):
    circumstances = TextAreaField("Hoàn cảnh mất thiết bị")
    head_id = open_select("Thủ trưởng đơn vị ký biên bản (Mẫu 09)")
    note = TextAreaField("Ghi chú")


class HandoverForm(ServiceForm):
    giver_id = open_select("Bên giao (người đang giữ thiết bị)")
    receiver_id = open_select("Bên nhận")
    witness_id = open_select("Người chứng kiến")
    handed_date = _date("Ngày bàn giao")
    handed_time = _time("Giờ bàn giao")
    place = StringField("Địa điểm bàn giao")
    decision_number = StringField("Số văn bản cho phép")
    decision_date = _date("Ngày văn bản cho phép")
    ask_approval = BooleanField("Chưa có văn bản: xin thủ trưởng đơn vị phê duyệt trên hệ thống")
    condition = StringField("Tình trạng thiết bị")
    accessories = StringField("Phụ kiện kèm theo")
    seal_numbers = StringField("Số niêm phong")
    reason = StringField("Lý do bàn giao")


HINTS = {
    "giver_id": "Theo sổ theo dõi, chỉ người đang giữ thiết bị mới giao được.",
    "receiver_id": "Văn thư hoặc thủ trưởng đơn vị; người nhận tự xác nhận bằng tài khoản của mình.",
    "witness_id": "Người của đơn vị (hoặc do thủ trưởng đơn vị chỉ định) có tài khoản xem sổ theo dõi; người chứng "
    "kiến cũng tự xác nhận biên bản.",
    "decision_number": "Văn bản của người có thẩm quyền cho phép giao thiết bị cho người khác, ví dụ 15/QĐ-UBND.",
    "seal_numbers": "Số các tem niêm phong trên hộp hoặc phong bì, cách nhau bởi dấu phẩy.",
    "head_id": "Tên người này in ở khối chữ ký «Thủ trưởng đơn vị» của biên bản xác nhận mất thiết bị.",
    "event_date": "Để trống cả ngày và giờ nếu việc vừa xảy ra (ghi theo giờ ghi sổ); đã nhập giờ thì nhập cả ngày.",
}
