"""Placeholder: to be written."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("imports", __name__, url_prefix="/admin/import")


@bp.get("/")
@login_required
def upload():
    return "TODO"
