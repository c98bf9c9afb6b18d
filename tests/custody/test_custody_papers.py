"""The custody papers as a reader sees them (issue 15, items 22–24): the minutes' Nghị định 30 heading, number,
marking, date line and signing room (read as word positions with ``pdftotext -bbox``); Mẫu 08 naming the
revocation it follows and Mẫu 09 dated once with the head's name; the yearly book numbering its own entries
with full hashes, a signature column and its closing certification; the QR code's verification link, decoded
with zbarimg and followed without signing in."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.audit.service import SYSTEM
from certsvc.core.workdays import WorkCalendar
from certsvc.custody import book, entries, handovers, service
from certsvc.custody.facts import printed_facts
from certsvc.custody.minutes import minutes_pdf
from certsvc.custody.models import CustodyEvent
from certsvc.custody.yearbook import book_csv, book_pdf
from certsvc.registry.models import Token, TokenKind, TokenState
from certsvc.registry.service import revoke_certificate
from certsvc.timeutil import utcnow
from tests.conftest import Browser, add_account
from tests.support.custody import SETTINGS, handover_form

#: Set to a folder to keep the PDFs for looking at them (pdftoppm -r 60 -png).
KEEP = os.environ.get("CERTSVC_KEEP_PDF")
MM = 72 / 25.4
LINK = "http://paper.test/custody/check"


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int


def _read(pdf: bytes, tmp_path: Path, name: str) -> tuple[str, list[Word]]:
    """The text (words joined by single spaces) and the words with their pages and boxes (points, from the top)."""
    path = tmp_path / name
    path.write_bytes(pdf)
    if KEEP:
        Path(KEEP, name).write_bytes(pdf)
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True).stdout
    words = [
        Word(html.unescape(word), float(x0), float(y0), float(x1), float(y1), page)
        for page, content in enumerate(boxes.split("<page ")[1:], start=1)
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', content
        )
    ]
    return " ".join(text.split()), words


def _word(words: list[Word], text: str, nth: int = 0) -> Word:
    return [w for w in words if w.text == text][nth]


def _handed_over(session, seal) -> CustodyEvent:
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    for party in (seal.keeper, seal.witness_account, seal.other):
        event = handovers.confirm_handover(session, party, handover)
    session.commit()
    return event


def _returned(session, seal) -> CustodyEvent:
    """The token back to the CA after its certificate's revocation, as Mẫu 08 records it."""
    revoke_certificate(
        session,
        SYSTEM,
        service.certificate_of(session, seal.token),
        revoked_at=datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
        reason="Mất thiết bị: để quên trên xe khách",
        calendar=WorkCalendar(),
    )
    event = entries.record_event(
        session,
        seal.head,
        seal.token,
        {
            "kind": "returned",
            "ca_name": "Cục Chứng thực số và Bảo mật thông tin",
            "ca_representative": "Phạm Văn An",
            "reason": "Chứng thư số đã thu hồi",
            "place": "Bưu điện tỉnh Lạng Sơn",
            "seal_numbers": "NP-0009",
            "event_date": "2026-11-06",
            "event_time": "10:15",
        },
    )
    session.commit()
    return event


def _lost(session, seal) -> CustodyEvent:
    event = entries.report_loss(
        session,
        seal.keeper,
        seal.token,
        {
            "circumstances": "Để quên trên xe khách",
            "place": "Bến xe Văn Quan",
            "event_date": "2026-01-20",
            "event_time": "07:40",
            "head_id": str(seal.head.person_id),
        },
    ).event
    session.commit()
    return event


# -- item 22: the minutes -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [_handed_over, _returned, _lost], ids=["handover", "mau08", "mau09"])
def test_minute_heading_is_nghi_dinh_30s(session, seal, tmp_path, make):
    event = make(session, seal)
    text, words = _read(minutes_pdf(event, f"{LINK}/{event.seq}/{event.hash}"), tmp_path, f"{make.__name__}.pdf")
    # The commune is named in full on two lines, with no superior line and no abbreviation.
    body, motto, number = _word(words, "ỦY"), _word(words, "CỘNG"), _word(words, "Số:")
    left = [w.text for w in words if w.page == 1 and w.x1 < motto.x0 and w.bottom < number.top and w.text != "Mẫu"]
    assert " ".join(left) == "ỦY BAN NHÂN DÂN XÃ TÂN ĐOÀN"
    assert abs(body.top - motto.top) < 2, "the motto is level with the body's name"
    # "Số:      /BB-UBND" with its blank, "MẬT" under it; the place in the date line, on the right.
    symbol, mark = _word(words, "/BB-UBND"), _word(words, "MẬT")
    assert symbol.x0 - number.x1 > 8 * MM and abs(symbol.top - number.top) < 1
    assert mark.top > number.bottom and number.x0 - 10 * MM < mark.x0 < symbol.x1
    place = _word(words, "Tân", 0 if _word(words, "Tân").top > number.top - 20 else 1)
    assert place.x0 > motto.x0 - 5 and re.search(r"Tân Đoàn, ngày \d\d tháng \d\d? năm 2026", text)


def test_signature_blocks_leave_room_to_sign(session, seal, tmp_path):
    event = _handed_over(session, seal)
    _, words = _read(minutes_pdf(event, LINK), tmp_path, "room.pdf")
    giver_title = _word(words, "GIAO", -1)  # the block's, after the title's "BÀN GIAO"
    name = _word(words, "Thu", -1)
    assert name.page == giver_title.page and abs(name.x0 - giver_title.x0) < 30 * MM
    assert name.top - giver_title.bottom > 25 * MM


def test_mau_08_names_the_revocation_it_follows(session, seal, tmp_path):
    event = _returned(session, seal)
    text, words = _read(minutes_pdf(event, LINK), tmp_path, "mau08.pdf")
    assert "Mẫu 08" in text and _word(words, "Mẫu").top < _word(words, "CỘNG").top
    assert "đã bị thu hồi ngày 02/11/2026, lý do: Mất thiết bị: để quên trên xe khách" in text
    assert "phải nộp lại trước ngày" in text and "Ủy ban nhân dân xã Tân Đoàn" in text


def test_mau_09_has_one_date_and_the_heads_name_under_his_title(session, seal, tmp_path):
    event = _lost(session, seal)
    text, words = _read(minutes_pdf(event, LINK), tmp_path, "mau09.pdf")
    assert len(re.findall(r"ngày \d\d tháng \d\d? năm \d{4}", text)) == 1, text
    head_title = _word(words, "THỦ")
    head_name = _word(words, "Hải")
    assert (
        head_name.page == head_title.page
        and head_name.top - head_title.bottom > 25 * MM
        and abs(head_name.x0 - head_title.x0) < 40 * MM
    )
    assert "Lành Văn Hải" in text and "20/01/2026 07:40" in text


@pytest.mark.parametrize("make", [_handed_over, _returned, _lost], ids=["handover", "mau08", "mau09"])
def test_minute_prints_every_fact_the_outside_check_shows(session, seal, tmp_path, make):
    event = make(session, seal)
    text, _ = _read(minutes_pdf(event, LINK), tmp_path, "facts.pdf")
    for fact in printed_facts(event):
        if fact.label == "Thời điểm sự việc" and "giờ" in text:
            _day, clock = fact.value.split()
            hours, minutes = clock.split(":")
            assert f"{hours} giờ {minutes} phút" in text or fact.value in text, fact
        else:
            assert " ".join(fact.value.split()) in text, fact


def test_loss_form_offers_the_heads_and_refuses_anyone_else(make_browser, session, seal):
    keeper = _signed_in(make_browser, seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/lost"
    form = keeper.get(url).get_data(as_text=True)
    choices = form[form.index('name="head_id"') : form.index("</select>", form.index('name="head_id"'))]
    assert seal.head.person.full_name in choices and seal.other.person.full_name not in choices
    response = keeper.post(url, {"circumstances": "Mất khi đi công tác", "head_id": str(seal.other.person_id)})
    assert response.status_code == 400 and "Chọn thủ trưởng đơn vị trong danh sách." in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CustodyEvent)) == 1


# -- item 23: the yearly book ----------------------------------------------------------------------------


def _other_unit_entry(session, world) -> CustodyEvent:
    """An entry of another commune: the register's numbers of the first commune's entries then have a gap."""
    other = world.orgs["other_commune"]
    clerk = add_account(session, "vanthuyenphuc", other, (Role.CLERK, other), full_name="Vi Thị Mai")
    token = Token(serial="540102FFEE01", kind=TokenKind.ORGANISATION, organisation=other, state=TokenState.IN_STOCK)
    session.add(token)
    session.flush()
    event = entries.receive(session, clerk, token, {"keeper_id": str(clerk.person_id), "condition": "Nguyên vẹn"})
    session.commit()
    return event


def test_yearly_book_numbers_its_own_entries_and_closes_with_a_certification(session, world, seal, tmp_path):
    between = _other_unit_entry(session, world)
    event = _handed_over(session, seal)
    assert seal.received.seq < between.seq < event.seq
    events = book.book_events(session, seal.token.organisation_id, event.occurred_at.year)
    assert [e.seq for e in events] == [seal.received.seq, event.seq]
    text, words = _read(
        book_pdf(seal.token.organisation, event.occurred_at.year, events, utcnow()), tmp_path, "book.pdf"
    )
    stt = [w for w in words if w.x1 < (30 + 9) * MM and w.text.isdigit()]
    assert [w.text for w in stt][:2] == ["1", "2"], "the book's own numbers, first column"
    register = [w for w in words if w.text == str(event.seq) and w.x0 > stt[0].x1]
    assert register and abs(register[0].top - stt[1].top) < 1, "the register's number beside the book's"
    printed = {w.text for w in words}
    for entry in events:  # the full hash, in four groups of 16
        assert {entry.hash[i : i + 16] for i in range(0, 64, 16)} <= printed
    signature_column = [w for w in words if w.page == 1 and w.x0 > (30 + 245 - 24) * MM and w.top < stt[0].top]
    assert " ".join(w.text for w in signature_column) == "Người nhận ký, ghi rõ họ tên"
    assert (
        f"Sổ này có 2 mục, đánh số từ 1 đến 2 (các mục số {seal.received.seq} đến {event.seq} của sổ theo dõi chung)"
        in text
    )
    assert "NGƯỜI GIỮ SỔ" in text and "THỦ TRƯỞNG ĐƠN VỊ" in text
    rows = book_csv(events).lstrip("\ufeff").splitlines()
    assert rows[0].startswith("STT,Mục sổ số") and rows[2].startswith(f"2,{event.seq},")
    assert rows[2].endswith(event.hash)


# -- item 24: the QR's link and the verify pages ---------------------------------------------------------


def _qr_link(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "2", str(path), str(tmp_path / "qr")], check=True)
    for image in sorted(tmp_path.glob("qr*.png")):
        found = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout.strip()
    raise AssertionError("no QR code found")


def _audits(session) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "custody.minutes_viewed")
    )


def _signed_in(make_browser, username) -> Browser:
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def test_qr_holds_the_verification_link_which_an_outsider_follows(make_browser, session, seal, tmp_path):
    assert shutil.which("zbarimg"), "reading the QR needs zbarimg: run scripts/setup.sh (Debian zbar-tools)"
    event = _handed_over(session, seal)
    pdf = _signed_in(make_browser, seal.head.username).get(f"/custody/entries/{event.seq}/minutes.pdf").data
    link = _qr_link(pdf, tmp_path)
    assert link == f"http://localhost/custody/check/{event.seq}/{event.hash}"
    page = make_browser().get(link.removeprefix("http://localhost")).get_data(as_text=True)
    assert f"Khớp với mục số {event.seq}" in page


def test_outsider_sees_what_the_paper_prints_and_nothing_for_a_wrong_hash(make_browser, session, seal, tmp_path):
    event = _handed_over(session, seal)
    pdf = _signed_in(make_browser, seal.head.username).get(f"/custody/entries/{event.seq}/minutes.pdf").data
    text, _ = _read(pdf, tmp_path, "linked.pdf")
    link = f"http://localhost/custody/check/{event.seq}/{event.hash}"
    assert link[: len(link) // 2] in text and link[len(link) // 2 :] in text, "the link written out under the QR"
    outsider = make_browser()  # not signed in: the CA checking the paper
    audited = _audits(session)
    response = outsider.get(link.removeprefix("http://localhost"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"Khớp với mục số {event.seq}" in page
    for shown in ("Trụ sở UBND xã Tân Đoàn", "Hộp đựng, phong bì mã PIN", "NP-0002", "Văn thư nghỉ thai sản"):
        assert shown in page, shown
    assert "Công chức Tư pháp - Hộ tịch" in page  # the witness's position
    assert "Ghi sổ lúc" not in page and event.prev_hash not in page, "nothing the paper does not print"
    wrong = event.hash[:-1] + ("0" if event.hash[-1] != "0" else "1")
    for url in (
        f"/custody/check/{event.seq}/{wrong}",
        f"/custody/check/{event.seq + 1}/{event.hash}",
        f"/custody/check/{seal.received.seq}/{seal.received.hash}",
        f"/custody/check/{event.seq}/xyz",
    ):
        response = outsider.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and "Không khớp" in page and "NP-0002" not in page, url
        assert "Tân Đoàn" not in page, url
    assert _audits(session) == audited, "following the link without an account writes nothing"


def test_signed_in_viewer_sees_every_hashed_fact(make_browser, session, seal):
    event = _handed_over(session, seal)
    head = _signed_in(make_browser, seal.head.username)
    audited = _audits(session)
    for url in (
        f"/custody/verify?hash={event.hash}",
        f"/custody/check/{event.seq}/{event.hash}",
        f"/custody/entries/{event.seq}",
    ):
        page = head.get(url).get_data(as_text=True)
        for shown in (
            "NP-0002",
            "Hộp đựng, phong bì mã PIN",
            "Trụ sở UBND xã Tân Đoàn",
            "Văn thư nghỉ thai sản",
            "Công chức Tư pháp - Hộ tịch",
            "Ghi sổ lúc",
            event.prev_hash,
            "15/QĐ-UBND",
            "20/11/2026",
        ):
            assert shown in page, (url, shown)
    assert _audits(session) == audited + 2, "a signed-in reader of the link (and of the entry) is in the audit log"


def test_the_link_starts_with_the_public_address_when_one_is_set(make_app, session, seal, tmp_path):
    """A server reached inside the office at another address than the CA uses: CERTSVC_PUBLIC_URL is printed."""
    event = _handed_over(session, seal)
    app = make_app(CERTSVC_PUBLIC_URL="https://kyso.langson.gov.vn")
    head = Browser(app.test_client())
    assert head.login(seal.head.username).status_code == 302
    text, _ = _read(head.get(f"/custody/entries/{event.seq}/minutes.pdf").data, tmp_path, "public.pdf")
    link = f"https://kyso.langson.gov.vn/custody/check/{event.seq}/{event.hash}"
    assert link[: len(link) // 2] in text and link[len(link) // 2 :] in text
    assert "http://localhost" not in text
