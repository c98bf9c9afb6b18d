"""API of the readiness capability: the board, and filing a token check report (the JSON of
``token-agent check --json`` as the request's whole body), checked as the pages check."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from certsvc.api.common import Query, committed
from certsvc.api.views import api_account, bp
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.readiness import board as boards
from certsvc.readiness.models import CheckReport, ReportSource
from certsvc.readiness.reports import store_report

__all__ = ["board_json", "report_json"]

#: The board's filter fields as the pages name them → as the API's query string does.
_QUERY_NAMES = {"unit": "organisation_id", "state": "state", "check": "check"}


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
