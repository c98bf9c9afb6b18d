"""Whom the proposal letter goes to ("Kính gửi"): set on the focal office by its administrator, frozen into
a batch when it is locked, and how the letter's body addresses it ("Quý Cục", "Quý Sở", ...)."""

from __future__ import annotations

import subprocess
import unicodedata

import pytest
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.orgs.models import DEFAULT_RECIPIENT, Organisation
from certsvc.requests import batches
from certsvc.requests.letters import form_of_address, letter_data
from certsvc.requests.models import Batch, RequestStatus
from tests.support.orgs import edit_form
from tests.support.requests import bring_to, draft, focal, open_batch

SO = "Sở Khoa học và Công nghệ tỉnh Lạng Sơn"
BAN = "Ban Cơ yếu Chính phủ"


@pytest.mark.parametrize(
    "recipient, expected",
    [
        (DEFAULT_RECIPIENT, "Quý Cục"),
        ("Cục Bưu điện Trung ương", "Quý Cục"),
        (SO, "Quý Sở"),
        ("Sở Thông tin và Truyền thông", "Quý Sở"),
        (BAN, "Quý Ban"),
        ("  SỞ KHOA HỌC VÀ CÔNG NGHỆ", "Quý Sở"),
        (unicodedata.normalize("NFD", SO), "Quý Sở"),  # typed with combining marks
        ("UBND tỉnh Lạng Sơn", "Quý cơ quan"),
        ("Văn phòng UBND tỉnh", "Quý cơ quan"),
        ("Bưu điện tỉnh", "Quý cơ quan"),
        ("Cụm công nghiệp", "Quý cơ quan"),  # a word that only begins like "Cục"
        ("Sởi", "Quý cơ quan"),
        ("", "Quý cơ quan"),
    ],
)
def test_form_of_address_follows_the_recipient(recipient, expected):
    assert form_of_address(recipient) == expected


# --- through the pages ----------------------------------------------------------------------------------


@pytest.fixture
def admin(make_browser, world):
    browser = make_browser()
    browser.login("administrator")
    return browser


@pytest.fixture
def focal_page(make_browser, world):
    browser = make_browser()
    browser.login("focalofficer")
    return browser


def _set_recipient(admin, session, world, recipient: str | None):
    office = session.get(Organisation, world.orgs["focal"].id)
    return admin.post(f"/admin/orgs/{office.id}/edit", edit_form(office, letter_recipient=recipient or ""))


def _locked_batch(session, world, title: str) -> Batch:
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batch = open_batch(session, world, title)
    batches.add_requests(session, focal(world), batch, [request.id])
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


def _letter_text(page, batch: Batch, tmp_path) -> str:
    """The letter PDF as the batch page serves it, as text with whitespace runs made single spaces."""
    response = page.get(f"/requests/batches/{batch.id}/documents/letter.pdf")
    assert response.status_code == 200 and response.data[:4] == b"%PDF"
    path = tmp_path / f"letter-{batch.id}.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def _audit(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_recipient_set_on_the_focal_office_goes_into_the_letter(admin, focal_page, session, world, tmp_path):
    form = admin.get(f"/admin/orgs/{world.orgs['focal'].id}/edit").get_data(as_text=True)
    assert "Nơi nhận công văn đề nghị (Kính gửi)" in form and DEFAULT_RECIPIENT in form
    assert _set_recipient(admin, session, world, f"  {SO}  ").status_code == 302
    session.expire_all()
    assert session.get(Organisation, world.orgs["focal"].id).letter_recipient == SO
    [entry] = _audit(session, "org.updated")
    assert entry.object_id == str(world.orgs["focal"].id) and SO in entry.details
    page = admin.get(f"/admin/orgs/{world.orgs['focal'].id}").get_data(as_text=True)
    assert "Nơi nhận công văn đề nghị" in page and SO in page and "(mặc định)" not in page

    batch = _locked_batch(session, world, "Đợt gửi Sở")
    assert batch.letter_recipient == SO
    assert SO in _audit(session, "batch.locked")[-1].details
    text = _letter_text(focal_page, batch, tmp_path)
    assert f"Kính gửi: {SO}" in text
    assert "đề nghị Quý Sở xem xét" in text and "Trân trọng đề nghị Quý Sở quan tâm" in text
    assert "Quý Cục" not in text and "Cục Chứng thực số" not in text


def test_changing_the_recipient_after_locking_leaves_that_letter_alone(admin, focal_page, session, world, tmp_path):
    assert _set_recipient(admin, session, world, SO).status_code == 302
    earlier = _locked_batch(session, world, "Đợt 1")
    still_open = open_batch(session, world, "Đợt 2")
    assert _set_recipient(admin, session, world, BAN).status_code == 302

    text = _letter_text(focal_page, earlier, tmp_path)
    assert f"Kính gửi: {SO}" in text and "Quý Sở" in text and BAN not in text
    # The batch pages say the same: the locked one keeps Sở, the open one shows what it would take.
    assert SO in focal_page.get(f"/requests/batches/{earlier.id}").get_data(as_text=True)
    open_page = focal_page.get(f"/requests/batches/{still_open.id}").get_data(as_text=True)
    assert BAN in open_page and "giữ nguyên khi chốt đợt" in open_page
    # A batch still open when the setting changed takes the new one when it is locked.
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batches.add_requests(session, focal(world), still_open, [request.id])
    batches.lock_batch(session, focal(world), still_open)
    session.commit()
    later = _letter_text(focal_page, still_open, tmp_path)
    assert f"Kính gửi: {BAN}" in later and "đề nghị Quý Ban xem xét" in later and SO not in later

    # Back to the default: the locked batches keep theirs.
    assert _set_recipient(admin, session, world, None).status_code == 302
    session.expire_all()
    assert session.get(Organisation, world.orgs["focal"].id).letter_recipient is None
    assert [letter_data(session.get(Batch, b.id)).recipients for b in (earlier, still_open)] == [[SO], [BAN]]


@pytest.mark.parametrize(
    "value, message",
    [
        ("Sở Khoa học\x00 và Công nghệ", "Có ký tự điều khiển không hợp lệ."),
        ("Sở Khoa học\x07 và Công nghệ", "Có ký tự điều khiển không hợp lệ."),
        ("Sở " + "Khoa học " * 32, "Dài quá 255 ký tự."),
    ],
)
def test_bad_recipient_is_refused_and_nothing_changes(admin, session, world, value, message):
    assert _set_recipient(admin, session, world, SO).status_code == 302
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    response = _set_recipient(admin, session, world, value)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "Nơi nhận công văn đề nghị (Kính gửi)" in page
    session.expire_all()
    assert session.get(Organisation, world.orgs["focal"].id).letter_recipient == SO
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_without_a_setting_the_letter_goes_to_the_default(admin, focal_page, session, world, tmp_path):
    page = admin.get(f"/admin/orgs/{world.orgs['focal'].id}").get_data(as_text=True)
    assert f'{DEFAULT_RECIPIENT} <span class="muted">(mặc định)</span>' in page
    # Not a focal office and nothing set: the line is not shown at all.
    assert "Nơi nhận công văn đề nghị" not in admin.get(f"/admin/orgs/{world.orgs['commune'].id}").get_data(
        as_text=True
    )
    batch = _locked_batch(session, world, "Đợt mặc định")
    assert batch.letter_recipient == DEFAULT_RECIPIENT
    text = _letter_text(focal_page, batch, tmp_path)
    assert f"Kính gửi: {DEFAULT_RECIPIENT}" in text
    assert "đề nghị Quý Cục xem xét" in text and "Trân trọng đề nghị Quý Cục quan tâm" in text


def test_batch_locked_before_the_recipient_was_kept_follows_the_office(admin, session, world):
    batch = _locked_batch(session, world, "Đợt cũ")
    batch.letter_recipient = None  # as the migration leaves batches locked before it
    session.commit()
    assert letter_data(batch).recipients == [DEFAULT_RECIPIENT]
    assert _set_recipient(admin, session, world, SO).status_code == 302
    session.expire_all()
    letter = letter_data(session.get(Batch, batch.id))
    assert letter.recipients == [SO] and "Quý Sở" in letter.opening and "Quý Sở" in letter.closing
