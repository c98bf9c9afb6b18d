"""Issue 14: on a phone (390 px) the readiness pages fit the screen: the board, a check report, the visits and
the two forms scroll only downwards, and the board's rows are stacked as cards that name each value.
Screenshots at 390 and 1366 px go to the test's folder (and ``CERTSVC_SCREENSHOTS_DIR``)."""

from __future__ import annotations

import pytest

from tests.browser.test_phone_width import at_phone_width

pytestmark = [pytest.mark.browser, pytest.mark.demo]


def test_readiness_pages_fit_a_phone(chrome):
    chrome.login("daumoi")
    labels = at_phone_width(chrome, "/readiness/", "readiness-board")
    assert '"Vai trò"' in labels and '"Lần kiểm tra"' in labels, labels
    # The commune whose seal token failed its check: its report lists the failed checks.
    failed = chrome.section("UBND xã Tràng Phái")
    report = chrome.find(".//table[contains(@class, 'stack')]//a[contains(@href, '/readiness/reports/')]", failed)
    report_path = report.get_attribute("href").removeprefix(chrome.server.url)
    assert at_phone_width(chrome, report_path, "readiness-report")[:3] == ['"Kiểm tra"', '"Kết quả"', '"Nên làm"']
    for path, name in (
        ("/readiness/visits", "readiness-visits"),
        ("/readiness/visits/new", "readiness-visit-form"),
        ("/readiness/reports/new", "readiness-upload"),
    ):
        at_phone_width(chrome, path, name)
