"""The demo walk-through of issues 3 and 12 in a real browser, from the demo accounts, as README.md's
"What to try" tells it.

Vi Văn Tùng (``canbo``, UBND xã Tân Đoàn) drafts a new certificate (Mẫu 01) for a newcomer and the
revocation (Mẫu 05) of his own certificate, read off the certificate registry; Nông Văn Khánh
(``thutruong``) approves and sends both; Lương Thị Hằng (``daumoi``, Phòng Văn hóa và Thông tin)
returns the new one with a reason; the unit fixes it and sends it again; the focal office accepts
both, batches them and locks the batch. Its proposal letter becomes an outgoing document and follows
the issuing cycle: ``daumoi`` creates and submits it, ``lanhdaophong`` forwards it for signature,
``phochutich`` signs the prepared PDF with his demo token and uploads it, ``vanthu`` takes the number
and uploads the file signed with the committee's seal token (both signed by running the ``token-agent``
command the page shows, in-process, on the demo's SoftHSM tokens). ``daumoi`` then marks the batch sent
with the register's number and date, downloads the signed letter and the annexes, and records the CA's
outcomes with a real certificate file. The registries and the expiry board show the result.

Everything is done by clicking and typing what a person sees; screenshots of the key pages (the
signing and sending ones at a phone's width too) go to the test's folder and, when
``CERTSVC_SCREENSHOTS_DIR`` is set, there too.
"""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from certsvc.documents.demo import SEAL_TOKEN, SIGNER_TOKEN
from certsvc.registry.cli import registry
from certsvc.timeutil import to_vietnam, utcnow
from tests.support.registry import ISSUER, make_cert, pem
from tests.support.requests import individual, unit_letter
from token_agent import cli
from token_agent.demo import USER_PIN

pytestmark = [pytest.mark.browser, pytest.mark.demo]

NEWCOMER = "Lộc Thị Hoa"
RETURN_REASON = "Ghi đủ chức danh theo quyết định tuyển dụng"
FIXED_POSITION = "Công chức Văn hóa - Xã hội"
#: What the flash after saving a draft says comes next.
NEXT_APPROVE = "Bước tiếp theo: thủ trưởng đơn vị phê duyệt và gửi đầu mối."
#: Vi Văn Tùng's demo certificate and token (certsvc/registry/demo.py).
TUNG, TUNG_TOKEN = "Vi Văn Tùng", "5401A7C30006"
NEW_TOKEN = "TKHOA2026"
#: Who signs the batch's proposal letter: ``phochutich``, the Phó Chủ tịch with the demo's personal token.
SIGNER = "Lăng Văn Hùng"
LETTER_SUMMARY = "V/v đề nghị cấp, thu hồi chứng thư số chuyên dùng công vụ"  # a new certificate and a revocation
#: The width of a phone's screen, for the screenshots of the pages a person may open there.
PHONE_WIDTH = 390
#: The variable README's ``token-agent`` commands read the token's PIN from.
PIN_VARIABLE = "TA_PIN"


def _status(chrome) -> str:
    return chrome.find("//div[@class='page-head']//span[contains(@class, 'badge')]").text


def _request_id(chrome) -> int:
    found = re.search(r"/requests/(\d+)$", chrome.driver.current_url)
    assert found, chrome.driver.current_url
    return int(found.group(1))


def _open_request(chrome, request_id: int) -> None:
    """From the list of requests, open one by its number."""
    chrome.menu("Đề nghị")
    chrome.follow(str(request_id), chrome.find("//table[contains(@class, 'requests')]"))
    assert chrome.heading().startswith(f"Đề nghị số {request_id}:")


def _act(chrome, request_id: int, button: str, status: str, comment: tuple[str, str] | None = None) -> None:
    """Press a lifecycle button on the request page and check what the person is told."""
    if comment:
        chrome.fill(*comment)
    chrome.press(button)
    assert f"Đề nghị số {request_id}: đã thực hiện «{button}»." in chrome.flashes()
    assert _status(chrome) == status


#: How the form marks what a draft may be saved without but the request may not be sent without.
TO_SEND = " * (bắt buộc khi gửi đầu mối)"


def _fill_letter(chrome) -> None:
    """Record the unit's letter, signed by its head, which the request may not leave the unit without."""
    letter = unit_letter()
    chrome.fill("Số, ký hiệu công văn đề nghị của đơn vị" + TO_SEND, letter["unit_letter_number"])
    chrome.fill_date("Ngày công văn" + TO_SEND, letter["unit_letter_date"])
    chrome.fill("Người ký công văn (thủ trưởng đơn vị)" + TO_SEND, letter["unit_letter_signer"])


def _timeline(chrome) -> str:
    return chrome.section("Diễn biến").text


def _document_id(chrome) -> int:
    found = re.search(r"/documents/(\d+)$", chrome.driver.current_url)
    assert found, chrome.driver.current_url
    return int(found.group(1))


def _open_letter(chrome, tab: str) -> None:
    """From «Văn bản đi», the work tab ``tab``, then the batch's proposal letter."""
    chrome.menu("Văn bản đi")
    chrome.follow_tab(tab)
    chrome.follow(LETTER_SUMMARY)


def _step(chrome, document_id: int, button: str, status: str) -> None:
    """Press a step's button on the document page and check what the person is told."""
    chrome.press(button)
    assert f"Văn bản số {document_id}: đã thực hiện «{button}»." in chrome.flashes()
    assert _status(chrome) == status


def _desk(tmp_path: Path, username: str) -> Path:
    """The person's own folder for the files they download and sign (each works at their own computer)."""
    folder = tmp_path / username
    folder.mkdir()
    return folder


def _sign_as_shown(chrome, role: str, token: str, desk: Path) -> list[str]:
    """Run the ``token-agent sign --role <role>`` command the page shows, in ``desk``, with the demo's token
    and images filled in as README's command has them; SoftHSM points at the demo's tokens only meanwhile.
    Returns the command run."""
    shown = chrome.find(f"//pre[starts-with(normalize-space(.), 'token-agent sign --role {role} ')]").text
    tokens = chrome.server.demo_tokens
    filled = {
        "NHAN-THIET-BI": token,
        "chu-ky.png": str(tokens / "chu-ky.png"),
        "con-dau.png": str(tokens / "con-dau.png"),
        "chung-thu-goc.pem": str(tokens / "root.pem"),
    }
    command = [filled.get(arg, arg) for arg in shlex.split(shown)]
    assert command[0] == "token-agent", command
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(tokens / "softhsm2.conf"))
        patch.setenv(PIN_VARIABLE, USER_PIN)
        patch.chdir(desk)
        assert cli.main([*command[1:], "--pin-env", PIN_VARIABLE]) == 0, command
    return command


def _hex(text: str) -> str:
    """A serial as the service writes it everywhere: upper-case hex digits, no separators."""
    return re.sub(r"[\s:]", "", text).upper()


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_demo_walk_through_in_the_browser(app, chrome, tmp_path):
    fields = individual(
        full_name=NEWCOMER, position="Công chức", unit_name="UBND xã Tân Đoàn", email="hoalt.td@langson.gov.vn"
    )

    # --- canbo: finds Tùng's certificate in the registry, drafts the two requests ----------------
    chrome.login("canbo")
    chrome.menu("Chứng thư số")
    serial = chrome.row(TUNG).find_element("css selector", "td.serial").text
    assert re.fullmatch(r"[0-9A-Fa-f: ]+", serial), serial

    chrome.menu("Đề nghị")
    chrome.follow("Cấp mới chứng thư số cá nhân")
    assert chrome.heading() == "Lập đề nghị: Cấp mới chứng thư số cá nhân"
    assert chrome.by_label("Đơn vị đề nghị").get_attribute("value"), "the only unit is not chosen for the officer"
    for label, name in (
        ("Họ và tên", "full_name"),
        ("Số CCCD", "cccd"),
        ("Nơi cấp CCCD", "cccd_issued_by"),
        ("Chức vụ", "position"),
        ("Cơ quan, đơn vị công tác", "unit_name"),
        ("Thư điện tử công vụ", "email"),
        ("Số điện thoại di động", "phone"),
        ("Thời hạn đề nghị (năm)", "validity_years"),
    ):
        chrome.fill(label, fields[name])
    chrome.fill_date("Ngày cấp CCCD", fields["cccd_issued_on"])
    _fill_letter(chrome)
    chrome.screenshot("mau-01-form")
    chrome.press("Lưu dự thảo")
    new_id = _request_id(chrome)
    assert f"Đã lưu dự thảo số {new_id}. {NEXT_APPROVE}" in chrome.flashes()
    assert _status(chrome) == "Dự thảo"
    chrome.sees(NEWCOMER, fields["cccd"], "Công chức")
    # Four eyes: the drafter has no button to send it himself.
    assert "Phê duyệt và gửi đầu mối" not in chrome.text()

    chrome.menu("Đề nghị")
    chrome.follow("Thu hồi chứng thư số")
    chrome.fill("Số hiệu (serial) chứng thư số", serial)
    chrome.choose("Lý do thu hồi", "Thôi việc, chuyển ra ngoài khu vực nhà nước")
    _fill_letter(chrome)
    chrome.press("Lưu dự thảo")
    revoke_id = _request_id(chrome)
    assert f"Đã lưu dự thảo số {revoke_id}. {NEXT_APPROVE}" in chrome.flashes()
    assert chrome.heading() == f"Đề nghị số {revoke_id}: Thu hồi chứng thư số"
    chrome.sees("Mẫu 05", "Thôi việc, chuyển ra ngoài khu vực nhà nước")
    chrome.logout()

    # --- thutruong: approves and sends both -------------------------------------------------------
    chrome.login("thutruong")
    for request_id in (new_id, revoke_id):
        _open_request(chrome, request_id)
        _act(chrome, request_id, "Phê duyệt và gửi đầu mối", "Đã gửi đầu mối")
    chrome.screenshot("revocation-submitted")
    chrome.logout()

    # --- daumoi: both in the queue; returns the new one with a reason ------------------------------
    chrome.login("daumoi")
    chrome.menu("Tiếp nhận")
    chrome.sees(NEWCOMER, TUNG, "Thu hồi chứng thư số")
    chrome.screenshot("queue")
    chrome.follow(str(new_id), chrome.find("//table[contains(@class, 'requests')]"))
    _act(chrome, new_id, "Trả lại", "Bị trả lại", ("Lý do trả lại", RETURN_REASON))
    chrome.logout()

    # --- canbo: reads the reason, fixes the position ----------------------------------------------
    chrome.login("canbo")
    _open_request(chrome, new_id)
    assert _status(chrome) == "Bị trả lại"
    assert RETURN_REASON in chrome.section("Bị trả lại").text
    chrome.screenshot("returned")
    chrome.follow("Sửa nội dung")
    assert chrome.heading() == f"Sửa đề nghị số {new_id}"
    assert chrome.by_label("Họ và tên").get_attribute("value") == NEWCOMER
    chrome.fill("Chức vụ", FIXED_POSITION)
    chrome.press("Lưu thay đổi")
    assert (
        f"Đã lưu nội dung đề nghị số {new_id}. Bước tiếp theo: thủ trưởng đơn vị gửi lại đầu mối." in chrome.flashes()
    )
    assert _status(chrome) == "Bị trả lại"
    chrome.sees(FIXED_POSITION)
    chrome.logout()

    # --- thutruong: sends it again ----------------------------------------------------------------
    chrome.login("thutruong")
    _open_request(chrome, new_id)
    _act(chrome, new_id, "Gửi lại đầu mối", "Đã gửi đầu mối")
    chrome.logout()

    # --- daumoi: accepts both at once, batches them, locks the batch ------------------------------
    chrome.login("daumoi")
    chrome.menu("Tiếp nhận")
    for request_id in (new_id, revoke_id):
        chrome.tick(f"Chọn đề nghị số {request_id}")
    chrome.press("Tiếp nhận các đề nghị đã chọn")
    assert "Đã tiếp nhận 2 đề nghị." in chrome.flashes()

    chrome.menu("Đợt tổng hợp")
    title = "Đợt 1 tháng 11/2026"
    chrome.fill("Tên đợt", title)
    assert chrome.by_label("Chức vụ người ký công văn").get_attribute("value") == "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    chrome.fill("Họ tên người ký", SIGNER)
    chrome.press("Tạo đợt tổng hợp")
    assert f"Đã tạo đợt tổng hợp «{title}»." in chrome.flashes()
    assert chrome.heading() == title
    waiting = chrome.section("Đề nghị đã tiếp nhận, chưa vào đợt")
    for request_id in (new_id, revoke_id):
        chrome.tick(f"Chọn đề nghị số {request_id}")
    chrome.press("Đưa các đề nghị đã chọn vào đợt", waiting)
    assert "Đã đưa đề nghị vào đợt tổng hợp." in chrome.flashes()
    chrome.sees("Đề nghị trong đợt (2)", NEWCOMER, TUNG)
    chrome.press("Chốt danh sách đợt tổng hợp")
    assert "Đã chốt đợt tổng hợp. Có thể tạo công văn và phụ lục." in chrome.flashes()
    assert _status(chrome) == "Đã chốt"
    chrome.screenshot("batch-locked")

    # --- daumoi: the proposal letter becomes an outgoing document, submitted for review ------------------
    assert chrome.by_label("Người ký công văn").find_element("css selector", "option:checked").text == (
        f"{SIGNER} (Phó Chủ tịch UBND huyện)"
    ), "the batch's signer is not proposed to sign the letter"
    chrome.press("Tạo công văn đề nghị")
    assert (
        "Đã tạo công văn đề nghị (dự thảo). Mở văn bản để trình thẩm định, ký duyệt và phát hành." in chrome.flashes()
    )
    chrome.follow("Xem văn bản đi")
    letter_id = _document_id(chrome)
    assert chrome.heading() == f"Công văn: {LETTER_SUMMARY}"
    assert _status(chrome) == "Dự thảo"
    chrome.screenshot("letter-draft")
    _step(chrome, letter_id, "Trình thẩm định", "Chờ thẩm định")
    chrome.logout()

    # --- lanhdaophong: forwards it for signature ---------------------------------------------------------
    chrome.login("lanhdaophong")
    _open_letter(chrome, "Chờ thẩm định")
    chrome.fill("Ý kiến thẩm định (không bắt buộc)", "Đủ điều kiện trình ký.")
    _step(chrome, letter_id, "Trình ký", "Chờ ký duyệt")
    chrome.logout()

    # --- phochutich: downloads the prepared PDF, signs it with his token, uploads it --------------------
    chrome.login("phochutich")
    _open_letter(chrome, "Chờ ký duyệt")
    chrome.screenshot("letter-to-sign")
    chrome.screenshot("letter-to-sign-phone", width=PHONE_WIDTH)
    desk = _desk(tmp_path, "phochutich")
    shutil.move(chrome.download(f"Tải tệp chuẩn bị ký (van-ban-{letter_id}-chuan-bi-ky.pdf)", "chuan-bi-ky.pdf"), desk)
    _sign_as_shown(chrome, "approve", SIGNER_TOKEN, desk)
    chrome.by_label("Tệp đã ký duyệt (PDF)").send_keys(str(desk / f"van-ban-{letter_id}-da-ky-duyet.pdf"))
    chrome.press("Tải lên tệp đã ký duyệt")
    assert "Đã nhận tệp ký duyệt: chữ ký số hợp lệ, văn bản chuyển văn thư lấy số." in chrome.flashes()
    assert _status(chrome) == "Đã ký duyệt, chờ lấy số"
    chrome.logout()

    # --- vanthu: takes the number, signs with the committee's seal token, uploads it ---------------------
    chrome.login("vanthu")
    today = to_vietnam(utcnow()).date()
    _open_letter(chrome, "Chờ lấy số")
    chrome.press("Lấy số")
    (taken,) = chrome.flashes()
    found = re.fullmatch(r"Đã lấy số (\S+/UBND-VHTT), ngày (\d\d/\d\d/\d{4})\.", taken)
    assert found, taken
    number, day = found.groups()
    assert day == f"{today:%d/%m/%Y}", "the register dates the letter today"
    assert _status(chrome) == "Đã lấy số, chờ ký phát hành"
    chrome.sees(f"Văn Quan, ngày {day}")
    chrome.screenshot("letter-numbered")
    chrome.screenshot("letter-numbered-phone", width=PHONE_WIDTH)
    desk = _desk(tmp_path, "vanthu")
    shutil.move(chrome.download(f"Tải tệp đã ký duyệt (van-ban-{letter_id}-da-ky-duyet.pdf)", "da-ky-duyet.pdf"), desk)
    issue = _sign_as_shown(chrome, "issue", SEAL_TOKEN, desk)
    assert (issue[issue.index("--number") + 1], issue[issue.index("--date") + 1]) == (number, today.isoformat())
    assert issue[issue.index("--place") + 1] == "Văn Quan"
    chrome.by_label("Tệp đã ký phát hành (PDF)").send_keys(str(desk / f"van-ban-{letter_id}-ban-hanh.pdf"))
    chrome.press("Tải lên tệp ký phát hành")
    assert "Đã nhận tệp ký phát hành: hai chữ ký số, số và ngày đều hợp lệ." in chrome.flashes()
    assert _status(chrome) == "Đã ký phát hành"
    chrome.screenshot("letter-issued")
    chrome.logout()

    # --- daumoi: marks the batch sent with the register's number and date, downloads what went out ----------
    chrome.login("daumoi")
    chrome.menu("Đợt tổng hợp")
    chrome.follow(title)
    chrome.sees(f"Công văn số {number} ngày {day} đã ký phát hành.")
    chrome.press("Đánh dấu đã gửi")
    assert "Đã ghi nhận công văn đã gửi." in chrome.flashes()
    assert _status(chrome) == "Đã gửi"
    chrome.sees(f"Số {number} ngày {day}", "Đã gửi cơ quan cấp")
    chrome.screenshot("batch-sent")
    chrome.screenshot("batch-sent-phone", width=PHONE_WIDTH)

    signed_letter = chrome.download("Công văn đã ký (PDF)", "cong-van-de-nghi-da-ky.pdf")
    assert cli.main(["verify", str(signed_letter), "--trust", str(chrome.server.demo_tokens / "root.pem")]) == 0
    text = _pdf_text(signed_letter)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "Kính gửi" in text and "Nơi nhận" in text and SIGNER in text
    # The number and date fields are drawn over the letter's blank lines, which text extraction mixes up;
    # the server checked both fields.
    assert f"Số: {number}" in text
    annex_text = _pdf_text(chrome.download("Phụ lục (PDF)", "phu-luc.pdf"))
    issued_on = f"{today:%d} tháng {today:%m} năm {today:%Y}"
    assert f"(Kèm theo Công văn số {number} ngày {issued_on} của Ủy ban nhân dân huyện Văn Quan)" in annex_text
    # Table cells wrap in the PDF: check the tables and the one-word values.
    assert "Bảng 1. Đề nghị cấp mới chứng thư số cá nhân (Mẫu 01)" in annex_text
    assert "Bảng 2. Đề nghị thu hồi chứng thư số (Mẫu 05)" in annex_text
    assert fields["cccd"] in annex_text and _hex(serial) in annex_text and TUNG in annex_text
    workbook = load_workbook(chrome.download("Phụ lục (XLSX)", "phu-luc.xlsx"), read_only=True)
    cells = {str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row}
    assert NEWCOMER in cells and fields["cccd"] in cells
    assert _hex(serial) in {_hex(cell) for cell in cells}, cells
    with chrome.download("Phụ lục (CSV)", "phu-luc.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert any(NEWCOMER in row for row in rows), rows

    # --- the CA's answers: the issued certificate file, the revocation done -----------------------
    # The answering CA (the test PKI's) is trusted first, as the server's administrator does it (the command
    # line): an issued certificate is checked against the configured CA certificates.
    ca = tmp_path / "ca-cap-chung-thu.pem"
    ca.write_bytes(pem(ISSUER.cert))
    trusted = app.test_cli_runner().invoke(registry, ["anchors", "add", str(ca)])
    assert trusted.exit_code == 0, trusted.output
    issued = tmp_path / "loc-thi-hoa.cer"
    issued.write_bytes(pem(make_cert(NEWCOMER, f"CCCD:{fields['cccd']}", "UBND xã Tân Đoàn")))
    chrome.follow(str(new_id), chrome.section("Đề nghị trong đợt"))
    assert _status(chrome) == "Đã gửi cơ quan cấp"
    chrome.choose("Kết quả", "Hoàn thành")
    chrome.by_label("Tệp chứng thư số được cấp").send_keys(str(issued))
    chrome.fill("Số hiệu thiết bị lưu khóa", NEW_TOKEN)
    chrome.screenshot("outcome-form")
    chrome.press("Ghi kết quả")
    assert f"Đã ghi kết quả đề nghị số {new_id}." in chrome.flashes()
    assert _status(chrome) == "Hoàn thành"
    chrome.sees("Chứng thư số được cấp", f"({NEWCOMER})")
    timeline = _timeline(chrome)
    for entry in (
        "Tạo dự thảo",
        "Phê duyệt và gửi đầu mối",
        "Trả lại",
        RETURN_REASON,
        "Sửa nội dung",
        "Gửi lại đầu mối",
        "Tiếp nhận",
        "Đưa vào đợt tổng hợp",
        "Gửi cơ quan cấp chứng thư số",
        "Ghi nhận hoàn thành",
    ):
        assert entry in timeline, (entry, timeline)
    chrome.screenshot("new-request-done")

    chrome.follow(chrome.find("//dt[.='Đợt tổng hợp']/following-sibling::dd[1]//a").text)
    chrome.follow(str(revoke_id), chrome.section("Đề nghị trong đợt"))
    assert "Tệp chứng thư số được cấp" not in chrome.text()
    chrome.press("Ghi kết quả")
    assert f"Đã ghi kết quả đề nghị số {revoke_id}." in chrome.flashes()
    assert _status(chrome) == "Hoàn thành"
    assert "Ghi nhận hoàn thành" in _timeline(chrome)

    # --- the registries and the expiry board show the result --------------------------------------
    chrome.menu("Chứng thư số")
    new_row = chrome.row(NEWCOMER).text
    assert "Còn hiệu lực" in new_row and NEW_TOKEN in new_row, new_row
    revoked_row = chrome.row(serial).text
    assert "Đã thu hồi" in revoked_row, revoked_row
    chrome.screenshot("certificate-registry")

    chrome.menu("Thiết bị ký số")
    assert NEWCOMER in chrome.row(NEW_TOKEN).text
    chrome.screenshot("token-registry")

    chrome.menu("Hạn chứng thư")
    returns = chrome.section("Thời hạn nộp lại thiết bị cho CA")
    due_back = chrome.row(TUNG_TOKEN).text
    assert TUNG in due_back and "ngày làm việc" in due_back, due_back
    assert TUNG_TOKEN in returns.text
    chrome.screenshot("expiry-board")
    chrome.logout()
