"""Fixtures for the real-browser tests: the test's app served on a free local port with the demo
district loaded, and headless Chromium driven by Selenium through Debian's chromedriver.

Chromium and chromedriver come from ``scripts/setup.sh``. When they are missing the browser tests
fail (a skip would hide that the walk-through never ran) unless ``CERTSVC_SKIP_BROWSER=1`` is set.
Selenium is pointed at ``/usr/bin/chromedriver`` explicitly, so Selenium Manager never tries to
download a driver or a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from certsvc.demo import DEMO_PASSWORD
from certsvc.documents.demo import TOKENS_FOLDER

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by _require_browser, so that CERTSVC_SKIP_BROWSER=1 still skips
    webdriver = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: How long to wait for a page, an element or a download before failing, and how often to look.
WAIT_SECONDS = 15
POLL_SECONDS = 0.05


@pytest.fixture(autouse=True)
def _require_browser() -> None:
    """Before any database is made: skip on request, fail when the browser or Selenium is missing."""
    if os.environ.get("CERTSVC_SKIP_BROWSER") == "1":
        pytest.skip("CERTSVC_SKIP_BROWSER=1: real-browser tests skipped")
    if webdriver is None:
        pytest.fail(
            "The browser walk-through needs Selenium: run scripts/setup.sh (it installs the test extra), "
            "or set CERTSVC_SKIP_BROWSER=1 to skip it.",
            pytrace=False,
        )
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"The browser walk-through needs {' and '.join(missing)}: run scripts/setup.sh (it installs "
            "the Debian packages chromium and chromium-driver), or set CERTSVC_SKIP_BROWSER=1 to skip it.",
            pytrace=False,
        )


@dataclass
class LiveServer:
    url: str
    #: The demo's SoftHSM tokens, signature and seal images and root certificate (``instance/demo-tokens``).
    demo_tokens: Path

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_server(request, app):
    """The test's app with the demo district loaded (browser tests are marked ``demo``), served by Werkzeug on
    127.0.0.1 and a free port."""
    assert request.node.get_closest_marker("demo"), "a browser test is marked demo: its pages are the demo's"
    demo_tokens = request.getfixturevalue("demo_template").instance / TOKENS_FOLDER
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="certsvc-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", demo_tokens)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _literal(text: str) -> str:
    """``text`` as an XPath string literal (XPath 1.0 has no escapes)."""
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ", '\"', ".join(f'"{part}"' for part in text.split('"')) + ")"


class Chrome:
    """A person at headless Chromium: finds things by what the page says, clicks and types.

    ``by_label``, ``button`` and ``link`` look elements up by their visible text, so a test breaks
    when a label or button changes in a way that would also confuse a person.
    """

    def __init__(self, driver, server: LiveServer, downloads: Path, screenshots: Path):
        self.driver = driver
        self.server = server
        self.downloads = downloads
        self.screenshots = screenshots
        self.wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=POLL_SECONDS)
        self._shots = 0

    # --- navigation and finding ------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.driver.get(self.server(path))

    def find(self, xpath: str, within=None):
        if within is not None:
            return self.wait.until(lambda _: within.find_element(By.XPATH, xpath))
        return self.wait.until(EC.visibility_of_element_located((By.XPATH, xpath)))

    def by_label(self, label: str, within=None):
        """The form control whose ``<label>`` reads ``label`` (a trailing required-field star is ignored)."""
        text = _literal(label)
        starred = _literal(label + " *")
        found = self.find(f".//label[normalize-space(.)={text} or normalize-space(.)={starred}]", within)
        control_id = found.get_attribute("for")
        assert control_id, f"the label «{label}» is not tied to a field (no for=)"
        return self.find(f"//*[@id={_literal(control_id)}]")

    def button(self, text: str, within=None):
        return self.find(f".//button[normalize-space(.)={_literal(text)}]", within)

    def link(self, text: str, within=None):
        return self.find(f".//a[normalize-space(.)={_literal(text)}]", within)

    def row(self, text: str, within=None):
        """The table row with a cell that contains ``text``."""
        return self.find(f".//table//tr[td[contains(normalize-space(.), {_literal(text)})]]", within)

    def section(self, heading: str):
        """The card whose heading starts with ``heading``."""
        return self.find(f"//section[.//*[self::h2 or self::h3][starts-with(normalize-space(.), {_literal(heading)})]]")

    # --- acting ----------------------------------------------------------------------------------

    def fill(self, label: str, value: str, within=None) -> None:
        element = self.by_label(label, within)
        element.clear()
        element.send_keys(value)

    def fill_date(self, label: str, iso_day: str) -> None:
        """Type a day into a date field, in the order the browser's field shows: dd/mm/yyyy for a
        Vietnamese locale, mm/dd/yyyy for headless Chromium's fixed en-US."""
        year, month, day = iso_day.split("-")
        element = self.by_label(label)
        for typed in (day + month + year, month + day + year):
            element.clear()
            element.send_keys(typed)
            if element.get_attribute("value") == iso_day:
                return
        raise AssertionError(f"the date field «{label}» did not take {iso_day}: {element.get_attribute('value')!r}")

    def choose(self, label: str, option: str) -> None:
        Select(self.by_label(label)).select_by_visible_text(option)

    def tick(self, aria_label: str) -> None:
        box = self.find(f"//input[@type='checkbox' and @aria-label={_literal(aria_label)}]")
        if not box.is_selected():
            box.click()

    def click_and_load(self, element) -> None:
        """Click something that leads to a new page and wait until that page has loaded.

        The old page is marked, and the wait is for a complete document without the mark: while the
        browser is between pages, the driver may answer with errors, which only mean "not yet".
        """
        self.driver.execute_script("window.__certsvcLeaving = true;")
        element.click()
        WebDriverWait(self.driver, WAIT_SECONDS, POLL_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return !window.__certsvcLeaving && document.readyState === 'complete';")
        )

    def press(self, text: str, within=None) -> None:
        self.click_and_load(self.button(text, within))

    def follow(self, text: str, within=None) -> None:
        self.click_and_load(self.link(text, within))

    def follow_tab(self, label: str) -> None:
        """Follow the page's tab whose text starts with ``label`` (a work tab ends with its count)."""
        self.click_and_load(self.find(f"//main//nav//a[starts-with(normalize-space(.), {_literal(label)})]"))

    def menu(self, text: str) -> None:
        """Follow a link of the main menu."""
        self.follow(text, self.find("//nav[contains(@class, 'mainnav')]"))

    # --- who is signed in ------------------------------------------------------------------------

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        """Sign in as ``username`` from a fresh cookie jar, as a different person at the same PC would."""
        self.driver.delete_all_cookies()
        self.open("/login")
        self.fill("Tên đăng nhập", username)
        self.fill("Mật khẩu", password)
        self.press("Đăng nhập")
        assert self.find("//header//span[@class='who']").text, f"{username} is not signed in"

    def logout(self) -> None:
        self.press("Đăng xuất")
        self.find("//h1[normalize-space(.)='Đăng nhập']")
        self.driver.delete_all_cookies()

    # --- what the person sees --------------------------------------------------------------------

    def heading(self) -> str:
        return self.find("//main//h1").text

    def flashes(self) -> list[str]:
        return [p.text for p in self.driver.find_elements(By.CSS_SELECTOR, "main .flash")]

    def text(self) -> str:
        return self.find("//main").text

    def sees(self, *texts: str) -> None:
        """Wait until every one of ``texts`` is on the page."""
        try:
            self.wait.until(lambda _: all(t in self.text() for t in texts))
        except Exception:
            missing = [t for t in texts if t not in self.text()]
            raise AssertionError(f"not on {self.driver.current_url}: {missing}\n--- page ---\n{self.text()}") from None

    def screenshot(self, name: str, width: int | None = None) -> Path:
        """The whole page as a PNG in the test's folder (and ``CERTSVC_SCREENSHOTS_DIR`` when set), as wide as
        the window or ``width`` pixels (390: a phone)."""
        self._shots += 1
        path = self.screenshots / f"{self._shots:02d}-{name}.png"
        size = self.driver.get_window_size()
        try:
            if width is not None:
                self.driver.set_window_size(width, size["height"])
            # The window is taller than the page by the browser's own bars, even headless.
            full = self.driver.execute_script(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight"
            )
            self.driver.set_window_size(width or size["width"], max(size["height"], min(int(full), 8000)))
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(size["width"], size["height"])
        extra = os.environ.get("CERTSVC_SCREENSHOTS_DIR")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    def download(self, link_text: str, filename_end: str) -> Path:
        """Click a download link and wait for the browser to finish saving the file."""
        self.link(link_text).click()

        def saved(_):
            done = [p for p in self.downloads.iterdir() if p.name.endswith(filename_end)]
            partial = [p for p in self.downloads.iterdir() if p.suffix == ".crdownload"]
            return done[0] if done and not partial and done[0].stat().st_size > 0 else False

        try:
            return self.wait.until(saved)
        except Exception:
            raise AssertionError(
                f"«{link_text}» did not download *{filename_end}; the folder has "
                f"{sorted(p.name for p in self.downloads.iterdir())}"
            ) from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the ``chrome`` fixture knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def chrome(live_server, tmp_path, request):
    """Headless Chromium with its own profile and download folder, closed after the test.

    When the test fails, the page it stopped on is kept as ``failure.png`` and ``failure.html``
    beside the other screenshots."""
    downloads = tmp_path / "downloads"
    screenshots = tmp_path / "screenshots"
    profile = tmp_path / "chromium-profile"
    for folder in (downloads, screenshots, profile):
        folder.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1366,900",
        "--lang=vi-VN",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "plugins.always_open_pdf_externally": True,
            "intl.accept_languages": "vi-VN,vi",
        },
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS * 2)
        person = Chrome(driver, live_server, downloads, screenshots)
        yield person
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            person.screenshot("failure")
            (screenshots / "failure.html").write_text(driver.page_source, encoding="utf-8")
            print(f"browser test failed on {driver.current_url}; screenshots in {screenshots}")
    finally:
        driver.quit()
