"""Readiness routes (issue 14). Target: a check report of a personal token of the commune (no MẬT details) and the
commune itself. A unit sees only its own units; the focal office every unit it serves."""

from __future__ import annotations

import datetime as dt
import json

from certsvc.accounts.models import Role
from certsvc.readiness.models import ReportSource
from certsvc.readiness.reports import store_report
from certsvc.registry.models import TokenKind
from tests.conftest import add_account
from tests.matrix_roles import EVERYONE
from tests.support.registry import add_certificate

#: The board, its CSV and the visits list: whoever holds VIEW_READINESS somewhere (the clerk in its own office).
BOARD_READERS = frozenset({Role.AUDITOR, Role.FOCAL_OFFICER, Role.UNIT_HEAD, Role.UNIT_OFFICER, Role.CLERK})
#: Filing a report: the units' own people and the focal office, not the auditor.
RECORDERS = BOARD_READERS - {Role.AUDITOR}
#: A report of the commune: its own unit, the focal office serving it, the auditor above it.
COMMUNE_READERS = frozenset({Role.AUDITOR, Role.FOCAL_OFFICER, Role.UNIT_HEAD, Role.UNIT_OFFICER})
FOCAL = frozenset({Role.FOCAL_OFFICER})

ROUTES = {
    "readiness.board": BOARD_READERS,
    "readiness.board_download": BOARD_READERS,
    "readiness.list_visits": BOARD_READERS,
    "readiness.upload_report": RECORDERS,
    "readiness.view_report": COMMUNE_READERS,
    "readiness.request_from_check": frozenset({Role.UNIT_OFFICER}),
    "readiness.new_visit": FOCAL,
    "readiness.set_go_live": FOCAL,
    "api.readiness_board": BOARD_READERS,
    "api.file_report": RECORDERS,
    "api.list_readiness_visits": BOARD_READERS,
    "api.record_readiness_visit": FOCAL,
    "api.set_readiness_go_live": FOCAL,
}
NOT_FOUND_FOR = {
    "readiness.view_report": EVERYONE - COMMUNE_READERS,
    "readiness.request_from_check": EVERYONE - COMMUNE_READERS,
}


def _report(serial: str) -> bytes:
    return json.dumps(
        {
            "schema": "token-agent.check/1",
            "checked_at": dt.datetime.now(dt.UTC).isoformat(),
            "tokens": [
                {
                    "label": "MA-TRAN",
                    "serial": serial,
                    "results": [{"id": "pin.locked", "status": "FAIL", "message": "Mã PIN đã bị khóa."}],
                }
            ],
        }
    ).encode()


def targets(session, world) -> dict:
    commune = world.orgs["commune"]
    filer = add_account(session, "kiemtrathietbi", commune, (Role.UNIT_OFFICER, commune))
    token = add_certificate(session, commune, kind=TokenKind.PERSONAL, cn="Cán bộ kiểm tra thiết bị").token
    report = store_report(session, filer, _report(token.serial), source=ReportSource.UPLOAD)
    session.commit()
    return {
        "report_id": report.id,
        "checked_token_id": report.tokens[0].id,
        ("readiness.set_go_live", "unit_id"): commune.id,
        ("api.set_readiness_go_live", "api_unit_id"): commune.id,
    }
