"""Issue 15, item 3: the request lists' search box, as the demo's people use it in Chromium, at 1366 px and on a
phone (390 px): a name typed without its diacritics finds the request, the other filters and the typed text stay.
Screenshots go to the test's folder."""

from __future__ import annotations

import pytest

from tests.browser.test_demo_walkthrough import PHONE_WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.demo]

SEARCH = "Tìm theo họ tên, số CCCD, số hiệu"


def _listed_subjects(chrome) -> list[str]:
    cells = chrome.driver.find_elements("xpath", "//table[contains(@class, 'requests')]//td[@data-label='Đối tượng']")
    return [cell.text for cell in cells]


def test_the_queue_and_the_units_list_find_a_name_typed_without_diacritics(chrome):
    chrome.login("daumoi")
    chrome.open("/requests/queue")
    chrome.fill(SEARCH, "loc van thang")
    chrome.choose("Trạng thái", "— Tất cả —")
    chrome.press("Lọc")
    assert [subject.split(" (")[0] for subject in _listed_subjects(chrome)] == ["Lộc Văn Thắng"]
    assert chrome.by_label(SEARCH).get_attribute("value") == "loc van thang"
    chrome.screenshot("queue-search")
    chrome.driver.set_window_size(PHONE_WIDTH, 900)
    chrome.driver.refresh()
    width, window = chrome.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    assert width <= window, f"the queue is {width} px wide on a {window} px screen"
    assert chrome.by_label(SEARCH).is_displayed()
    chrome.screenshot("queue-search-phone", PHONE_WIDTH)

    chrome.driver.set_window_size(1366, 900)
    chrome.logout()
    chrome.login("canbo")
    chrome.open("/requests/")
    chrome.fill(SEARCH, "HOÀNG THỊ")
    chrome.press("Lọc")
    assert _listed_subjects(chrome) == ["Hoàng Thị Mai"]
    chrome.screenshot("unit-list-search")
