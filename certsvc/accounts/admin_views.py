"""Placeholder: to be written."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/accounts")


@bp.get("/")
@login_required
def list_accounts():
    return "TODO"
