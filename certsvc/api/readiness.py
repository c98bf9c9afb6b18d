"""API of the readiness capability: the board, filing a token check report (the JSON of ``token-agent check
--json`` as the request's whole body), the assisted visits at the focal office (list, record) and a unit's go-live
date, checked as the pages check."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from certsvc.api.common import Body, Query, committed, json_body
from certsvc.api.views import api_account, bp
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, ensure
from certsvc.readiness import board as boards
from certsvc.readiness import visits
from certsvc.readiness.models import AssistedVisit, CheckReport, ReportSource
from certsvc.readiness.reports import FIELD as REPORT_FIELD
from certsvc.readiness.reports import store_report

__all__ = ["board_json", "report_json", "visit_json"]

#: The board's filter fields as the pages name them → as the API's query string does.
_QUERY_NAMES = {"unit": "organisation_id", "state": "state", "check": "check"}
#: The members of a visit as :func:`certsvc.readiness.visits.record_visit` takes them (besides ``actions``, a list of
#: :class:`certsvc.readiness.models.VisitAction` values, and ``report``).
_VISIT_IDS = ("organisation_id", "visitor_person_id")
_VISIT_TEXTS = ("visitor_name", "token_serial", "computer", "outcome")
#: The report's problems as :func:`certsvc.readiness.reports.store_report` names them → as the API's body does.
_REPORT_FIELDS = {REPORT_FIELD: "report"}


def board_json(board: boards.Board) -> dict:
    return {
        "as_of": board.as_of.isoformat(),
        "check_days": board.settings.check_days,
        "warning_days": board.settings.warning_days,
        "units": [unit.as_dict() for unit in board.units],
    }


def report_json(report: CheckReport) -> dict:
    return {
        "id": report.id,
        "sha256": report.sha256,
        "schema": report.schema,
        "checked_at": report.checked_at.isoformat(),
        "received_at": report.received_at.isoformat(),
        "organisation_id": report.organisation_id,
        "source": report.source.value,
        "place": report.place,
        "status": report.status.value,
        "test_signature_verified": report.test_signature_verified,
        "tokens": [
            {
                "token_serial": token.token_serial,
                "token_label": token.token_label,
                "token_id": token.token_id,
                "certificate_sha256": token.certificate_sha256,
                "certificate_id": token.certificate_id,
                "status": token.status.value,
                "failing_checks": token.failing_checks,
                "flagged_unknown": token.flagged_unknown,
                "test_signature_ok": token.test_signature_ok,
            }
            for token in report.tokens
        ],
    }


@bp.get("/readiness/board")
def readiness_board() -> Response:
    query = Query()
    query.refuse_empty(*_QUERY_NAMES.values())
    query.check()
    try:
        wanted = boards.clean_filter({field: request.args.get(name) for field, name in _QUERY_NAMES.items()})
    except ValidationFailed as refused:
        raise ValidationFailed({_QUERY_NAMES[f]: m for f, m in refused.field_errors.items()}) from None
    settings = boards.ReadinessSettings.from_config(current_app.config)
    return jsonify(board_json(boards.readiness_board(db.session, api_account(), settings, wanted)))


@bp.post("/readiness/reports")
def file_report() -> Response:
    query = Query()
    query.refuse_empty("place")
    query.check()
    raw = request.get_data()
    report = store_report(db.session, api_account(), raw, source=ReportSource.UPLOAD, place=request.args.get("place"))
    return committed(lambda: report_json(report), 201)


def visit_json(visit: AssistedVisit) -> dict:
    """A visit as the list shows it: an organisation token (MẬT) by its id only, as the visits page shows a badge."""
    token = visit.token
    return {
        "id": visit.id,
        "visited_at": visit.visited_at.isoformat(),
        "organisation": {"id": visit.organisation_id, "name": visit.organisation.name},
        "visitor_person_id": visit.visitor_person_id,
        "visitor_name": visit.visitor_name,
        "focal_officer": {"id": visit.focal_officer_id, "full_name": visit.focal_officer.person.full_name},
        "token": None
        if token is None
        else {"id": token.id, "serial": None if token.is_secret else token.serial, "secret": token.is_secret},
        "computer": visit.computer,
        "report_id": visit.report_id,
        "actions": list(visit.actions),
        "outcome": visit.outcome,
    }


@bp.get("/readiness/visits")
def list_readiness_visits() -> Response:
    found = visits.visits_for(db.session, api_account())
    return jsonify({"items": [visit_json(visit) for visit in found], "total": len(found)})


def _visit_values(body: Body) -> dict[str, object]:
    values: dict[str, object] = {name: body.integer(name, required=False) for name in _VISIT_IDS}
    values |= {name: body.text(name) for name in _VISIT_TEXTS}
    actions = body.data.get("actions")
    if actions is not None and not (isinstance(actions, list) and all(isinstance(a, str) for a in actions)):
        body.fail("actions", "Phải là danh sách chuỗi ký tự.")
    values["actions"] = actions
    return values


@bp.post("/readiness/visits")
def record_readiness_visit() -> Response:
    """Record an assisted visit; ``report``, if given, is the JSON text ``token-agent check --json`` printed there,
    as a string (kept exactly as sent, filed like an uploaded report)."""
    account = api_account()
    ensure(db.session, account, Permission.ASSIST_READINESS)
    body = Body(json_body(), (*_VISIT_IDS, *_VISIT_TEXTS, "actions", "report"))
    values = _visit_values(body)
    report = body.data.get("report")
    if report is not None and not isinstance(report, str):
        body.fail("report", "Phải là chuỗi ký tự: nội dung JSON lệnh token-agent check --json in ra.")
    body.check()
    try:
        visit = visits.record_visit(db.session, account, values, report.encode() if isinstance(report, str) else None)
    except ValidationFailed as refused:  # the report's problems are the member's, not a file's as on the page
        fields = {_REPORT_FIELDS.get(name, name): message for name, message in refused.field_errors.items()}
        raise ValidationFailed(fields, refused.message) from None
    return committed(lambda: visit_json(visit), 201)


@bp.post("/readiness/units/<int:api_unit_id>/go-live")
def set_readiness_go_live(api_unit_id: int) -> Response:
    """Set the unit's go-live date, or clear it with null."""
    account = api_account()
    ensure(db.session, account, Permission.ASSIST_READINESS, api_unit_id)
    body = Body(json_body(), ("go_live_on",))
    day = body.text("go_live_on", required=False)
    body.check()
    if "go_live_on" not in body.data:
        raise ValidationFailed({"go_live_on": "Bắt buộc có: ngày triển khai (YYYY-MM-DD), hoặc null để bỏ."})
    current = visits.set_go_live(db.session, account, api_unit_id, day)
    return committed(
        lambda: {"organisation_id": api_unit_id, "go_live_on": current.go_live_on.isoformat() if current else None}
    )
