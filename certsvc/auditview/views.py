"""The audit log pages: a filtered, paged list and a CSV export of the same selection.

Filters come from the query string, so that a filtered view can be bookmarked and
exported. Dates are Vietnam dates (the day as people there say it), turned into UTC
bounds for the query; the "to" date is inclusive. Whether the chain is intact is not
checked here (it re-hashes the whole log): ``certsvc audit verify`` does that.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, func, or_, select

from certsvc.accounts.models import Account
from certsvc.audit.models import AuditEntry
from certsvc.auditview.labels import (
    ACTION_LABELS,
    OBJECT_TYPE_LABELS,
    action_label,
    object_type_label,
    readable_details,
)
from certsvc.auditview.scope import visible_to
from certsvc.core.csvcells import neutralise
from certsvc.core.paging import Page, page_from, paginate
from certsvc.core.validation import FieldCollector, FieldError, clean_text
from certsvc.extensions import db
from certsvc.people.models import Person
from certsvc.people.service import name_matches
from certsvc.policy import Permission, ensure
from certsvc.timeutil import VIETNAM_TZ, format_vietnam, to_vietnam, utcnow
from certsvc.ui.navigation import NavLink

bp = Blueprint("audit", __name__, url_prefix="/audit")
NAV_LINKS = (NavLink("Nhật ký", "audit.list_entries", Permission.VIEW_AUDIT, "Nhật ký hệ thống"),)

FILTER_LABELS = {
    "date_from": "Từ ngày",
    "date_to": "Đến ngày",
    "actor": "Người thực hiện",
    "action": "Hành động",
    "object_type": "Loại đối tượng",
    "object_id": "Mã đối tượng",
}

_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)

CSV_HEADER = (
    "Số thứ tự",
    "Thời điểm (UTC, ISO 8601)",
    "Thời điểm (giờ Việt Nam)",
    "Người thực hiện",
    "Mã tài khoản",
    "Mã hành động",
    "Hành động",
    "Loại đối tượng",
    "Mã đối tượng",
    "Chi tiết",
    "Mã băm mục trước",
    "Mã băm",
)


def _clean_date(value: object) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    if match := _VN_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise FieldError(f"“{text[:40]}” không phải là ngày. Nhập theo dạng ngày/tháng/năm, ví dụ 21/11/2026.")
    if not 1900 <= year <= 9000:
        raise FieldError(f"Năm {year} nằm ngoài khoảng cho phép (1900–9000).")
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError(f"Ngày {text} không có trên lịch.") from None


def _text_cleaner(max_length: int) -> Callable[[object], str | None]:
    return lambda value: clean_text(str(value or ""), max_length=max_length)


def _vietnam_midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=VIETNAM_TZ).astimezone(UTC)


@dataclass(frozen=True)
class AuditFilters:
    date_from: date | None = None
    date_to: date | None = None
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> tuple[AuditFilters, dict[str, str]]:
        """The filters in ``args``, and a Vietnamese message per field that is not acceptable."""
        fields = FieldCollector(args)
        date_from = fields.take("date_from", _clean_date)
        date_to = fields.take("date_to", _clean_date)
        text = _text_cleaner(64)
        filters = cls(
            date_from=date_from,
            date_to=date_to,
            actor=fields.take("actor", _text_cleaner(120)),
            action=fields.take("action", text),
            object_type=fields.take("object_type", text),
            object_id=fields.take("object_id", text),
        )
        if date_from and date_to and date_from > date_to:
            fields.fail("date_to", "“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”.")
        return filters, fields.errors

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.date_from:
            where.append(AuditEntry.occurred_at >= _vietnam_midnight_utc(self.date_from))
        if self.date_to:
            where.append(AuditEntry.occurred_at < _vietnam_midnight_utc(self.date_to + timedelta(days=1)))
        if self.actor:
            where.append(
                or_(
                    func.lower(AuditEntry.actor_label).startswith(self.actor.lower(), autoescape=True),
                    AuditEntry.actor_id.in_(_accounts_named(self.actor)),
                )
            )
        if self.action and self.action.endswith("."):
            where.append(AuditEntry.action.startswith(self.action, autoescape=True))
        elif self.action:
            where.append(AuditEntry.action == self.action)
        if self.object_type:
            where.append(AuditEntry.object_type == self.object_type)
        if self.object_id:
            where.append(AuditEntry.object_id == self.object_id)
        return where

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments, for links to other pages and the export."""
        args = {}
        for name in FILTER_LABELS:
            value = getattr(self, name)
            if isinstance(value, date):
                value = value.strftime("%d/%m/%Y")
            if value:
                args[name] = value
        return args


def _accounts_named(text: str) -> list[int]:
    """The accounts whose holder's name contains ``text`` (without regard to case or diacritics)."""
    rows = db.session.execute(select(Account.id, Person.full_name).join(Person, Account.person_id == Person.id))
    return [account_id for account_id, name in rows if name_matches(text, name)]


def _select(filters: AuditFilters) -> Select:
    """The entries that match ``filters`` among those the signed-in viewer may read."""
    return select(AuditEntry).where(visible_to(db.session, current_user), *filters.conditions())


def _known_actions() -> list[str]:
    used = db.session.scalars(select(AuditEntry.action).distinct()).all()
    return sorted(set(ACTION_LABELS) | set(used))


def _render_list(status: int = 200, **context) -> tuple[str, int]:
    return (
        render_template(
            "audit/list.html",
            raw=request.args,
            labels={**FILTER_LABELS, "page": "Trang"},
            known_actions=_known_actions(),
            object_types=OBJECT_TYPE_LABELS,
            action_label=action_label,
            object_type_label=object_type_label,
            readable_details=readable_details,
            **context,
        ),
        status,
    )


def _invalid(errors: dict[str, str]) -> tuple[str, int]:
    return _render_list(400, errors=errors, entries=[], filters=None)


@bp.get("/")
@login_required
def list_entries():
    ensure(db.session, current_user, Permission.VIEW_AUDIT)
    filters, errors = AuditFilters.parse(request.args)
    number = page_from(request.args, errors)
    if errors:
        return _invalid(errors)
    page: Page[AuditEntry] = paginate(db.session, _select(filters).order_by(AuditEntry.seq.desc()), number)
    return _render_list(errors={}, entries=page.items, filters=filters, page=page)


def _csv_row(entry: AuditEntry) -> list[object]:
    occurred = entry.occurred_at.astimezone(UTC)
    return [
        neutralise(cell)
        for cell in (
            entry.seq,
            # The same text as the hash covers, so the chain can be re-checked from the file.
            occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            format_vietnam(occurred, with_seconds=True),
            entry.actor_label,
            entry.actor_id,
            entry.action,
            action_label(entry.action),
            entry.object_type,
            entry.object_id,
            entry.details,
            entry.prev_hash,
            entry.hash,
        )
    ]


def _csv_chunks(stmt: Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel reads the file as UTF-8 only with the byte order mark.
    writer.writerow(CSV_HEADER)
    for entry in db.session.scalars(stmt.execution_options(yield_per=1000)):
        writer.writerow(_csv_row(entry))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/export.csv")
@login_required
def export_csv():
    ensure(db.session, current_user, Permission.VIEW_AUDIT)
    filters, errors = AuditFilters.parse(request.args)
    if errors:
        return _invalid(errors)
    stmt = _select(filters).order_by(AuditEntry.seq)
    stamp = to_vietnam(utcnow()).strftime("%Y-%m-%d-%H%M")
    response = Response(stream_with_context(_csv_chunks(stmt)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="nhat-ky-he-thong-{stamp}.csv"'
    return response
