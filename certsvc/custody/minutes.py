"""Printed documents of the custody register: minutes (handover, Mẫu 08 return, Mẫu 09 loss) and the yearly book.

A minute is made from its register entry (its details are what was hashed; only the heading
reads the name of the unit the entry names), so the paper says exactly what the register holds.
The yearly book adds the token's serial and the keeper's name from the records each entry points
to and, beside the login name an entry holds, the name of that account's person. Each minute
carries the entry number, its SHA-256 hash and a QR code of the hash, which the verify page
accepts. Text is set in Liberation Serif (Times New Roman metrics, full Vietnamese), as
token_agent does. The minutes and the book share their page frame and styles, hence one module a little
over the usual 400 lines.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from certsvc.accounts.actors import ActorNames
from certsvc.core.csvcells import neutralise
from certsvc.custody.book import details_of, happened_at, summary
from certsvc.custody.models import CustodyEvent, CustodyEventKind
from certsvc.orgs.models import Organisation
from certsvc.timeutil import format_vietnam, to_vietnam
from token_agent.appearance import BOLD, ITALIC, MM, REGULAR, register_fonts

__all__ = ["MINUTE_KINDS", "minutes_pdf", "minutes_filename", "book_pdf", "book_csv"]

#: Entries that have minutes, and the title of each.
MINUTE_KINDS = {
    CustodyEventKind.HANDED_OVER: ("BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT", None),
    CustodyEventKind.RETURNED: ("BIÊN BẢN BÀN GIAO THIẾT BỊ LƯU KHÓA BÍ MẬT", "Mẫu 08"),
    CustodyEventKind.LOST: ("BIÊN BẢN XÁC NHẬN MẤT THIẾT BỊ LƯU KHÓA BÍ MẬT", "Mẫu 09"),
}
_RED = colors.HexColor("#b3261e")


def _style(name: str, font: str = REGULAR, size: float = 12, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.22, **extra)


_BODY = _style("body", alignment=TA_JUSTIFY, spaceAfter=2)
_CENTER = _style("center", alignment=TA_CENTER)
_CENTER_BOLD = _style("center_bold", BOLD, alignment=TA_CENTER)
_TITLE = _style("title", BOLD, 14, alignment=TA_CENTER, spaceBefore=10)
_SMALL = _style("small", size=9.5)
_CELL = _style("cell", size=10.5)
_CELL_BOLD = _style("cell_bold", BOLD, size=10.5)


@functools.cache
def _fonts() -> None:
    register_fonts()
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


def _p(text: object, style: ParagraphStyle = _BODY) -> Paragraph:
    _fonts()
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _dated(moment: datetime, place: str | None = None) -> str:
    """``Văn Quan, ngày 05 tháng 01 năm 2026``: day below 10 and months 1 and 2 with a leading zero."""
    local = to_vietnam(moment)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    text = f"ngày {local.day:02d} tháng {month} năm {local.year}"
    return f"{place}, {text}" if place else text.capitalize()


def _marking(canvas, doc) -> None:
    """The secrecy marking "MẬT" on every page, top left, as a red framed stamp."""
    canvas.saveState()
    width, height = doc.pagesize
    x, y = doc.leftMargin, height - 14 * MM
    canvas.setStrokeColor(_RED)
    canvas.setFillColor(_RED)
    canvas.setLineWidth(1.4)
    canvas.rect(x, y - 2.5 * MM, 20 * MM, 8 * MM)
    canvas.setFont(BOLD, 14)
    canvas.drawCentredString(x + 10 * MM, y, "MẬT")
    canvas.setFillColor(colors.black)
    canvas.setFont(REGULAR, 9)
    canvas.drawRightString(width - doc.rightMargin, 10 * MM, f"Trang {doc.page}")
    canvas.restoreState()


def _header(org: Organisation, moment: datetime, form_code: str | None) -> Table:
    parent = org.parent.name.upper() if org.parent else ""
    left = [_p(parent, _CENTER), _p(org.name.upper(), _CENTER_BOLD), _p("―――――", _CENTER)]
    right = [
        _p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _style("nation", BOLD, 11.5, alignment=TA_CENTER)),
        _p("Độc lập - Tự do - Hạnh phúc", _CENTER_BOLD),
        _p("―――――――――――", _CENTER),
        _p(_dated(moment), _style("date", ITALIC, alignment=TA_CENTER)),
    ]
    if form_code:
        right.insert(0, _p(form_code, _style("form", ITALIC, 10, alignment=TA_CENTER)))
    table = Table([[left, right]], colWidths=[62 * MM, 98 * MM])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 5 * MM)]))
    return table


def _facts(rows: Sequence[tuple[str, object]]) -> Table:
    data = [[_p(label, _CELL_BOLD), _p(value if value not in (None, "") else "—", _CELL)] for label, value in rows]
    table = Table(data, colWidths=[55 * MM, 105 * MM])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _token_rows(d: dict) -> list[tuple[str, object]]:
    return [
        ("Số hiệu thiết bị (serial)", d.get("serial")),
        ("Chủng loại", d.get("model")),
        (
            "Chứng thư số trên thiết bị",
            d.get("certificate_serial")
            and f"{d['certificate_serial']} — {d.get('certificate_subject')} "
            f"(hiệu lực đến {d.get('certificate_valid_to')})",
        ),
    ]


def _signatures(titles: Sequence[tuple[str, str | None]]) -> Table:
    """Signature blocks side by side: titles, the hint, room to sign, the names, each on its own row."""
    hint = _style("hint", ITALIC, 11, alignment=TA_CENTER)
    rows: list[list[Paragraph | str]] = [
        [_p(title, _CENTER_BOLD) for title, _ in titles],
        [_p("(Ký, ghi rõ họ tên)", hint) for _ in titles],
        ["" for _ in titles],
        [_p(name or "", _CENTER_BOLD) for _, name in titles],
    ]
    width = 160 * MM / len(titles)
    return Table(
        rows,
        colWidths=[width] * len(titles),
        rowHeights=[None, None, 13 * MM, None],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
    )


def _evidence(event: CustodyEvent) -> Table:
    widget = QrCodeWidget(event.hash)
    left, bottom, right, top = widget.getBounds()
    size = 22 * MM
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    text = [
        _p(
            f"Mục số {event.seq} trong sổ theo dõi thiết bị lưu khóa bí mật, ghi lúc "
            f"{format_vietnam(event.occurred_at, with_seconds=True)} (giờ Việt Nam).",
            _SMALL,
        ),
        _p("Mã băm của mục sổ (SHA-256):", _SMALL),
        _p(f"{event.hash[:32]}\n{event.hash[32:]}", _style("hash", "Courier", 10)),
        _p(
            "Đối chiếu: nhập mã băm hoặc quét mã QR tại trang «Đối chiếu biên bản» của hệ thống. "
            "Sổ bị sửa sau khi in sẽ không còn khớp với biên bản này.",
            _SMALL,
        ),
    ]
    table = Table([[drawing, text]], colWidths=[26 * MM, 134 * MM])
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return table


def _person(name: object, position: object) -> str:
    return f"Ông/Bà {name}" + (f" — Chức vụ: {position}" if position else "")


def _handover_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    when = to_vietnam(happened_at(event))
    story: list[Flowable] = [
        _p(
            f"Hôm nay, vào hồi {when:%H} giờ {when:%M} phút, {_dated(when).lower()}, tại {d.get('place')}, "
            "chúng tôi gồm:"
        )
    ]
    story.append(_p("1. Bên giao: " + _person(d.get("giver_name"), d.get("giver_position"))))
    story.append(_p("2. Bên nhận: " + _person(d.get("receiver_name"), d.get("receiver_position"))))
    if d.get("witness_name"):
        story.append(_p("3. Người chứng kiến: " + _person(d.get("witness_name"), d.get("witness_position"))))
    if d.get("decision_number"):
        decision_day = datetime.fromisoformat(d["decision_date"]).strftime("%d/%m/%Y") if d.get("decision_date") else ""
        permission = f"Văn bản cho phép số {d['decision_number']} ngày {decision_day} của người có thẩm quyền."
    else:
        approved = datetime.fromisoformat(d["approved_at"]) if d.get("approved_at") else None
        permission = (
            f"Thủ trưởng đơn vị {d.get('approved_by')} phê duyệt trên hệ thống lúc "
            f"{format_vietnam(approved) if approved else ''}."
        )
    story += [
        _p(f"Căn cứ: {permission}"),
        _p(f"Lý do bàn giao: {d.get('reason')}"),
        _p(
            "Bên giao bàn giao cho bên nhận thiết bị lưu khóa bí mật của cơ quan, tổ chức (quản lý như bí mật "
            "nhà nước độ «MẬT») như sau:"
        ),
        _facts(
            [
                *_token_rows(d),
                ("Tình trạng", d.get("condition")),
                ("Phụ kiện kèm theo", d.get("accessories")),
                ("Số niêm phong", d.get("seal_numbers")),
            ]
        ),
        Spacer(1, 3 * MM),
        _p(
            "Hai bên đã kiểm tra, đối chiếu; bên nhận đã nhận đủ và từ thời điểm bàn giao chịu trách nhiệm "
            "quản lý, sử dụng thiết bị như đối với con dấu của đơn vị. Việc bàn giao đã được ghi vào sổ theo "
            "dõi riêng. Biên bản lập thành 03 bản, bên giao, bên nhận và người chứng kiến mỗi bên giữ 01 bản."
        ),
    ]
    confirmed = [
        f"{side} lúc {format_vietnam(datetime.fromisoformat(d[key]))}"
        for side, key in (
            ("bên giao", "giver_confirmed_at"),
            ("bên nhận", "receiver_confirmed_at"),
            ("người chứng kiến", "witness_confirmed_at"),
        )
        if d.get(key)
    ]
    story.append(_p("Xác nhận trên hệ thống: " + "; ".join(confirmed) + ".", _SMALL))
    signers = [("BÊN GIAO", d.get("giver_name")), ("BÊN NHẬN", d.get("receiver_name"))]
    if d.get("witness_name"):
        signers.append(("NGƯỜI CHỨNG KIẾN", d.get("witness_name")))
    return [*story, Spacer(1, 4 * MM), KeepTogether(_signatures(signers))]


def _return_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    when = to_vietnam(happened_at(event))
    return [
        _p(f"Hôm nay, {_dated(when).lower()}" + (f", tại {d['place']}" if d.get("place") else "") + ", chúng tôi gồm:"),
        _p(f"1. Bên giao: {d.get('unit')}, người đang quản lý thiết bị: {d.get('previous_keeper_name') or '—'}."),
        _p(f"2. Bên nhận: {d.get('ca_name')}, đại diện: Ông/Bà {d.get('ca_representative')}."),
        _p(f"Lý do nộp lại: {d.get('reason')}"),
        _facts(
            [
                *_token_rows(d),
                ("Tình trạng", d.get("condition")),
                ("Số niêm phong", d.get("seal_numbers")),
                ("Ghi chú", d.get("note")),
            ]
        ),
        Spacer(1, 3 * MM),
        _p("Bên nhận đã nhận lại thiết bị lưu khóa bí mật nêu trên. Biên bản lập thành 02 bản, mỗi bên giữ 01 bản."),
        Spacer(1, 4 * MM),
        KeepTogether(
            _signatures(
                [
                    ("ĐẠI DIỆN BÊN GIAO", d.get("previous_keeper_name")),
                    ("ĐẠI DIỆN BÊN NHẬN", d.get("ca_representative")),
                ]
            )
        ),
    ]


def _loss_body(event: CustodyEvent, d: dict) -> list[Flowable]:
    when = to_vietnam(happened_at(event))
    return [
        _p(
            f"Hôm nay, {_dated(event.occurred_at).lower()}, {d.get('unit')} lập biên bản xác nhận việc mất thiết bị "
            "lưu khóa bí mật như sau:"
        ),
        _facts(
            [
                *_token_rows(d),
                ("Thời điểm phát hiện mất", format_vietnam(when)),
                ("Nơi mất", d.get("place")),
                ("Người đang quản lý", d.get("previous_keeper_name")),
                ("Người báo mất", d.get("reporter_name")),
                ("Hoàn cảnh", d.get("circumstances")),
            ]
        ),
        Spacer(1, 3 * MM),
        _p(
            "Thiết bị đã được chuyển sang trạng thái «Bị mất» trên hệ thống ngay khi báo. Đơn vị đề nghị thu hồi "
            "chứng thư số trên thiết bị (Mẫu 05) và gửi cơ quan đầu mối tổng hợp."
        ),
        Spacer(1, 4 * MM),
        KeepTogether(
            _signatures(
                [
                    ("NGƯỜI BÁO MẤT", d.get("reporter_name")),
                    ("NGƯỜI QUẢN LÝ THIẾT BỊ", d.get("previous_keeper_name")),
                    ("THỦ TRƯỞNG ĐƠN VỊ", None),
                ]
            )
        ),
    ]


_BODIES = {
    CustodyEventKind.HANDED_OVER: _handover_body,
    CustodyEventKind.RETURNED: _return_body,
    CustodyEventKind.LOST: _loss_body,
}


def _build(story: list[Flowable], pagesize=A4, title: str = "") -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=30 * MM,
        rightMargin=20 * MM,
        topMargin=15 * MM,
        bottomMargin=15 * MM,
        title=title,
        author="certsvc",
    )
    doc.build(story, onFirstPage=_marking, onLaterPages=_marking)
    return buffer.getvalue()


def minutes_pdf(event: CustodyEvent) -> bytes:
    """The minute of an entry (handover, return to the CA or loss). Other kinds have none: KeyError."""
    title, form_code = MINUTE_KINDS[event.kind]
    d = details_of(event)
    story = [
        _header(event.organisation, happened_at(event), form_code),
        _p(title, _TITLE),
        _p(f"Số đăng ký trong sổ theo dõi: {event.seq}", _CENTER),
        Spacer(1, 5 * MM),
        *_BODIES[event.kind](event, d),
        Spacer(1, 3 * MM),
        KeepTogether(_evidence(event)),
    ]
    return _build(story, title=title)


def minutes_filename(event: CustodyEvent) -> str:
    return f"bien-ban-so-theo-doi-{event.seq}.pdf"


def _book_row(event: CustodyEvent, keepers: dict[int, str], actors: ActorNames) -> list[str]:
    # Who recorded it: the person's name, then the login name the entry holds (and its hash covers).
    return [
        str(event.seq),
        format_vietnam(event.occurred_at),
        format_vietnam(happened_at(event)),
        event.token.serial,
        event.kind.label,
        keepers.get(event.keeper_id, "") if event.keeper_id else "",
        summary(event),
        str(actors.of(event)),
        event.hash,
    ]


_BOOK_HEADER = [
    "Số",
    "Ghi sổ lúc",
    "Thời điểm sự việc",
    "Thiết bị",
    "Sự việc",
    "Người giữ sau sự việc",
    "Nội dung",
    "Người ghi",
    "Mã băm (SHA-256)",
]


def _keeper_names(events: Sequence[CustodyEvent]) -> dict[int, str]:
    return {e.keeper.id: e.keeper.full_name for e in events if e.keeper is not None}


def book_csv(events: Sequence[CustodyEvent], actors: ActorNames | None = None) -> str:
    """The book as CSV; ``actors`` names who recorded each entry (else its login name)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with the byte order mark
    writer = csv.writer(buffer)
    writer.writerow(_BOOK_HEADER)
    keepers = _keeper_names(events)
    for event in events:
        writer.writerow([neutralise(cell) for cell in _book_row(event, keepers, actors or ActorNames({}))])
    return buffer.getvalue()


def book_pdf(
    org: Organisation, year: int, events: Sequence[CustodyEvent], printed_at: datetime, actors: ActorNames | None = None
) -> bytes:
    """The book as a landscape PDF; ``actors`` names who recorded each entry (else its login name)."""
    keepers = _keeper_names(events)
    rows = [[_p(h, _CELL_BOLD) for h in _BOOK_HEADER[:-1]] + [_p("Mã băm", _CELL_BOLD)]]
    for event in events:
        cells = _book_row(event, keepers, actors or ActorNames({}))
        cells[-1] = f"{cells[-1][:16]}…"
        rows.append([_p(c, _style("book", size=9.5)) for c in cells])
    widths = [m * MM for m in (10, 22, 22, 26, 28, 30, 56, 28, 25)]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")),
            ]
        )
    )
    story = [
        Spacer(1, 8 * MM),
        _p(org.name.upper(), _CENTER_BOLD),
        _p(f"SỔ THEO DÕI THIẾT BỊ LƯU KHÓA BÍ MẬT NĂM {year}", _TITLE),
        _p(f"In lúc {format_vietnam(printed_at)} — {len(events)} mục", _CENTER),
        Spacer(1, 4 * MM),
        table if events else _p("Không có mục nào trong năm.", _CENTER),
    ]
    return _build(story, pagesize=landscape(A4), title=f"Sổ theo dõi {year}")
