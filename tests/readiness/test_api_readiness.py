"""The readiness API beside the pages: assisted visits (list, record) and a unit's go-live date, each answer
checked against the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.readiness.models import AssistedVisit, CheckReport, GoLive
from certsvc.registry.models import TokenKind
from tests.support.api import Api
from tests.support.registry import add_certificate


def _report(serial: str) -> str:
    """A report as ``token-agent check --json`` prints it, pretty-printed (kept exactly as sent)."""
    return json.dumps(
        {
            "schema": "token-agent.check/1",
            "checked_at": dt.datetime.now(dt.UTC).isoformat(),
            "tokens": [
                {
                    "label": "CAN-BO",
                    "serial": serial,
                    "results": [{"id": "pin.locked", "status": "FAIL", "message": "Mã PIN đã bị khóa."}],
                }
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def invalid(api: Api, path: str, body: dict) -> dict:
    """The per-member messages of a body refused as invalid."""
    return api.refused("POST", path, body, status=400, code="validation_failed")


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_the_focal_office_records_a_visit_and_the_unit_lists_it(app, session, world):
    commune = world.orgs["commune"]
    personal = add_certificate(session, commune, cn="Nguyễn Văn An").token
    seal = add_certificate(session, commune, kind=TokenKind.ORGANISATION, cn="UBND xã Tân Đoàn").token
    focal = Api(app, session, world.account(Role.FOCAL_OFFICER))
    text = _report(personal.serial)
    visit = focal.post(
        "/readiness/visits",
        {
            "organisation_id": commune.id,
            "visitor_name": "Cán bộ xã",
            "token_serial": personal.serial,
            "computer": "Máy xách tay của xã",
            "actions": ["pin_unlocked", "driver_installed"],
            "outcome": "Đã mở khóa PIN, ký thử được.",
            "report": text,
        },
        status=201,
    )
    assert visit["actions"] == ["driver_installed", "pin_unlocked"] and visit["token"]["serial"] == personal.serial
    report = session.get(CheckReport, visit["report_id"])
    assert report.raw == text and report.source.value == "visit" and report.place == "Máy xách tay của xã"
    focal.post(
        "/readiness/visits",
        {
            "organisation_id": commune.id,
            "visitor_person_id": world.account(Role.UNIT_HEAD).person_id,
            "token_serial": seal.serial,
            "actions": ["nothing_possible"],
            "outcome": "Thiết bị hỏng, đề nghị khôi phục.",
        },
        status=201,
    )
    listed = Api(app, session, world.account(Role.UNIT_OFFICER)).get("/readiness/visits")
    assert listed["total"] == 2
    newest, first = listed["items"]
    assert newest["visitor_name"] == "Cán bộ unithead" and first["id"] == visit["id"]
    assert newest["token"] == {"id": seal.id, "serial": None, "secret": True}  # MẬT: the serial is not shown


def test_bad_visits_are_refused_and_write_nothing(app, session, world):
    commune = world.orgs["commune"]
    focal = Api(app, session, world.account(Role.FOCAL_OFFICER))
    good = {"organisation_id": commune.id, "visitor_name": "Cán bộ xã", "actions": ["pin_unlocked"], "outcome": "Xong"}
    fields = focal.refused(
        "POST",
        "/readiness/visits",
        {**good, "actions": "pin_unlocked", "report": {}},
        status=400,
        code="validation_failed",
    )
    assert set(fields) == {"actions", "report"}
    fields = focal.refused(
        "POST",
        "/readiness/visits",
        {**good, "actions": ["nothing_possible", "pin_unlocked"], "token_serial": "KHONG-CO"},
        status=400,
        code="validation_failed",
    )
    assert "Không khắc phục được" in fields["actions"]
    refused = focal.refused("POST", "/readiness/visits", {**good, "report": "{}"}, status=400, code="validation_failed")
    assert refused
    focal.refused("POST", "/readiness/visits", {**good, "note": "x"}, status=400, code="validation_failed")
    officer = Api(app, session, world.account(Role.UNIT_OFFICER))
    officer.refused("POST", "/readiness/visits", good, status=403, code="forbidden")
    assert count(session, AssistedVisit) == 0 and count(session, CheckReport) == 0


def test_the_focal_office_sets_and_clears_a_go_live_date(app, session, world):
    commune = world.orgs["commune"]
    focal = Api(app, session, world.account(Role.FOCAL_OFFICER))
    path = f"/readiness/units/{commune.id}/go-live"
    assert focal.post(path, {"go_live_on": "2027-01-15"}) == {"organisation_id": commune.id, "go_live_on": "2027-01-15"}
    board = focal.get(f"/readiness/board?organisation_id={commune.id}")
    assert board["units"][0]["go_live_on"] == "2027-01-15"
    assert "go_live_on" in focal.refused(
        "POST", path, {"go_live_on": "15-01-2027x"}, status=400, code="validation_failed"
    )
    assert "go_live_on" in focal.refused("POST", path, {}, status=400, code="validation_failed")
    Api(app, session, world.account(Role.UNIT_HEAD)).refused(
        "POST", path, {"go_live_on": None}, status=403, code="forbidden"
    )
    assert session.get(GoLive, commune.id).go_live_on == dt.date(2027, 1, 15)
    assert focal.post(path, {"go_live_on": None})["go_live_on"] is None
    assert count(session, GoLive) == 0
