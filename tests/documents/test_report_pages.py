"""The targets report page: unit and period filters, the figures red or green against the targets (settings),
the people who signed nothing, the CSV; who may read it, and bad filters refused on the page."""

from __future__ import annotations

import csv
import io

import pytest

from certsvc.accounts.models import Role
from tests.conftest import add_account
from tests.documents.test_report import register  # noqa: F401  (the hand-made register, a fixture)

PERIOD = {"from": "2026-10-01", "to": "2026-12-31"}


def signed_in(make_browser, username: str):
    browser = make_browser()
    browser.login(username)
    return browser


def test_the_head_reads_the_figures_against_the_targets(make_browser, register):  # noqa: F811
    committee = register["committee"].id
    head = signed_in(make_browser, "chutich")
    response = head.get("/documents/report", query_string={"unit_id": committee, **PERIOD})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "UBND huyện Văn Quan, từ 01/10/2026 đến 31/12/2026" in page
    assert "Văn bản phát hành điện tử trong kỳ: <strong>5</strong>" in page
    # Both signatures on 4 of 5 (80%, target 100%), by the head 4 of 5 (not above 80%), the leadership 4 of 20.
    assert page.count('<span class="badge bad">Chưa đạt</span>') == 3
    assert "4/5" in page and "80,0%" in page and "4/20" in page and "trên 80%" in page and "đạt 100%" in page
    assert "Nông Văn Nhàn" in page and "Chưa ký văn bản nào" not in page

    default = head.get("/documents/report")
    assert default.status_code == 200 and "Văn bản phát hành điện tử trong kỳ" in default.get_data(as_text=True)


def test_targets_are_settings_and_met_ones_are_green(make_app, register):  # noqa: F811
    from tests.conftest import Browser

    app = make_app(CERTSVC_TARGET_SIGNED_PERCENT="80", CERTSVC_TARGET_HEAD_SIGNED_PERCENT="75")
    head = Browser(app.test_client())
    head.login("chutich")
    page = head.get("/documents/report", query_string={"unit_id": register["committee"].id, **PERIOD})
    text = page.get_data(as_text=True)
    assert text.count('<span class="badge ok">Đạt</span>') == 2 and "đạt 80%" in text and "trên 75%" in text


def test_the_csv(make_browser, register):  # noqa: F811
    head = signed_in(make_browser, "chutich")
    response = head.get("/documents/report.csv", query_string={"unit_id": register["committee"].id, **PERIOD})
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert 'filename="bao-cao-ky-so-' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1]["Số lượng"] == "4" and rows[-1]["Số lượng"].startswith("Nông Văn Nhàn")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-12-31", "to": "2026-01-01"}, "Ngày cuối kỳ không được trước ngày đầu kỳ."),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "Kỳ báo cáo dài tối đa 366 ngày."),
        ({"from": "31/02/2026", "to": "2026-12-31"}, 'has-error">\n      <label for="r-from"'),
    ],
)
def test_a_bad_period_is_shown_under_its_field(make_browser, register, query, field):  # noqa: F811
    head = signed_in(make_browser, "chutich")
    response = head.get("/documents/report", query_string={"unit_id": register["committee"].id, **query})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and field in page and "Tải CSV" not in page
    assert head.get("/documents/report.csv", query_string=query).status_code == 400


def test_who_reads_the_report(make_browser, session, register):  # noqa: F811
    committee, commune = register["committee"].id, register["commune"].id
    query = {"unit_id": committee, **PERIOD}
    # The focal office serves the committee (the register's "dauMoi" has a capital, which sign-in lowers).
    office = register["committee"].focal_office
    add_account(session, "daumoi", office, (Role.FOCAL_OFFICER, office))
    session.commit()
    assert signed_in(make_browser, "daumoi").get("/documents/report", query_string=query).status_code == 200
    for username in ("vanthu", "thamdinh"):  # clerk and reviewer: no report anywhere
        browser = signed_in(make_browser, username)
        assert browser.get("/documents/report").status_code == 403
        assert browser.get("/documents/report.csv", query_string=query).status_code == 403
    commune_head = signed_in(make_browser, "chutichxa")
    page = commune_head.get("/documents/report").get_data(as_text=True)
    assert "UBND xã Tân Đoàn" in page and f'value="{committee}"' not in page
    assert commune_head.get("/documents/report", query_string=query).status_code == 403
    assert commune_head.get("/documents/report.csv", query_string=query).status_code == 403
    assert commune_head.get("/documents/report", query_string={"unit_id": commune, **PERIOD}).status_code == 200
    assert commune_head.get("/documents/report", query_string={"unit_id": "x"}).status_code == 404
    assert make_browser().get("/documents/report").status_code == 302
