"""The readiness pages as their users meet them: upload, report, board, one click to a request, visits, CSV."""

from __future__ import annotations

import io
import json
import re

import pytest
from pkcs11 import TokenFlag
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.readiness.models import AssistedVisit, CheckReport, GoLive, ReportSource
from certsvc.readiness.reports import MAX_REPORT_BYTES, store_report
from certsvc.registry.models import TokenKind
from certsvc.requests.models import CertificateRequest, RequestType
from certsvc.ui.uploads import CHOOSE_FILE_AGAIN, FORM_ALLOWANCE
from tests.requests.test_form_errors_placement import alert_box, field_block

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


# --- refused forms: each error under its field, what was typed kept ----------------------------------------


def typed_visit(readiness, **changes) -> dict[str, object]:
    """A visit as the focal officer fills it in (no report file)."""
    return {
        "organisation_id": str(readiness.commune.id),
        "visitor_name": "Hoàng Thị Mai",
        "token_serial": "",
        "computer": "Máy xách tay Dell",
        "actions": ["driver_installed", "certificate_imported"],
        "outcome": "Chưa ký thử được.",
    } | changes


def post_visit(browser, fields: dict[str, object], report: bytes | None = None):
    files = {"report": (io.BytesIO(report), "kiem-tra.json")} if report is not None else {}
    return browser.post("/readiness/visits/new", fields | files, content_type="multipart/form-data")


def assert_kept(page: str, readiness) -> None:
    """The refused visit page still holds what ``typed_visit`` filled in."""
    assert f'<option selected value="{readiness.commune.id}">' in page
    assert 'value="Hoàng Thị Mai"' in page and 'value="Máy xách tay Dell"' in page
    assert "Chưa ký thử được.</textarea>" in page
    assert 'checked id="actions-0" name="actions" type="checkbox" value="driver_installed"' in page
    assert 'checked id="actions-1" name="actions" type="checkbox" value="certificate_imported"' in page
    assert 'checked id="actions-2"' not in page


def test_a_visit_sent_three_times_is_one_visit(session, readiness, browser):
    """A double click, or Back then save: the once-only token makes one visit, and the later sends say so."""
    browser.login("focalofficer")
    token = re.search(r'name="form_token" value="([^"]+)"', browser.get("/readiness/visits/new").get_data(as_text=True))
    assert token is not None
    answers = [post_visit(browser, typed_visit(readiness, form_token=token.group(1))) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert count(session, AssistedVisit) == 1
    assert "đã được gửi trước đó" in browser.get(answers[-1].headers["Location"]).get_data(as_text=True)


def test_a_visit_refused_for_its_file_keeps_what_was_typed(session, readiness, browser):
    browser.login("focalofficer")
    refused = post_visit(browser, typed_visit(readiness), b"\x00\x01 not json")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert_kept(page, readiness)
    under_file = field_block(page, "report")
    assert "Không đọc được nội dung JSON" in under_file and CHOOSE_FILE_AGAIN in under_file
    assert "Không đọc được nội dung JSON" not in alert_box(page) and page.count("Không đọc được nội dung JSON") == 1
    assert count(session, AssistedVisit) == 0 and count(session, CheckReport) == 0


def test_a_visit_refused_for_a_file_too_large_keeps_what_was_typed(session, readiness, browser):
    browser.login("focalofficer")
    refused = post_visit(browser, typed_visit(readiness), b" " * (MAX_REPORT_BYTES + FORM_ALLOWANCE + 1))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert_kept(page, readiness)
    under_file = field_block(page, "report")
    assert "Tệp lớn quá 256 KB" in under_file and CHOOSE_FILE_AGAIN in under_file
    assert count(session, AssistedVisit) == 0 and count(session, CheckReport) == 0


def test_an_upload_too_large_keeps_the_place_typed(session, readiness, browser):
    browser.login("unithead")
    refused = upload(browser, b" " * (MAX_REPORT_BYTES + FORM_ALLOWANCE + 1), place="Máy văn thư tầng 2")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413 and 'value="Máy văn thư tầng 2"' in field_block(page, "place")
    assert "Tệp lớn quá 256 KB" in field_block(page, "file") and CHOOSE_FILE_AGAIN in field_block(page, "file")
    assert count(session, CheckReport) == 0


def test_a_visit_missing_fields_says_so_under_each(session, readiness, browser):
    browser.login("focalofficer")
    refused = post_visit(browser, typed_visit(readiness, organisation_id="", outcome="  "))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Chọn đơn vị của người đến kiểm tra." in field_block(page, "organisation_id")
    assert '<small class="error">Bắt buộc nhập.</small>' in field_block(page, "outcome")
    assert "has-error" not in field_block(page, "visitor_name") and 'value="Hoàng Thị Mai"' in page
    assert CHOOSE_FILE_AGAIN not in page  # no file was chosen: nothing to choose again
    assert alert_box(page) == ""
    assert count(session, AssistedVisit) == 0


def test_a_refused_go_live_date_shows_under_its_field_on_the_board(session, readiness, browser):
    browser.login("focalofficer")
    refused = browser.post(f"/readiness/units/{readiness.commune.id}/go-live", {"go_live_on": "1800-01-01"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    under_date = field_block(page, f"g-{readiness.commune.id}")
    assert "Ngày phải trong khoảng" in under_date and 'value="1800-01-01"' in under_date
    assert "UBND xã Tân Đoàn" in page and "chưa đặt" in page
    assert count(session, GoLive) == 0


def test_a_refused_remedy_says_why_under_its_button(session, readiness, browser):
    # The token is in the registry (with another certificate), the certificate failing on it is not.
    readiness.register(
        session, "LANH-DAO", TokenKind.PERSONAL, readiness.world.account(Role.UNIT_HEAD), on="THIEU-KHOA"
    )
    focal = readiness.world.account(Role.FOCAL_OFFICER)
    report = store_report(session, focal, readiness.checks.report("THIEU-KHOA"), source=ReportSource.VISIT)
    session.commit()
    (checked,) = report.tokens
    browser.login("unitofficer")
    refused = browser.post(f"/readiness/checked/{checked.id}/request", {"check": "cert.private_key"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    under_button = re.search(
        r'value="cert.private_key">\s*<button[^>]*>[^<]*</button>\s*</form>\s*<br><small class="error"[^>]*>([^<]*)<',
        page,
    )
    assert under_button and under_button.group(1) == "Chứng thư số trên thiết bị chưa có trong sổ chứng thư số."
    assert page.count("Chứng thư số trên thiết bị chưa có trong sổ chứng thư số.") == 1  # there, and only there
    # A check the page has no button for (a click from a stale or forged page): the reason still shows.
    forged = browser.post(f"/readiness/checked/{checked.id}/request", {"check": "pin.locked"})
    boxes = re.findall(r'<div class="flash flash-error" role="alert">.*?</div>', forged.get_data(as_text=True), re.S)
    assert forged.status_code == 400
    assert any("Kết quả kiểm tra này không có lỗi nào ở mục này cần lập đề nghị." in box for box in boxes)
    assert count(session, CertificateRequest) == 0
