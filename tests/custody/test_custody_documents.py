"""The printed documents: minutes with the MẬT marking, every field, the entry hash and its QR; the yearly book.
Mẫu 08 and Mẫu 09, the heading and the QR link are in test_custody_papers."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

import pytest

from certsvc.custody import book, handovers
from certsvc.custody.minutes import minutes_pdf
from certsvc.custody.yearbook import book_csv, book_pdf
from certsvc.timeutil import utcnow
from tests.support.custody import SETTINGS, handover_form

#: Set to a folder to keep the PDFs for looking at them (pdftoppm -r 70 -png).
KEEP = os.environ.get("CERTSVC_KEEP_PDF")
LINK = "http://x.test/custody/check"


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    if KEEP:
        Path(KEEP, name).write_bytes(pdf)
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _handed_over(session, seal):
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    handovers.confirm_handover(session, seal.keeper, handover)
    handovers.confirm_handover(session, seal.witness_account, handover)
    event = handovers.confirm_handover(session, seal.other, handover)
    session.commit()
    return event


def test_handover_minutes_carry_every_field_the_marking_and_the_hash(session, seal, tmp_path):
    event = _handed_over(session, seal)
    text = _text(minutes_pdf(event, LINK), tmp_path, "handover.pdf")
    squeezed = " ".join(text.split())
    for expected in (
        "MẬT",
        "BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Hoàng Thị Thu",
        "Nông Văn Đức",
        "Triệu Thị Hương",
        "15/QĐ-UBND",
        "20/11/2026",
        "Trụ sở UBND xã Tân Đoàn",
        "SafeNet eToken 5110",
        "540101A1B2C3",
        "5401010a3f",
        "Hộp đựng, phong bì mã PIN",
        "NP-0002",
        "Văn thư nghỉ thai sản",
        "BÊN GIAO",
        "BÊN NHẬN",
        "NGƯỜI CHỨNG KIẾN",
        f"Số đăng ký trong sổ theo dõi: {event.seq}",
        event.hash[:32],
        event.hash[32:],
        "08 giờ 30 phút",
        "ngày 21 tháng 11 năm 2026",
    ):
        assert expected in squeezed, expected


def test_other_entries_have_no_minutes(seal):
    with pytest.raises(KeyError):
        minutes_pdf(seal.received, LINK)


def test_yearly_book_as_pdf_and_csv(session, seal, tmp_path):
    event = _handed_over(session, seal)
    events = book.book_events(session, seal.token.organisation_id, utcnow().year)
    assert [e.seq for e in events] == [seal.received.seq, event.seq]
    text = " ".join(
        _text(book_pdf(seal.token.organisation, utcnow().year, events, utcnow()), tmp_path, "book.pdf").split()
    )
    assert "SỔ THEO DÕI THIẾT BỊ LƯU KHÓA BÍ MẬT" in text and "MẬT" in text and "Hoàng Thị Thu" in text
    rows = list(csv.reader(io.StringIO(book_csv(events).lstrip("\ufeff"))))
    assert rows[0][0] == "STT" and rows[2][5] == "Bàn giao" and rows[2][-1] == event.hash
    assert "Hoàng Thị Thu giao cho Nông Văn Đức" in rows[2][7]
