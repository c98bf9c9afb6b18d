"""Forms of the login and password pages (CSRF comes with FlaskForm)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

REQUIRED = "Bắt buộc nhập."


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(REQUIRED)])
    new_password = PasswordField("Mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)])
    confirm_password = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired(REQUIRED), EqualTo("new_password", "Hai lần nhập mật khẩu mới không khớp.")],
    )
