"""Form of the API tokens page."""

from flask_wtf import FlaskForm
from wtforms import StringField


class NewTokenForm(FlaskForm):
    name = StringField("Tên gợi nhớ (chương trình nào sẽ dùng khóa này)")
