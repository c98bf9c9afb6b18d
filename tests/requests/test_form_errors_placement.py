"""Issue 15, item 9: a refused form says what is wrong under the field it is about, and a refused file keeps
what was typed in the other fields."""

from __future__ import annotations

import re
from io import BytesIO

from certsvc.requests.models import RequestStatus
from tests.requests.test_requests_pages import signed_in, text
from tests.support.custody import handover_form
from tests.support.requests import bring_to, draft


def field_block(page: str, input_id: str) -> str:
    """The HTML of the form field whose input has ``input_id``: its label, input, hint and error."""
    found = re.search(
        r'<div class="field[^"]*">(?:(?!<div class="field).)*?id="' + input_id + r'".*?</div>', page, re.S
    )
    assert found, f"no field with input #{input_id}"
    return found.group(0)


def alert_box(page: str) -> str:
    found = re.search(r'<div class="flash flash-error" role="alert">.*?</div>', page, re.S)
    return found.group(0) if found else ""


def test_a_refused_batch_names_each_missing_field_under_it(make_browser, world):
    browser = signed_in(make_browser, "focalofficer")
    refused = browser.post(
        "/requests/batches/new",
        {"focal_office_id": str(world.orgs["focal"].id), "title": "", "signer_title": "CHỦ TỊCH", "signer_name": ""},
    )
    page = text(refused)
    assert refused.status_code == 400
    assert "Bắt buộc nhập" in field_block(page, "b-title") and "has-error" in field_block(page, "b-title")
    assert "Bắt buộc nhập" in field_block(page, "b-signer-name")
    assert "Bắt buộc nhập" not in field_block(page, "b-signer-title")
    box = alert_box(page)
    assert "Vui lòng sửa các mục được đánh dấu bên dưới." in box and "Bắt buộc nhập" not in box
    assert "CHỦ TỊCH" in field_block(page, "b-signer-title")


def test_a_refused_certificate_file_keeps_what_was_typed(make_browser, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.SENT)
    browser = signed_in(make_browser, "focalofficer")
    refused = browser.post(
        f"/requests/{request.id}/outcome",
        {
            "outcome": "done",
            "token_serial": "TKMAI01",
            "comment": "Nhận qua bưu điện ngày 05/12",
            "certificate_file": (BytesIO(b"rac"), "rac.cer"),
        },
        content_type="multipart/form-data",
    )
    page = text(refused)
    assert refused.status_code == 400
    assert "Tệp không phải chứng thư số" in field_block(page, "o-file")
    assert "Tệp không phải chứng thư số" not in alert_box(page)
    assert 'value="TKMAI01"' in field_block(page, "o-token")
    assert "Nhận qua bưu điện ngày 05/12" in field_block(page, "o-comment")


def test_a_refused_return_asks_for_the_reason_under_its_box(make_browser, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    browser = signed_in(make_browser, "focalofficer")
    refused = browser.post(f"/requests/{request.id}/act/return", {"comment": ""})
    page = text(refused)
    assert refused.status_code == 400
    reason = re.search(r'id="c-return".*?</form>', page, re.S)
    assert reason and "Ghi rõ lý do." in reason.group(0)
    assert "Ghi rõ lý do." not in alert_box(page)


def test_a_refused_custody_form_names_the_field(make_browser, session, seal):
    browser = signed_in(make_browser, seal.keeper.username)
    refused = browser.post(
        f"/custody/tokens/{seal.token.id}/handover", handover_form(seal, witness_id=str(seal.other.person_id))
    )
    page = text(refused)
    assert refused.status_code == 400
    assert "Người chứng kiến không được là bên giao hoặc bên nhận." in field_block(page, "witness_id")
    assert "Người chứng kiến không được là bên giao hoặc bên nhận." not in alert_box(page)
    assert "Văn thư nghỉ thai sản" in field_block(page, "reason")
