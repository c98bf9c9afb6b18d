"""The page of the seeds' targets (seed 002 II, seed 000) per issuing body and period, and its CSV. On the
documents blueprint; the figures from :mod:`certsvc.documents.report`.
"""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, render_template, request
from flask_login import current_user, login_required

from certsvc.core.records import to_id
from certsvc.documents.report import UnitReport, clean_period, report_csv, unit_report
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.views import bp
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.tree import OrgTree, TreePlace
from certsvc.policy import Permission, orgs_in_scope
from certsvc.timeutil import to_vietnam, utcnow
from certsvc.ui.navigation import NavLink

__all__ = ["NAV_LINKS"]

NAV_LINKS = (
    NavLink(
        "Báo cáo ký số",
        "documents.report",
        Permission.VIEW_DOCUMENT_REPORT,
        "Tỷ lệ văn bản điện tử có đủ chữ ký số, do thủ trưởng ký, so với chỉ tiêu; người có chứng thư chưa ký",
    ),
)


def _units() -> tuple[TreePlace, ...]:
    """The bodies whose report the user reads, in tree order; 403 when there are none."""
    scope = orgs_in_scope(db.session, current_user, Permission.VIEW_DOCUMENT_REPORT)
    if not scope:
        raise PermissionDenied()
    return OrgTree.load(db.session).in_tree_order(scope)


def _asked(units: tuple[TreePlace, ...]) -> tuple[dict[str, str], UnitReport | None, dict[str, str]]:
    """The filters (defaults: the first unit, this month up to today) and the report they ask for, or the
    filters' errors. A unit the user may not read is a 403, as its service says."""
    today = to_vietnam(utcnow()).date()
    values = {
        "unit_id": request.args.get("unit_id") or str(units[0].id),
        "from": request.args.get("from") or date(today.year, today.month, 1).isoformat(),
        "to": request.args.get("to") or today.isoformat(),
    }
    try:
        start, end = clean_period(values)
    except ValidationFailed as failure:
        return values, None, failure.field_errors
    settings = DocumentSettings.from_config(current_app.config)
    return values, unit_report(db.session, current_user, to_id(values["unit_id"]), start, end, settings), {}


@bp.get("/report")
@login_required
def report():
    units = _units()
    values, found, errors = _asked(units)
    return render_template(
        "documents/report.html", units=units, values=values, report=found, errors=errors
    ), 400 if errors else 200


@bp.get("/report.csv")
@login_required
def report_download():
    _, found, errors = _asked(_units())
    if found is None:
        raise ValidationFailed(errors, " ".join(errors.values()))
    name = f"bao-cao-ky-so-{found.unit_id}-{found.start:%Y%m%d}-{found.end:%Y%m%d}.csv"
    return Response(
        report_csv(found),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
