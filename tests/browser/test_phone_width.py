"""Issue 15, item 10: on a phone (390 px) the focal office's queue, a request's page and the certificate
registry fit the screen: no sideways scrolling, the lists' rows stacked as cards that name each value.
Screenshots at 390 and 1366 px go to the test's folder (and ``CERTSVC_SCREENSHOTS_DIR``)."""

from __future__ import annotations

import pytest

from tests.browser.test_demo_walkthrough import PHONE_WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.demo]

DESKTOP_WIDTH = 1366


def _fits(chrome) -> tuple[int, int]:
    """The page's width and the window's: the first larger means the page scrolls sideways."""
    return tuple(chrome.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];"))


def _at_phone_width(chrome, path: str, name: str) -> None:
    chrome.driver.set_window_size(PHONE_WIDTH, 900)
    chrome.open(path)
    width, window = _fits(chrome)
    assert width <= window, f"{path} is {width} px wide on a {window} px screen"
    chrome.screenshot(f"{name}-phone", PHONE_WIDTH)
    chrome.driver.set_window_size(DESKTOP_WIDTH, 900)
    chrome.driver.refresh()
    chrome.screenshot(f"{name}-desktop")


def _stacked_labels(chrome) -> list[str]:
    """What the first row of the page's stacked list shows before each of its values, on a phone."""
    cells = chrome.driver.find_elements("xpath", "(//table[contains(@class, 'stack')]//tbody/tr)[1]/td")
    return [
        chrome.driver.execute_script("return getComputedStyle(arguments[0], '::before').content;", c) for c in cells
    ]


def test_queue_request_and_registry_fit_a_phone(chrome):
    chrome.login("daumoi")
    _at_phone_width(chrome, "/requests/queue", "queue")
    chrome.driver.set_window_size(PHONE_WIDTH, 900)
    chrome.open("/requests/queue")
    labels = _stacked_labels(chrome)
    assert '"Loại đề nghị"' in labels and '"Trạng thái"' in labels, labels
    request_path = chrome.find("(//table[contains(@class, 'stack')]//tbody/tr)[1]//a").get_attribute("href")
    _at_phone_width(chrome, request_path.removeprefix(chrome.server.url), "request")
    _at_phone_width(chrome, "/registry/certificates", "certificates")
    chrome.driver.set_window_size(PHONE_WIDTH, 900)
    chrome.open("/registry/certificates")
    assert '"Số hiệu"' in _stacked_labels(chrome)
    # On a desktop the lists stay tables with their header row.
    chrome.driver.set_window_size(DESKTOP_WIDTH, 900)
    chrome.open("/registry/certificates")
    assert chrome.find("//table[contains(@class, 'stack')]//thead//th").is_displayed()
    assert _stacked_labels(chrome)[0] == "none"
