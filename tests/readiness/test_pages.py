"""The readiness pages as their users meet them: upload, report, board, one click to a request, visits, CSV."""

from __future__ import annotations

import io
import json

import pytest
from pkcs11 import TokenFlag
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.readiness.models import AssistedVisit, CheckReport, ReportSource
from certsvc.readiness.reports import store_report
from certsvc.requests.models import CertificateRequest, RequestType

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def upload(browser, raw: bytes, place: str = "Máy văn thư"):
    return browser.post(
        "/readiness/reports/new",
        {"file": (io.BytesIO(raw), "kiem-tra.json"), "place": place},
        content_type="multipart/form-data",
    )


def switch(browser, username: str) -> None:
    browser.logout()
    browser.login(username)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_head_uploads_a_check_and_the_board_shows_the_unit(session, readiness, browser):
    readiness.head_certificate(session)
    browser.login("unithead")
    response = upload(browser, readiness.checks.report("LANH-DAO"))
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ký thử đã xác minh bằng chứng thư số đã đăng ký" in page and "Máy văn thư" in page
    board = browser.get("/readiness/").get_data(as_text=True)
    assert (
        "UBND xã Tân Đoàn" in board and "Thiết bị của cơ quan: chưa có chứng thư số của cơ quan còn hiệu lực." in board
    )
    assert "Thiếu chứng thư số hoặc thiết bị" in board


def test_a_forged_or_broken_file_is_refused_on_the_page(session, readiness, browser):
    readiness.head_certificate(session)
    browser.login("unitofficer")
    document = json.loads(readiness.checks.report("LANH-DAO"))
    for result in document["tokens"][0]["results"]:
        if result["id"] == "cert.test_signature":
            result["evidence"]["signed_data"] = result["evidence"]["signed_data"][:-2] + "00"
    forged = upload(browser, json.dumps(document).encode())
    assert forged.status_code == 400 and "không khớp chứng thư số đã đăng ký" in forged.get_data(as_text=True)
    broken = upload(browser, b"\x00\x01 not json")
    assert broken.status_code == 400 and "Không đọc được nội dung JSON" in broken.get_data(as_text=True)
    assert count(session, CheckReport) == 0


def test_one_click_from_a_failed_check_drafts_the_request_and_a_second_shows_it(session, readiness, browser):
    readiness.seal(session)
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    report = store_report(
        session,
        focal,
        readiness.checks.report("VAN-THU", flag=TokenFlag.USER_PIN_LOCKED),
        source=ReportSource.VISIT,
    )
    session.commit()
    browser.login("unitofficer")
    assert browser.get(f"/readiness/reports/{report.id}").status_code == 404  # MẬT: the seal token's report
    assert "MẬT" in browser.get("/readiness/").get_data(as_text=True)
    switch(browser, "unithead")
    page = browser.get(f"/readiness/reports/{report.id}").get_data(as_text=True)
    assert "Mã PIN đã bị khóa." in page
    switch(browser, "unitofficer")
    url = f"/readiness/checked/{report.tokens[0].id}/request"
    first = browser.post(url, {"check": "pin.locked"})
    assert first.status_code == 302
    (request,) = session.scalars(select(CertificateRequest)).all()
    assert request.request_type is RequestType.RECOVERY and first.headers["Location"].endswith(
        f"/requests/{request.id}"
    )
    second = browser.post(url, {"check": "pin.locked"}, follow_redirects=True)
    assert f"Đã có đề nghị số {request.id} đang mở" in second.get_data(as_text=True)
    assert count(session, CertificateRequest) == 1


def test_the_focal_officer_records_a_visit_with_its_check(session, readiness, browser):
    certificate = readiness.head_certificate(session)
    browser.login("focalofficer")
    response = browser.post(
        "/readiness/visits/new",
        {
            "organisation_id": str(readiness.commune.id),
            "visitor_name": "Cán bộ unithead",
            "token_serial": certificate.token.serial,
            "computer": "Máy xách tay",
            "actions": ["driver_installed", "certificate_imported"],
            "outcome": "Đã ký thử được.",
            "report": (io.BytesIO(readiness.checks.report("LANH-DAO")), "kiem-tra.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    visit = session.scalars(select(AssistedVisit)).one()
    assert visit.report.source.value == "visit" and visit.token_id == certificate.token_id
    page = browser.get("/readiness/visits").get_data(as_text=True)
    assert "Cài trình điều khiển thiết bị; Cài chứng thư số" in page and "Đã ký thử được." in page
    refused = browser.post("/readiness/visits/new", {"organisation_id": str(readiness.commune.id), "outcome": ""})
    assert refused.status_code == 400 and "Chọn ít nhất một việc đã làm" in refused.get_data(as_text=True)
    assert count(session, AssistedVisit) == 1


def test_board_filters_csv_and_go_live(session, readiness, browser):
    browser.login("focalofficer")
    assert browser.get("/readiness/?state=bogus").status_code == 400
    response = browser.post(f"/readiness/units/{readiness.commune.id}/go-live", {"go_live_on": "2027-01-15"})
    assert response.status_code == 302
    page = browser.get(f"/readiness/?unit={readiness.commune.id}").get_data(as_text=True)
    assert "15/01/2027" in page
    csv_text = browser.get(f"/readiness/board.csv?unit={readiness.commune.id}").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("UBND xã Tân Đoàn,Thiếu chứng thư số hoặc thiết bị,15/01/2027")
    switch(browser, "unitofficer")
    assert browser.post(f"/readiness/units/{readiness.commune.id}/go-live", {"go_live_on": ""}).status_code == 403
    assert browser.get(f"/readiness/?unit={readiness.world.orgs['other_commune'].id}").status_code == 403
