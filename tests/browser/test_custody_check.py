"""Issue 15, item 24, in a browser: the clerk downloads the demo handover's minute; its QR code (decoded with
zbarimg from the rendered page, else the link written under it) opens, without signing in, the page that shows
what the paper prints, on a phone (390 px) and a desktop (1366 px); a link with another hash shows nothing."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.browser.test_demo_walkthrough import PHONE_WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.demo]

DESKTOP_WIDTH = 1366


def _link_in(pdf, folder) -> str:
    """The verification link of a minute: read from its QR code when zbarimg is there, else from the text."""
    if shutil.which("zbarimg"):
        page = folder / "page"
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(page)], check=True)
        found = subprocess.run(["zbarimg", "--raw", "-q", f"{page}-1.png"], capture_output=True, text=True)
        return found.stdout.strip()
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("http"))
    return lines[start] + lines[start + 1]  # written out on two lines


def _fits(chrome) -> bool:
    width, window = chrome.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    return width <= window


def test_the_minutes_qr_opens_the_check_page_for_someone_not_signed_in(chrome, tmp_path):
    chrome.login("vanthu")
    chrome.menu("Sổ theo dõi thiết bị")
    chrome.follow("5401A7C30001")
    pdf = chrome.download("Biên bản PDF", ".pdf")
    link = _link_in(pdf, tmp_path)
    assert re.fullmatch(re.escape(chrome.server.url) + r"/custody/check/\d+/[0-9a-f]{64}", link), link
    chrome.driver.delete_all_cookies()  # the CA's officer, who has no account
    for width, name in ((PHONE_WIDTH, "phone"), (DESKTOP_WIDTH, "desktop")):
        chrome.driver.set_window_size(width, 900)
        chrome.driver.get(link)
        chrome.sees("Khớp với mục số", "VQ-0012", "Hộp đựng, phong bì mã PIN", "Thanh tra viên")
        assert "Ghi sổ lúc" not in chrome.text() and _fits(chrome), name
        chrome.screenshot(f"check-{name}", width)
    chrome.driver.get(link[:-1] + ("0" if link[-1] != "0" else "1"))
    chrome.sees("Không khớp")
    assert "VQ-0012" not in chrome.text()
    chrome.screenshot("check-wrong", PHONE_WIDTH)
