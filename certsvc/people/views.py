"""Placeholder: to be written."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("people", __name__, url_prefix="/admin/people")


@bp.get("/")
@login_required
def list_people():
    return "TODO"
