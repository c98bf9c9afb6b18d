"""Pages of the readiness capability: the board (and its CSV), filing a check report, a report, assisted visits,
a unit's go-live date, and the one click from a failed check to its request. Thin: the rules are in the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from wtforms import SelectChoice  # type: ignore[attr-defined]  # stubs 3.2 lack SelectChoice

from certsvc.accounts.models import Account
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.errors import NotFound, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.tree import OrgTree
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.readiness import board as boards
from certsvc.readiness import remedies, visits
from certsvc.readiness.forms import ReportUploadForm, VisitForm
from certsvc.readiness.models import CheckedToken, CheckReport, GoLive, ReportSource
from certsvc.readiness.reports import MAX_REPORT_BYTES, store_report
from certsvc.registry.models import TokenKind
from certsvc.timeutil import to_vietnam, utcnow
from certsvc.ui import onceonly
from certsvc.ui.forms import ActionForm, apply_field_errors
from certsvc.ui.navigation import NavLink
from certsvc.ui.uploads import CHOOSE_FILE_AGAIN, allow_upload, fields_beside_a_large_file
from certsvc.ui.work import WorkItem

__all__ = ["bp", "NAV_LINKS", "WORK_ITEMS"]

bp = Blueprint("readiness", __name__, url_prefix="/readiness")

#: Above this many units the unit filter is no drop-down (each unit's name on the board filters to it).
MAX_UNITS_LISTED = 100

NAV_LINKS = (
    NavLink(
        "Sẵn sàng ký số",
        "readiness.board",
        Permission.VIEW_READINESS,
        "Đơn vị nào ký số được: kết quả kiểm tra thiết bị, chứng thư sắp hết hạn, việc còn thiếu trước khi triển khai",
    ),
)


def _settings() -> boards.ReadinessSettings:
    return boards.ReadinessSettings.from_config(current_app.config)


def _units(permission: Permission):
    scope = orgs_in_scope(db.session, current_user, permission)
    return OrgTree.load(db.session).in_tree_order(scope)


def _asked_board(*, paged: bool) -> tuple[boards.Board | None, dict[str, str]]:
    try:
        wanted = boards.clean_filter(request.args)
    except ValidationFailed as failure:
        return None, failure.field_errors
    page = (to_id(request.args.get("page")) or 1) if paged else None
    return boards.readiness_board(db.session, current_user, _settings(), wanted, page=page), {}


@dataclass(frozen=True)
class RefusedGoLive:
    """A unit's go-live date as typed and refused: the board shows it again with the reason under it."""

    unit_id: int
    typed: str
    message: str


def _board_page(
    found: boards.Board | None,
    errors: dict[str, str],
    values: dict[str, str],
    refused_go_live: RefusedGoLive | None = None,
):
    """The board with its filter form (``values``, and ``errors`` under its fields); 400 when anything was refused."""
    units = _units(Permission.VIEW_READINESS)
    return render_template(
        "readiness/board.html",
        board=found,
        errors=errors,
        values=values,
        units=units if len(units) <= MAX_UNITS_LISTED else None,
        states=list(boards.UnitState),
        assisting=orgs_in_scope(db.session, current_user, Permission.ASSIST_READINESS),
        may_draft=orgs_in_scope(db.session, current_user, Permission.DRAFT_REQUESTS),
        remedy_for=remedies.remedy_for,
        refused_go_live=refused_go_live,
        action_form=ActionForm(),
    ), 400 if errors or refused_go_live else 200


@bp.get("/")
@login_required
def board():
    ensure(db.session, current_user, Permission.VIEW_READINESS)
    found, errors = _asked_board(paged=True)
    values = {name: value for name, value in request.args.items() if name in ("unit", "state", "check")}
    return _board_page(found, errors, values)


@bp.get("/board.csv")
@login_required
def board_download():
    ensure(db.session, current_user, Permission.VIEW_READINESS)
    found, errors = _asked_board(paged=False)
    if found is None:
        raise ValidationFailed(errors, " ".join(errors.values()))
    return Response(
        boards.board_csv(found),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="san-sang-ky-so.csv"'},
    )


def _upload_page(form: ReportUploadForm, status: int = 200):
    return render_template(
        "readiness/upload.html", form=form, max_kb=MAX_REPORT_BYTES // 1024, choose_again=CHOOSE_FILE_AGAIN
    ), status


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
def upload_report():
    ensure(db.session, current_user, Permission.RECORD_READINESS)
    form = ReportUploadForm()
    if request.method == "GET":
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, 400)
    try:
        report = store_report(
            db.session, current_user, form.file.data.read(), source=ReportSource.UPLOAD, place=form.place.data
        )
    except ValidationFailed as failure:
        db.session.rollback()
        apply_field_errors(form, failure)
        return _upload_page(form, 400)
    db.session.commit()
    flash("Đã lưu kết quả kiểm tra thiết bị.", "success")
    return redirect(url_for("readiness.view_report", report_id=report.id))


def _upload_too_large(message: str):
    form = ReportUploadForm(formdata=fields_beside_a_large_file())
    form.file.errors = [message]
    return _upload_page(form, 413)


allow_upload(bp, "upload_report", MAX_REPORT_BYTES, _upload_too_large)


def _visible_report(report_id: int) -> CheckReport | None:
    """The report, if the signed-in account may see it: its unit's readiness, and the custody register's when one
    of its tokens is an organisation's (MẬT)."""
    report = db.session.get(
        CheckReport, report_id, options=[selectinload(CheckReport.tokens).selectinload(CheckedToken.token)]
    )
    unit = report.organisation_id if report else None
    if report is None or not can(db.session, current_user, Permission.VIEW_READINESS, unit):
        return None
    secret = any(t.token is not None and t.token.kind is TokenKind.ORGANISATION for t in report.tokens)
    if secret and not can(db.session, current_user, Permission.VIEW_CUSTODY, unit):
        return None  # MẬT: not found, as the custody register answers
    return report


@dataclass(frozen=True)
class RefusedRemedy:
    """A request from a failed check that could not be drafted: the report page says why under its button."""

    checked_token_id: int
    check: str
    message: str


def _report_page(report: CheckReport, refused: RefusedRemedy | None = None):
    return render_template(
        "readiness/report.html",
        report=report,
        remedy_for=remedies.remedy_for,
        holder_mismatch=remedies.holder_mismatch,
        holder_check=remedies.HOLDER_CHECK,
        may_draft=can(db.session, current_user, Permission.DRAFT_REQUESTS, report.organisation_id),
        refused=refused,
        action_form=ActionForm(),
    ), 400 if refused else 200


@bp.get("/reports/<int:report_id>")
@login_required
def view_report(report_id: int):
    report = _visible_report(report_id)
    if report is None:
        raise NotFound("Không có kết quả kiểm tra này.")
    return _report_page(report)


def _remedy_refused(checked_token_id: int, check: str, failure: ValidationFailed):
    """The report of the check, with why no request was drafted under the button pressed; to whoever may not see
    that report, the reason alone."""
    reason = " ".join(failure.field_errors.values()) or failure.message
    checked = db.session.get(CheckedToken, checked_token_id)
    report = _visible_report(checked.report_id) if checked is not None else None
    if report is None:
        raise ValidationFailed(failure.field_errors, reason)
    return _report_page(report, RefusedRemedy(checked_token_id, check, reason))


@bp.post("/checked/<int:checked_token_id>/request")
@login_required
def request_from_check(checked_token_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    check = request.form.get("check", "")
    try:
        drafted = remedies.draft_from_check(db.session, current_user, checked_token_id, check)
    except ValidationFailed as failure:
        db.session.rollback()
        return _remedy_refused(checked_token_id, check, failure)
    db.session.commit()
    for found, created in ((drafted.request, drafted.created), (drafted.new_request, drafted.new_created)):
        if found is None:
            continue
        if created:
            flash(f"Đã lập dự thảo đề nghị số {found.id} ({found.request_type.label}).", "success")
        else:
            flash(f"Đã có đề nghị số {found.id} đang mở ({found.request_type.label}): không lập thêm.", "info")
    if drafted.new_type is not None and drafted.new_request is None:
        flash(
            f"Lập đề nghị «{drafted.new_type.label}»: biểu mẫu đã điền sẵn thông tin có trong sổ, "
            "bổ sung các thông tin còn thiếu rồi lưu.",
            "info",
        )
        return redirect(
            url_for("requests.new_request", request_type=drafted.new_type.value, certificate_id=drafted.certificate_id)
        )
    shown = drafted.request or drafted.new_request
    assert shown is not None  # a remedy drafts a request about the token, or a new certificate's
    return redirect(url_for("requests.view_request", request_id=shown.id))


#: The visit service reads the report's JSON as its field ``file``; the form calls it ``report``.
_VISIT_FIELDS = {"file": "report"}


def _visit_form_page(form: VisitForm, status: int = 200):
    units = _units(Permission.ASSIST_READINESS)
    form.organisation_id.choices = [SelectChoice("", "— Chọn đơn vị —")] + [
        SelectChoice(str(u.id), "— " * u.depth + u.name) for u in units
    ]
    return render_template(
        "readiness/visit_form.html", form=form, choose_again=CHOOSE_FILE_AGAIN, form_token=onceonly.new_token()
    ), status


@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def new_visit():
    ensure(db.session, current_user, Permission.ASSIST_READINESS)
    form = VisitForm()
    if request.method == "GET":
        return _visit_form_page(form)
    if not form.validate_on_submit():
        return _visit_form_page(form, 400)
    if sent := onceonly.sent_before(db.session, current_user.id):
        return sent
    report = form.report.data.read() if form.report.data else None
    try:
        visits.record_visit(db.session, current_user, form.raw(), report)
    except ValidationFailed as failure:
        db.session.rollback()
        errors = {_VISIT_FIELDS.get(name, name): message for name, message in failure.field_errors.items()}
        apply_field_errors(form, ValidationFailed(errors, failure.message))
        return _visit_form_page(form, 400)
    listed = url_for("readiness.list_visits")
    onceonly.remember(db.session, listed)
    db.session.commit()
    flash("Đã ghi nhận lượt hỗ trợ kiểm tra tại cơ quan đầu mối.", "success")
    return redirect(listed)


def _visit_too_large(message: str):
    form = VisitForm(formdata=fields_beside_a_large_file())
    form.report.errors = [message]
    return _visit_form_page(form, 413)


allow_upload(bp, "new_visit", MAX_REPORT_BYTES, _visit_too_large)


@bp.get("/visits")
@login_required
def list_visits():
    return render_template(
        "readiness/visits.html",
        visits=visits.visits_for(db.session, current_user),
        may_record=can(db.session, current_user, Permission.ASSIST_READINESS),
    )


@bp.post("/units/<int:unit_id>/go-live")
@login_required
def set_go_live(unit_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    typed = request.form.get("go_live_on", "")
    try:
        visits.set_go_live(db.session, current_user, unit_id, typed)
    except ValidationFailed as failure:
        db.session.rollback()
        refused = RefusedGoLive(unit_id, typed[:32], " ".join(failure.field_errors.values()))
        found = boards.readiness_board(db.session, current_user, _settings(), boards.BoardFilter(unit_id=unit_id))
        return _board_page(found, {}, {"unit": str(unit_id)}, refused)
    db.session.commit()
    flash("Đã lưu ngày triển khai của đơn vị.", "success")
    return redirect(url_for("readiness.board", unit=unit_id))


# --- the home page's work list ---------------------------------------------------------------------

#: A unit this many days or fewer before its go-live date, and not ready, is pressing.
_GO_LIVE_SOON_DAYS = 14


def readiness_work(session: Session, account: Account) -> list[WorkItem]:
    """For the focal office: the units it assists that have a go-live date and are not ready yet; those
    within two weeks of it, or past it, first."""
    assisting = orgs_in_scope(session, account, Permission.ASSIST_READINESS)
    dates = select(GoLive.organisation_id, GoLive.go_live_on).where(one_of_ids(GoLive.organisation_id, assisting))
    planned = {unit: day for unit, day in session.execute(dates)} if assisting else {}
    if not planned:
        return []
    # The board works out every unit's state at once (a fixed number of queries, whatever the units).
    board = boards.readiness_board(session, account, _settings(), boards.BoardFilter(state=boards.UnitState.READY))
    not_ready = set(planned) - {unit.unit_id for unit in board.units}
    soon = to_vietnam(utcnow()).date() + timedelta(days=_GO_LIVE_SOON_DAYS)
    return [
        WorkItem(
            "Sẵn sàng triển khai",
            "Đơn vị chưa sẵn sàng trước ngày triển khai",
            len(not_ready),
            url_for("readiness.board"),
            sum(1 for unit in not_ready if planned[unit] <= soon),
            "sắp đến hạn hoặc đã quá hạn",
        )
    ]


WORK_ITEMS = (readiness_work,)
