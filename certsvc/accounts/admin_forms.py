"""Forms of the account and role administration pages (CSRF comes with FlaskForm).

Every select gets its choices from the view, limited to what the user may reach;
a value that is not one of them (a tampered form) fails validation with a
Vietnamese message, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField  # type: ignore[attr-defined]  # stubs 3.2 lack SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from certsvc.accounts.administration import USERNAME_RULE, AccountState, is_valid_username
from certsvc.accounts.forms import REQUIRED
from certsvc.accounts.models import Role
from certsvc.core.records import to_id
from certsvc.people.models import Person

__all__ = [
    "AccountFilterForm",
    "GrantRoleForm",
    "NewAccountForm",
    "person_choices",
]

INVALID_CHOICE = "Lựa chọn không hợp lệ. Vui lòng tải lại trang và chọn lại."


def _record_id(value: object) -> int:
    number = to_id(value)
    if number is None:
        raise ValueError(value)
    return number


class ChoiceField(SelectField):
    """A select whose empty option means "none" and whose refusals are in Vietnamese."""

    def __init__(self, label: str, *, coerce: Callable[[str], object] = str, validators=None, **kwargs):
        # WTForms coerces the posted text, or None when nothing was posted and no default is set.
        def optional(value: str | None) -> object:
            return None if not value else coerce(value)

        # The stubs (types-WTForms 3.2) lack the two messages' arguments, which WTForms 3.3 has.
        super().__init__(  # type: ignore[call-arg]
            label,
            validators,
            coerce=optional,
            invalid_value_message=INVALID_CHOICE,
            invalid_choice_message=INVALID_CHOICE,
            **kwargs,
        )


def person_choices(people: Iterable[Person]) -> list[SelectChoice]:
    """Options for people, grouped by their unit."""
    return [SelectChoice("", "— Chọn cán bộ —")] + [
        SelectChoice(
            str(person.id),
            f"{person.full_name} ({person.position})" if person.position else person.full_name,
            optgroup=person.organisation.name,
        )
        for person in people
    ]


class AccountFilterForm(FlaskForm):
    """The filters of the account list; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    organisation_id = ChoiceField("Tổ chức", coerce=_record_id)
    state = ChoiceField(
        "Trạng thái",
        coerce=AccountState,
        choices=[SelectChoice("", "Mọi trạng thái")] + [SelectChoice(s.value, s.label) for s in AccountState],
    )


class NewAccountForm(FlaskForm):
    person_id = ChoiceField("Cán bộ", coerce=_record_id, validators=[InputRequired("Chọn cán bộ.")])
    username = StringField(
        "Tên đăng nhập",
        validators=[DataRequired(REQUIRED), Length(max=64, message=USERNAME_RULE)],
    )

    def validate_username(self, field: StringField) -> None:
        if not is_valid_username(field.data or ""):
            raise ValidationError(USERNAME_RULE)


class GrantRoleForm(FlaskForm):
    organisation_id = ChoiceField("Tại tổ chức", coerce=_record_id, validators=[InputRequired("Chọn tổ chức.")])
    role = ChoiceField(
        "Vai trò",
        coerce=Role,
        validators=[InputRequired("Chọn vai trò.")],
        choices=[SelectChoice("", "— Chọn vai trò —")] + [SelectChoice(r.value, r.label) for r in Role],
    )
