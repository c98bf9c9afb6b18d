"""Forms of the login and password pages (CSRF comes with FlaskForm)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from certsvc.core.validation import CONTROL_MESSAGE, has_control

REQUIRED = "Bắt buộc nhập."


def entered(field: StringField) -> str:
    """The text of a field the form has validated as required: DataRequired has refused None."""
    if field.data is None:
        raise ValueError(f"{field.name} has no data: the form was not validated")
    return field.data


def _no_control(form, field) -> None:
    # Refused before the name is looked up or counted: PostgreSQL refuses NUL in text.
    if field.data and has_control(field.data):
        raise ValidationError(CONTROL_MESSAGE)


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=64), _no_control])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(REQUIRED)])
    new_password = PasswordField("Mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)])
    confirm_password = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired(REQUIRED), EqualTo("new_password", "Hai lần nhập mật khẩu mới không khớp.")],
    )
