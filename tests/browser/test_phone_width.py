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


def at_phone_width(chrome, path: str, name: str) -> list[str]:
    """Open ``path`` on a phone and on a desktop, with a screenshot of each: it must not scroll sideways on the
    phone. What the phone showed before each value of the first stacked row (see :func:`_stacked_labels`)."""
    chrome.driver.set_window_size(PHONE_WIDTH, 900)
    chrome.open(path)
    width, window = _fits(chrome)
    assert width <= window, f"{path} is {width} px wide on a {window} px screen"
    chrome.screenshot(f"{name}-phone", PHONE_WIDTH)
    labels = _stacked_labels(chrome)
    chrome.driver.set_window_size(DESKTOP_WIDTH, 900)
    chrome.driver.refresh()
    chrome.screenshot(f"{name}-desktop")
    return labels


def _stacked_labels(chrome) -> list[str]:
    """What the first row of the page's stacked list shows before each of its values, on a phone."""
    cells = chrome.driver.find_elements("xpath", "(//table[contains(@class, 'stack')]//tbody/tr)[1]/td")
    return [
        chrome.driver.execute_script("return getComputedStyle(arguments[0], '::before').content;", c) for c in cells
    ]


def test_queue_request_and_registry_fit_a_phone(chrome):
    chrome.login("daumoi")
    labels = at_phone_width(chrome, "/requests/queue", "queue")
    assert '"Loại đề nghị"' in labels and '"Trạng thái"' in labels, labels
    request_path = chrome.find("(//table[contains(@class, 'stack')]//tbody/tr)[1]//a").get_attribute("href")
    at_phone_width(chrome, request_path.removeprefix(chrome.server.url), "request")
    assert '"Số hiệu"' in at_phone_width(chrome, "/registry/certificates", "certificates")
    # On a desktop the lists stay tables with their header row.
    chrome.driver.set_window_size(DESKTOP_WIDTH, 900)
    chrome.open("/registry/certificates")
    assert chrome.find("//table[contains(@class, 'stack')]//thead//th").is_displayed()
    assert _stacked_labels(chrome)[0] == "none"
