"""The minutes of the custody register: a handover between keepers, the return of a token to the CA (Mẫu 08)
and the confirmation of a loss (Mẫu 09).

A minute is made from its register entry: its details are what was hashed, and only the heading reads the
unit the entry names (its names from the organisation tree, :mod:`certsvc.orgs.names`), so the paper says
exactly what the register holds. Each minute is dated once; the foot of every page carries the entry number,
its SHA-256 hash and a QR code of the verification link (the service's address, the entry number and the
hash), which an outside party opens without signing in to see the register's facts of that entry beside the
paper. The page frame is :mod:`certsvc.custody.paper`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, KeepTogether, Spacer, Table, TableStyle

from certsvc.custody.book import details_of, happened_at
from certsvc.custody.facts import DETAIL_LABELS, detail_text
from certsvc.custody.models import CustodyEvent, CustodyEventKind
from certsvc.custody.paper import (
    CELL,
    CELL_BOLD,
    CENTER,
    SMALL,
    TITLE,
    PageDrawing,
    Signer,
    build,
    heading,
    para,
    signatures,
)
from certsvc.orgs.names import formal_name
from certsvc.timeutil import format_vietnam, to_vietnam
from token_agent.appearance import MM, REGULAR

__all__ = ["MINUTE_KINDS", "minutes_pdf", "minutes_filename", "minute_date"]

#: Entries that have minutes, and the title and form code of each.
MINUTE_KINDS = {
    CustodyEventKind.HANDED_OVER: ("BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT", None),
    CustodyEventKind.RETURNED: ("BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT", "Mẫu 08"),
    CustodyEventKind.LOST: ("BIÊN BẢN XÁC NHẬN MẤT THIẾT BỊ LƯU KHÓA BÍ MẬT", "Mẫu 09"),
}
_QR_SIZE = 26 * MM


def minute_date(event: CustodyEvent) -> datetime:
    """The one date of the minute: when the handover or return took place; for a loss, when it was reported
    (the minute confirms the report; when the loss was found is one of its facts)."""
    return event.occurred_at if event.kind is CustodyEventKind.LOST else happened_at(event)


def _value(d: dict, key: str) -> str:
    return detail_text(key, d[key]) if d.get(key) not in (None, "") else "—"


def _facts(d: dict, keys: Sequence[str], labels: dict[str, str] | None = None) -> Table:
    """The entry's facts under ``keys`` as a two-column table (a key the entry lacks prints "—")."""
    names = {**DETAIL_LABELS, **(labels or {})}
    rows = [[para(names[key], CELL_BOLD), para(_value(d, key), CELL)] for key in keys]
    table = Table(rows, colWidths=[55 * MM, 105 * MM])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


_TOKEN_KEYS = ("unit", "serial", "model", "certificate_serial", "certificate_subject", "certificate_valid_to")


def _closing(signers: Sequence[Signer], words: str, *more: Flowable) -> KeepTogether:
    """The closing words and the signature blocks, kept on one page: a page of signatures alone could be put
    under another text."""
    return KeepTogether([Spacer(1, 3 * MM), para(words), *more, Spacer(1, 4 * MM), signatures(signers)])


def _opening(moment: datetime, place: object) -> str:
    """The first line of a minute: the time of the minute's own date (the heading's), and the place."""
    local = to_vietnam(moment)
    where = f", tại {place}" if place else ""
    return f"Hôm nay, vào hồi {local:%H} giờ {local:%M} phút{where}, chúng tôi gồm:"


def _person(d: dict, role: str) -> str:
    position = d.get(f"{role}_position")
    return f"Ông/Bà {d.get(f'{role}_name')}" + (f" — Chức vụ: {position}" if position else "")


def _permission(d: dict) -> str:
    if d.get("decision_number"):
        return (
            f"Căn cứ: Văn bản cho phép số {d['decision_number']} ngày {_value(d, 'decision_date')} "
            "của người có thẩm quyền."
        )
    return f"Căn cứ: Thủ trưởng đơn vị {d.get('approved_by')} phê duyệt trên hệ thống lúc {_value(d, 'approved_at')}."


def _handover_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    story: list[Flowable] = [
        para(_opening(minute_date(event), d.get("place"))),
        para("1. Bên giao: " + _person(d, "giver")),
        para("2. Bên nhận: " + _person(d, "receiver")),
    ]
    if d.get("witness_name"):
        story.append(para("3. Người chứng kiến: " + _person(d, "witness")))
    confirmed = [
        f"{label} lúc {_value(d, key)}"
        for label, key in (
            ("bên giao", "giver_confirmed_at"),
            ("bên nhận", "receiver_confirmed_at"),
            ("người chứng kiến", "witness_confirmed_at"),
        )
        if d.get(key)
    ]
    signers = [Signer("BÊN GIAO", d.get("giver_name")), Signer("BÊN NHẬN", d.get("receiver_name"))]
    if d.get("witness_name"):
        signers.append(Signer("NGƯỜI CHỨNG KIẾN", d.get("witness_name")))
    return [
        *story,
        para(_permission(d)),
        para(f"Lý do bàn giao: {d.get('reason')}"),
        para(
            "Bên giao bàn giao cho bên nhận thiết bị lưu khóa bí mật của cơ quan, tổ chức (quản lý như bí mật "
            "nhà nước độ «MẬT») như sau:"
        ),
        _facts(d, (*_TOKEN_KEYS, "condition", "accessories", "seal_numbers")),
        _closing(
            signers,
            "Hai bên đã kiểm tra, đối chiếu; bên nhận đã nhận đủ và từ thời điểm bàn giao chịu trách nhiệm "
            "quản lý, sử dụng thiết bị như đối với con dấu của đơn vị. Việc bàn giao đã được ghi vào sổ "
            f"theo dõi riêng. Biên bản lập thành {len(signers):02d} bản, mỗi người ký dưới đây giữ 01 bản.",
            para("Xác nhận trên hệ thống: " + "; ".join(confirmed) + ".", SMALL),
        ),
    ]


def _revocation(d: dict) -> str | None:
    """The revocation the return follows, as Mẫu 08 names it (None when the certificate was not revoked)."""
    if not d.get("revoked_at"):
        return None
    text = (
        f"Căn cứ: Chứng thư số {d.get('certificate_serial')} trên thiết bị đã bị thu hồi ngày "
        f"{_value(d, 'revoked_at')}, lý do: {_value(d, 'revocation_reason')}"
    )
    if d.get("revocation_request"):
        text += f"; theo đề nghị thu hồi số {d['revocation_request']}"
    if d.get("revocation_letter"):
        text += f", công văn đề nghị số {d['revocation_letter']}"
    if d.get("return_due_on"):
        text += f". Thiết bị phải nộp lại trước ngày {_value(d, 'return_due_on')}"
    return text + "."


def _return_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    revocation = _revocation(d)
    return [
        para(_opening(minute_date(event), d.get("place"))),
        para(
            f"1. Bên giao: {formal_name(event.organisation)}; người đang quản lý thiết bị: "
            f"Ông/Bà {_value(d, 'previous_keeper_name')}."
        ),
        para(f"2. Bên nhận: {d.get('ca_name')}; đại diện: Ông/Bà {d.get('ca_representative')}."),
        *([para(revocation)] if revocation else []),
        para(f"Lý do nộp lại: {d.get('reason')}"),
        para("Bên giao nộp lại cho bên nhận thiết bị lưu khóa bí mật như sau:"),
        _facts(d, (*_TOKEN_KEYS, "condition", "seal_numbers", "note")),
        _closing(
            [
                Signer("ĐẠI DIỆN BÊN GIAO", d.get("previous_keeper_name")),
                Signer("ĐẠI DIỆN BÊN NHẬN", d.get("ca_representative")),
            ],
            "Bên nhận đã nhận lại thiết bị lưu khóa bí mật nêu trên. Biên bản lập thành 02 bản, mỗi bên giữ 01 bản.",
        ),
    ]


def _loss_signers(d: dict) -> list[Signer]:
    """Whoever reported, the keeper and the head; someone who is two of them signs once."""
    signers = [Signer("NGƯỜI QUẢN LÝ THIẾT BỊ", d.get("previous_keeper_name"))] if d.get("previous_keeper_name") else []
    if d.get("reporter_name") not in (d.get("previous_keeper_name"), d.get("head_name")):
        signers.insert(0, Signer("NGƯỜI BÁO MẤT", d.get("reporter_name")))
    return [*signers, Signer("THỦ TRƯỞNG ĐƠN VỊ", d.get("head_name"), d.get("head_position"))]


def _loss_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    local = to_vietnam(minute_date(event))
    return [
        para(
            f"Hôm nay, vào hồi {local:%H} giờ {local:%M} phút, {formal_name(event.organisation)} lập biên bản "
            "xác nhận việc mất thiết bị lưu khóa bí mật như sau:"
        ),
        _facts(
            d,
            (
                *_TOKEN_KEYS,
                *("happened_at", "place", "previous_keeper_name", "reporter_name", "circumstances"),
                *(key for key in ("condition", "seal_numbers", "note") if d.get(key)),
            ),
            {"happened_at": "Thời điểm phát hiện mất", "place": "Nơi mất"},
        ),
        _closing(
            _loss_signers(d),
            "Thiết bị đã được chuyển sang trạng thái «Bị mất» trên hệ thống ngay khi báo. Đơn vị đề nghị "
            "thu hồi chứng thư số trên thiết bị (Mẫu 05) và gửi cơ quan đầu mối tổng hợp.",
        ),
    ]


_BODIES: dict[CustodyEventKind, Callable[[CustodyEvent, dict], list[Flowable]]] = {
    CustodyEventKind.HANDED_OVER: _handover_body,
    CustodyEventKind.RETURNED: _return_body,
    CustodyEventKind.LOST: _loss_body,
}


def _qr(text: str) -> Drawing:
    widget = QrCodeWidget(text)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(_QR_SIZE, _QR_SIZE, transform=[_QR_SIZE / (right - left), 0, 0, _QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def _evidence(event: CustodyEvent, check_url: str) -> PageDrawing:
    """The foot of every page: the QR code of the verification link, the entry's number, hash and the link
    written out, so that each sheet names the entry it belongs to."""
    qr = _qr(check_url)
    half = len(check_url) // 2
    lines = [
        (
            REGULAR,
            f"Biên bản của mục số {event.seq} trong sổ theo dõi thiết bị lưu khóa bí mật, ghi sổ lúc "
            f"{format_vietnam(event.occurred_at, with_seconds=True)}.",
        ),
        (REGULAR, "Mã băm của mục sổ (SHA-256):"),
        ("Courier", event.hash[:32]),
        ("Courier", event.hash[32:]),
        (REGULAR, "Đối chiếu, không cần tài khoản: quét mã QR hoặc mở liên kết (mọi dòng phải giống hệt biên bản):"),
        ("Courier", check_url[:half]),
        ("Courier", check_url[half:]),
    ]

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        x, top = doc.leftMargin, 12 * MM + _QR_SIZE
        canvas.saveState()
        canvas.setLineWidth(0.5)
        canvas.line(x, top + 2 * MM, doc.pagesize[0] - doc.rightMargin, top + 2 * MM)
        renderPDF.draw(qr, canvas, x, top - _QR_SIZE)
        y = top - 7
        for font, text in lines:
            canvas.setFont(font, 8)
            canvas.drawString(x + _QR_SIZE + 3 * MM, y, text)
            y -= 9.4
        canvas.restoreState()

    return draw


def minutes_pdf(event: CustodyEvent, check_url: str) -> bytes:
    """The minute of an entry (handover, return to the CA or loss), its QR holding ``check_url``, the link that
    verifies it. Other kinds have none: KeyError."""
    title, form_code = MINUTE_KINDS[event.kind]
    org = event.organisation
    story = [
        *heading(org, symbol=f"BB-{org.symbol}", moment=minute_date(event), form_code=form_code),
        para(title, TITLE),
        para(f"Số đăng ký trong sổ theo dõi: {event.seq}", CENTER),
        Spacer(1, 5 * MM),
        *_BODIES[event.kind](event, details_of(event)),
    ]
    return build(story, title=title, footer=_evidence(event, check_url), footer_height=_QR_SIZE + 4 * MM)


def minutes_filename(event: CustodyEvent) -> str:
    return f"bien-ban-so-theo-doi-{event.seq}.pdf"
