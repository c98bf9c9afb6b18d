"""The page where users create and revoke their own API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from certsvc.accounts import api_tokens as service
from certsvc.accounts.api_token_forms import NewTokenForm
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.ui.forms import ActionForm, apply_field_errors

__all__ = ["bp"]

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@bp.route("/", methods=["GET", "POST"])
@login_required
def list_tokens():
    form = NewTokenForm()
    secret = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                _token, secret = service.create_token(db.session, current_user, {"name": form.name.data})
            except ValidationFailed as failure:
                db.session.rollback()
                apply_field_errors(form, failure)
            else:
                db.session.commit()
                status = 200
                form = NewTokenForm(formdata=None)
    tokens = service.tokens_of(db.session, current_user)
    return render_template("api/tokens.html", form=form, tokens=tokens, secret=secret, revoke_form=ActionForm()), status


@bp.post("/<int:api_token_id>/revoke")
@login_required
def revoke_token(api_token_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    token = service.revoke_token(db.session, current_user, api_token_id)
    db.session.commit()
    flash(f"Đã thu hồi khóa API «{token.name}». Chương trình dùng khóa này sẽ không truy cập được nữa.", "success")
    return redirect(url_for("api_tokens.list_tokens"))
