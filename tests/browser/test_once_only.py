"""Issue 15, item 2 in a real browser: three clicks on a creating form's button, then Back and the button
again, make one record; the second send lands on the record the first made, saying so."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import POLL_SECONDS, WAIT_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.demo]

TITLE = "Đợt bấm ba lần"


def _wait_for_new_page(chrome) -> None:
    WebDriverWait(chrome.driver, WAIT_SECONDS, POLL_SECONDS, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.__certsvcLeaving && document.readyState === 'complete';")
    )


def test_three_clicks_and_back_make_one_batch(chrome):
    chrome.login("daumoi")
    chrome.open("/requests/batches")
    chrome.fill("Tên đợt", TITLE)
    chrome.fill("Họ tên người ký", "Lương Văn Bình")
    button = chrome.button("Tạo đợt tổng hợp")
    chrome.driver.execute_script(
        "window.__certsvcLeaving = true; arguments[0].click(); arguments[0].click(); arguments[0].click();", button
    )
    _wait_for_new_page(chrome)
    chrome.sees(f"Đã tạo đợt tổng hợp «{TITLE}».")
    first = chrome.driver.current_url
    chrome.driver.back()
    chrome.find("//h1[normalize-space(.)='Đợt tổng hợp đề nghị']")
    chrome.press("Tạo đợt tổng hợp")
    chrome.sees("Biểu mẫu này đã được gửi trước đó nên không tạo thêm bản ghi mới")
    assert chrome.driver.current_url == first
    chrome.open("/requests/batches")
    assert chrome.text().count(TITLE) == 1
