"""The home page and the health endpoint."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user, login_required

from certsvc.extensions import db
from certsvc.ui.health import check_health
from certsvc.ui.work import WORK_SOURCES, work_list

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def index():
    """The signed-in person's work list: what waits for them in every capability their roles reach."""
    work = work_list(db.session, current_user, current_app.extensions[WORK_SOURCES])
    return render_template("core/index.html", account=current_user, work=work)


@bp.get("/healthz")
def healthz():
    health = check_health(db.engine)
    body = {
        "status": "ok" if health.ok else "fail",
        "database": "ok" if health.database_ok else "unreachable",
        "migrations": "head" if health.at_head else "behind",
        "revision": list(health.current),
        "head": list(health.head),
    }
    return jsonify(body), 200 if health.ok else 503
