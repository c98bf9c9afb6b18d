"""Helpers shared by the forms of every capability."""

from __future__ import annotations

from flask_wtf import FlaskForm

from certsvc.errors import ValidationFailed

__all__ = ["apply_field_errors", "ActionForm"]


class ActionForm(FlaskForm):
    """A form with no fields but the CSRF token: for buttons that change state."""


def apply_field_errors(form: FlaskForm, failure: ValidationFailed) -> list[str]:
    """Show a service's field errors beside the form's fields; return those that have no field."""
    unplaced: list[str] = []
    for name, message in failure.field_errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            unplaced.append(message)
    form.form_errors = [*form.form_errors, *unplaced]
    return unplaced
