"""The upload form of the CSV import page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField  # type: ignore[attr-defined]  # stubs 3.2 lack SelectChoice
from wtforms.validators import AnyOf

from certsvc.imports.specs import ImportKind

__all__ = ["ImportForm"]


class ImportForm(FlaskForm):
    kind = SelectField(
        "Loại dữ liệu",
        choices=[SelectChoice(kind.value, kind.label) for kind in ImportKind],
        # WTForms' own choice check speaks English: this one says it in Vietnamese.
        validate_choice=False,
        validators=[AnyOf([kind.value for kind in ImportKind], "Chọn loại dữ liệu: Tổ chức hoặc Cán bộ.")],
    )
    file = FileField("Tệp CSV", validators=[FileRequired("Chọn tệp CSV để tải lên.")])
