"""The home page's work list: what the signed-in person has to do now, as each capability counts it.

The home page belongs to no capability and imports none. Each capability's views module may name
``WORK_ITEMS``: functions of the session and the signed-in account (:data:`WorkSource`), each giving the
:class:`WorkItem` lines of what that account has to do there, counted within what its roles reach. The app
collects them when it starts, as it collects ``NAV_LINKS``, and :func:`work_list` asks each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, case, func, literal
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from certsvc.accounts.models import Account

__all__ = ["WORK_SOURCES", "WorkItem", "WorkSection", "WorkSource", "count_of", "work_list"]

#: The key of ``app.extensions`` under which the app keeps every capability's :data:`WorkSource`.
WORK_SOURCES = "certsvc.work_sources"


@dataclass(frozen=True)
class WorkItem:
    """One line of the work list: how many records wait for the person, and the list that shows them."""

    #: The heading the line is shown under ("Đề nghị chứng thư số", "Văn bản đi", …).
    section: str
    #: What waits ("Dự thảo chờ phê duyệt", "Chờ ký duyệt").
    label: str
    count: int
    #: The list filtered to these records.
    url: str
    #: How many of them are pressing: marked urgent, past a deadline or close to one.
    urgent: int = 0
    #: What the pressing ones are ("khẩn", "quá hạn").
    urgent_label: str = "khẩn"


#: A capability's work: the lines of what ``account`` has to do there (lines counting nothing are dropped).
WorkSource = Callable[[Session, "Account"], Iterable[WorkItem]]


@dataclass(frozen=True)
class WorkSection:
    """The lines of one heading, pressing lines first."""

    title: str
    items: tuple[WorkItem, ...]

    @property
    def urgent(self) -> int:
        """How many pressing records the heading's lines count."""
        return sum(item.urgent for item in self.items)


def count_of(session: Session, query: Select, urgent: ColumnElement[bool] | None = None) -> tuple[int, int]:
    """How many rows ``query`` selects, and how many of them meet ``urgent``: one query."""
    pressing = func.count(case((urgent, 1))) if urgent is not None else literal(0)
    total, among = session.execute(query.order_by(None).with_only_columns(func.count(), pressing)).one()
    return int(total), int(among or 0)


def work_list(session: Session, account: Account, sources: Iterable[WorkSource]) -> tuple[WorkSection, ...]:
    """What ``account`` has to do, by heading: only lines that count something, only headings that have
    some; headings with pressing lines first, and in each heading the pressing lines first (otherwise in
    the order the capabilities give them)."""
    sections: dict[str, list[WorkItem]] = {}
    for source in sources:
        for item in source(session, account):
            if item.count > 0:
                sections.setdefault(item.section, []).append(item)
    built = [
        WorkSection(title, tuple(sorted(items, key=lambda item: item.urgent == 0))) for title, items in sections.items()
    ]
    return tuple(sorted(built, key=lambda section: section.urgent == 0))
