"""Helpers shared by the forms of every capability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SelectField

from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, ensure

if TYPE_CHECKING:
    from certsvc.accounts.models import Account

__all__ = ["apply_field_errors", "ActionForm", "MarkedRequired", "ServiceForm", "open_select", "RecordEditor"]


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


def choice(value: object) -> str:
    """A select's value as text; an unset reference is the empty option."""
    return "" if value is None else str(value)


class MarkedRequired:
    """A field the service requires, marked so on the page (an asterisk beside its label, and the browser's
    ``required``); the service checks it and says what is missing under the field."""

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __call__(self, form: FlaskForm, field: Any) -> None:
        """Nothing to check here: the service does."""


def open_select(label: str, *, required: bool = False) -> SelectField:
    """A select that leaves checking the posted value to the service."""
    return SelectField(label, coerce=choice, validate_choice=False, validators=[MarkedRequired()] if required else [])


class ServiceForm(FlaskForm):
    """A form whose fields are named like the keys of a service's raw input."""

    def raw(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for name, field in self._fields.items():
            if name == "csrf_token":
                continue
            values[name] = field.data
        return values


@dataclass(frozen=True)
class RecordEditor:
    """The "new" and "edit" pages of one kind of record, which differ only in what they call.

    Permission is checked before anything posted is looked at: held anywhere for
    "new" (the service then checks it at the organisation chosen), at the record's
    organisation for "edit". The service validates and writes the audit entry;
    refused input rolls back, is shown beside the fields and answers 400.
    """

    form: type[ServiceForm]
    template: str
    #: ``org`` gives the endpoints ``new_org``, ``edit_org`` (at ``/<org_id>/edit``) and
    #: ``view_org`` (where a save leads), and the template variable ``org``.
    record_name: str
    #: What the success message calls the record ("tổ chức") and the attribute naming one.
    noun: str
    title_attr: str
    permission: Permission
    load: Callable[[Session, int], Any]
    org_of: Callable[[Any], int]
    create: Callable[[Session, Account, dict], Any]
    update: Callable[[Session, Account, Any, dict], Any]
    #: Fills the form's choices (and, on "new", what the query string preselects).
    prepare: Callable[[ServiceForm, Any], None]

    @property
    def id_arg(self) -> str:
        return f"{self.record_name}_id"

    def register(self, bp: Blueprint) -> None:
        for rule, action in (("/new", "new"), (f"/<int:{self.id_arg}>/edit", "edit")):
            endpoint = f"{action}_{self.record_name}"
            bp.add_url_rule(rule, endpoint, login_required(self.page), methods=["GET", "POST"])

    def _saved(self, record: Any, created: bool) -> tuple[str, str]:
        done = "Đã thêm" if created else "Đã lưu thông tin"
        message = f"{done} {self.noun} «{getattr(record, self.title_attr)}»."
        target = url_for(f"{request.blueprint}.view_{self.record_name}", **{self.id_arg: record.id})
        return message, target

    def page(self, **url_ids: int):
        record_id = url_ids.get(self.id_arg)
        record = None if record_id is None else self.load(db.session, record_id)
        ensure(db.session, current_user, self.permission, None if record is None else self.org_of(record))
        form = self.form(obj=record)
        self.prepare(form, record)
        if form.validate_on_submit():
            try:
                if record is None:
                    saved = self.create(db.session, current_user, form.raw())
                else:
                    saved = self.update(db.session, current_user, record, form.raw())
            except ValidationFailed as failure:
                db.session.rollback()
                apply_field_errors(form, failure)
            else:
                db.session.commit()
                message, target = self._saved(saved, record is None)
                flash(message, "success")
                return redirect(target)
        status = 400 if request.method == "POST" else 200
        return render_template(self.template, form=form, **{self.record_name: record}), status
