"""The CSV import page: upload a file of organisations or people, see every problem or the result."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required

from certsvc.config import PROJECT_ROOT
from certsvc.extensions import db
from certsvc.imports.forms import ImportForm
from certsvc.imports.reading import MAX_BYTES, MAX_ROWS
from certsvc.imports.service import import_csv
from certsvc.imports.specs import SPECS, ImportKind, ImportRefused
from certsvc.policy import Permission, ensure
from certsvc.ui.navigation import NavLink

bp = Blueprint("imports", __name__, url_prefix="/admin/import")
NAV_LINKS = (NavLink("Nhập dữ liệu", "imports.upload", Permission.IMPORT_DATA, "Nhập tổ chức, cán bộ từ tệp CSV"),)

SAMPLES_DIR = PROJECT_ROOT / "docs" / "samples"
#: Where each kind's list goes after a successful import.
_LISTS = {ImportKind.ORGANISATIONS: "orgs.list_orgs", ImportKind.PEOPLE: "people.list_people"}
#: Problems shown on the page; the rest are counted.
_SHOWN_PROBLEMS = 1000


def _page(form: ImportForm, status: int = 200, refused: ImportRefused | None = None, file_name: str = ""):
    return render_template(
        "imports/upload.html",
        form=form,
        specs=SPECS.values(),
        refused=refused,
        file_name=file_name,
        shown=_SHOWN_PROBLEMS,
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // (1024 * 1024),
    ), status


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload():
    ensure(db.session, current_user, Permission.IMPORT_DATA)
    form = ImportForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400)
    kind = ImportKind(form.kind.data)
    upload_file = form.file.data
    file_name = PurePath((upload_file.filename or "").replace("\\", "/")).name[:200]
    content = upload_file.stream.read(MAX_BYTES + 1)
    try:
        result = import_csv(db.session, current_user, kind, file_name, content)
    except ImportRefused as refused:
        db.session.rollback()
        return _page(form, 400, refused, file_name)
    db.session.commit()
    flash(f"Đã nhập {result.count} {kind.noun} từ tệp «{file_name}».", "success")
    return redirect(url_for(_LISTS[kind]))


@bp.get("/samples/<name>.csv")
@login_required
def sample(name: str):
    ensure(db.session, current_user, Permission.IMPORT_DATA)
    if name not in {spec.sample for spec in SPECS.values()}:
        abort(404)
    return send_from_directory(
        SAMPLES_DIR, f"{name}.csv", mimetype="text/csv", as_attachment=True, download_name=f"{name}.csv"
    )
