"""Placeholder: to be written."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
def list_entries():
    return "TODO"
