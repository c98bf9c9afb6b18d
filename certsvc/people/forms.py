"""Forms of the people pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from certsvc.ui.forms import MarkedRequired, ServiceForm, open_select

__all__ = ["PersonForm", "PeopleFilterForm"]


class PersonForm(ServiceForm):
    full_name = StringField("Họ và tên", validators=[MarkedRequired()])
    position = StringField("Chức vụ")
    organisation_id = open_select("Đơn vị", required=True)
    cccd = StringField("Số CCCD")
    email = StringField("Thư điện tử công vụ")
    phone = StringField("Số điện thoại di động")
    is_active = BooleanField("Đang công tác", default=True)


class PeopleFilterForm(FlaskForm):
    """The filter above the list: read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    organisation_id = open_select("Đơn vị")
    q = StringField("Tìm theo họ tên")
