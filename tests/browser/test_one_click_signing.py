"""One-click signing (issue 13) in headless Chromium: the leader and the clerk pair the agent from «Thiết bị ký
số của tôi», then sign the demo's document from its page through ``token-agent serve`` with the demo's SoftHSM
tokens; the PIN is typed only in the agent's own window. The issued file passes pdfsig, and no log line, page
or answer of the whole round shows the PIN."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from certsvc.documents import files
from certsvc.documents.demo import SEAL_TOKEN, SIGNER_TOKEN
from certsvc.documents.models import DocumentStatus, FileKind, OutgoingDocument
from tests.browser.conftest import POLL_SECONDS, WAIT_SECONDS
from token_agent import cli, service
from token_agent.demo import USER_PIN

pytestmark = [pytest.mark.browser, pytest.mark.demo]

#: The demo's document waiting for the Phó Chủ tịch's signature (certsvc/documents/demo.py).
AWAITING = "triển khai ký số văn bản điện tử tại cấp xã"


@pytest.fixture
def agent(live_server, app, tmp_path, monkeypatch):
    """``token-agent serve`` on this PC (a free loopback port), with the demo's tokens and images; the pages'
    "Ký số" buttons call it."""
    tokens = live_server.demo_tokens
    home = tmp_path / "agent-home"
    monkeypatch.setenv("SOFTHSM2_CONF", str(tokens / "softhsm2.conf"))
    monkeypatch.setenv("TOKEN_AGENT_HOME", str(home))
    running = service.AgentService(
        service.ServiceConfig(
            port=0,
            host="127.0.0.1",
            signature_image=tokens / "chu-ky.png",
            seal_image=tokens / "con-dau.png",
            home=home,
        )
    )
    running.start()
    app.config["CERTSVC_AGENT_URL"] = f"http://127.0.0.1:{running.port}"
    yield running
    running.stop()


def _pair(chrome, device: str) -> None:
    """Pair the agent with the signed-in account: a code from «Thiết bị ký số của tôi», given to the agent with
    the command the page shows."""
    chrome.follow("Thiết bị ký số của tôi", chrome.find("//header"))
    chrome.press("Tạo mã ghép nối")
    command = chrome.find("//code[contains(@class, 'pair-command')]").text.split()
    assert command[:3] == ["token-agent", "pair", chrome.server.url], command
    assert cli.main([*command[1:], "--device-name", device]) == 0
    chrome.open("/account/signing-agents")
    chrome.sees(device, "đang dùng")


def _open_document(chrome) -> int:
    chrome.menu("Văn bản đi")
    chrome.follow_tab("Tất cả")
    chrome.click_and_load(chrome.find(f"//a[contains(normalize-space(.), {AWAITING!r})]"))
    found = re.search(r"/documents/(\d+)$", chrome.driver.current_url)
    assert found, chrome.driver.current_url
    return int(found.group(1))


def _status(chrome) -> str:
    return chrome.find("//div[@class='page-head']//span[contains(@class, 'badge')]").text


def _sign_in_the_agent_window(chrome, token_label: str, agent_port: int, *, expects: str) -> None:
    """Press the page's «Ký số», confirm in the agent's window (token, PIN, «Ký»), and wait until the document's
    page, back in front, shows ``expects``."""
    driver = chrome.driver
    page = driver.current_window_handle
    chrome.driver.execute_script("window.__certsvcLeaving = true;")  # the page reloads itself when done
    chrome.find("//button[contains(@class, 'agent-sign')]").click()
    wait = WebDriverWait(driver, WAIT_SECONDS, POLL_SECONDS)
    wait.until(lambda d: len(d.window_handles) == 2)
    (popup,) = [handle for handle in driver.window_handles if handle != page]
    driver.switch_to.window(popup)
    wait.until(lambda d: d.current_url.startswith(f"http://127.0.0.1:{agent_port}/confirm/"))
    confirm = chrome.find("//form")
    assert "Mã PIN" in driver.find_element(By.TAG_NAME, "body").text
    chrome.find(f".//label[contains(normalize-space(.), '«{token_label}»')]/input[@type='radio']", confirm).click()
    chrome.find(".//input[@name='pin']", confirm).send_keys(USER_PIN)
    chrome.screenshot(f"xac-nhan-ky-{token_label.lower()}")
    chrome.find("//form//button[normalize-space(.)='Ký']").click()
    # read by script: the result page replaces the form page, and an element found before that goes stale
    wait.until(lambda d: "Đã ký" in d.execute_script("return document.body ? document.body.innerText : ''"))
    driver.close()
    driver.switch_to.window(page)
    wait.until(lambda d: d.execute_script("return !window.__certsvcLeaving && document.readyState === 'complete';"))
    assert _status(chrome) == expects


def test_the_leader_and_the_clerk_sign_from_the_document_page(chrome, agent, app, tmp_path, caplog):
    for logger in ("token_agent", "certsvc", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger)
    chrome.login("phochutich")
    _pair(chrome, "MAY-PHO-CHU-TICH")
    document_id = _open_document(chrome)
    assert _status(chrome) == DocumentStatus.AWAITING_SIGNATURE.label
    chrome.screenshot("van-ban-cho-ky-duyet")
    _sign_in_the_agent_window(chrome, SIGNER_TOKEN, agent.port, expects=DocumentStatus.SIGNED.label)
    chrome.logout()

    # The clerk's PC: the same agent, paired now with her account.
    chrome.login("vanthu")
    _pair(chrome, "MAY-VAN-THU")
    chrome.open(f"/documents/{document_id}")
    chrome.press("Lấy số")
    assert _status(chrome) == DocumentStatus.NUMBERED.label
    _sign_in_the_agent_window(chrome, SEAL_TOKEN, agent.port, expects=DocumentStatus.ISSUED.label)
    chrome.screenshot("van-ban-da-ky-phat-hanh")

    with app.app_context():
        from certsvc.extensions import db

        doc = db.session.get(OutgoingDocument, document_id)
        issued = files.content(files.latest(doc, FileKind.ISSUED))
    path = tmp_path / "ban-hanh.pdf"
    path.write_bytes(issued)
    checked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
    assert checked.count("Signature Validation: Signature is Valid.") == 2, checked
    qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout

    # the PIN went nowhere but the token
    logged = [record.getMessage() for record in caplog.records]
    assert [line for line in logged if USER_PIN in line] == []
    assert USER_PIN not in Path(agent.config.home, "pairings.json").read_text(encoding="utf-8")
