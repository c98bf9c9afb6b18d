"""A unit's yearly book of the custody register ("sổ theo dõi riêng"), as PDF and CSV.

The book numbers its own entries 1, 2, 3…: the register is one chain for every unit, so a unit's entries
carry register numbers with gaps (a commune's first entry may be number 4), which the book shows beside
its own ("Mục sổ số"). Each row prints the entry's full hash (what the verify page accepts) and has a cell
where the receiver signs; the book closes with a certification of how many entries it holds, from which to
which, signed by the keeper of the book and the head. The token's serial and the keeper's name come from
the records each entry points to and, beside the login name an entry holds, the name of that account's
person.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from certsvc.accounts.actors import ActorNames
from certsvc.core.csvcells import neutralise
from certsvc.custody.book import happened_at, summary
from certsvc.custody.models import CustodyEvent
from certsvc.custody.paper import (
    CENTER,
    CENTER_BOLD,
    TITLE,
    Signer,
    build,
    dated,
    heading,
    para,
    signatures,
    style,
)
from certsvc.orgs.models import Organisation
from certsvc.orgs.names import place_name
from certsvc.timeutil import format_vietnam, to_vietnam
from token_agent.appearance import BOLD, ITALIC, MM

__all__ = ["book_csv", "book_pdf"]

_COLUMNS = (
    "STT",
    "Mục sổ số",
    "Ghi sổ lúc",
    "Thời điểm sự việc",
    "Thiết bị",
    "Sự việc",
    "Người giữ sau sự việc",
    "Nội dung",
    "Người ghi",
    "Mã băm (SHA-256)",
)
_SIGNATURE_COLUMN = "Người nhận ký, ghi rõ họ tên"
#: Widths (mm) of the PDF's columns, the signature's last: 245 mm, the landscape page between its margins.
_WIDTHS = (12, 14, 20, 20, 22, 20, 23, 38, 21, 31, 24)
_CELL = style("book", size=9.5)
_HEAD_CELL = style("book_head", BOLD, 9.5)
_HASH = style("book_hash", "Courier", 7.2)
_FRAME = 245 * MM
_DATE = style("book_date", ITALIC, 13, alignment=TA_CENTER)


def _keeper_names(events: Sequence[CustodyEvent]) -> dict[int, str]:
    return {e.keeper.id: e.keeper.full_name for e in events if e.keeper is not None}


def _rows(events: Sequence[CustodyEvent], actors: ActorNames | None) -> list[list[str]]:
    """One row per entry in :data:`_COLUMNS` order; who recorded it: the person's name, then the login name
    the entry holds (and its hash covers)."""
    keepers, names = _keeper_names(events), actors or ActorNames({})
    return [
        [
            str(number),
            str(event.seq),
            format_vietnam(event.occurred_at),
            format_vietnam(happened_at(event)),
            event.token.serial,
            event.kind.label,
            keepers.get(event.keeper_id, "") if event.keeper_id else "",
            summary(event),
            str(names.of(event)),
            event.hash,
        ]
        for number, event in enumerate(events, start=1)
    ]


def book_csv(events: Sequence[CustodyEvent], actors: ActorNames | None = None) -> str:
    """The book as CSV; ``actors`` names who recorded each entry (else its login name)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with the byte order mark
    writer = csv.writer(buffer)
    writer.writerow(_COLUMNS)
    writer.writerows([neutralise(cell) for cell in row] for row in _rows(events, actors))
    return buffer.getvalue()


def _table(rows: list[list[str]]) -> Table:
    data: list[list[Flowable | str]] = [[para(h, _HEAD_CELL) for h in (*_COLUMNS, _SIGNATURE_COLUMN)]]
    for row in rows:
        digest = row[-1]
        # The full hash in four groups of 16, as the verify page accepts it (spaces and breaks are ignored).
        quarters = "\n".join(digest[i : i + 16] for i in range(0, len(digest), 16))
        data.append([*(para(cell, _CELL) for cell in row[:-1]), para(quarters, _HASH), ""])
    table = Table(data, colWidths=[w * MM for w in _WIDTHS], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")),
                # room for a signature in every row
                ("BOTTOMPADDING", (0, 1), (-1, -1), 5 * MM),
            ]
        )
    )
    return table


def _closing(org: Organisation, events: Sequence[CustodyEvent], printed_at: datetime) -> list[Flowable]:
    """The certification that closes the book: how many entries, from which to which, and who signs it."""
    first, last = events[0], events[-1]
    text = (
        f"Sổ này có {len(events)} mục, đánh số từ 1 đến {len(events)} (các mục số {first.seq} đến "
        f"{last.seq} của sổ theo dõi chung), ghi từ ngày {to_vietnam(first.occurred_at):%d/%m/%Y} đến ngày "
        f"{to_vietnam(last.occurred_at):%d/%m/%Y}."
    )
    date_line = Table([["", para(dated(printed_at, place_name(org)), _DATE)]], colWidths=[_FRAME / 2] * 2)
    block = [date_line, signatures([Signer("NGƯỜI GIỮ SỔ"), Signer("THỦ TRƯỞNG ĐƠN VỊ")], _FRAME)]
    return [Spacer(1, 6 * MM), KeepTogether([para("XÁC NHẬN SỔ", CENTER_BOLD), para(text), *block])]


def book_pdf(
    org: Organisation, year: int, events: Sequence[CustodyEvent], printed_at: datetime, actors: ActorNames | None = None
) -> bytes:
    """The book as a landscape PDF; ``actors`` names who recorded each entry (else its login name)."""
    story: list[Flowable] = [
        *heading(org, width=_FRAME),
        para(f"SỔ THEO DÕI THIẾT BỊ LƯU KHÓA BÍ MẬT NĂM {year}", TITLE),
        para(f"In lúc {format_vietnam(printed_at)}", CENTER),
        Spacer(1, 4 * MM),
    ]
    if events:
        story += [_table(_rows(events, actors)), *_closing(org, events, printed_at)]
    else:
        story.append(para("Không có mục nào trong năm.", CENTER))
    return build(story, pagesize=landscape(A4), title=f"Sổ theo dõi {year}")
