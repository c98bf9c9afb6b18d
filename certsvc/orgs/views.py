"""Placeholder: to be written."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("orgs", __name__, url_prefix="/admin/orgs")


@bp.get("/")
@login_required
def list_orgs():
    return "TODO"
