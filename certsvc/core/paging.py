"""Paging of long lists in SQL: a count and one page (LIMIT/OFFSET), shared by the list pages.

A page number that is not a positive integer is refused (the page answers 400 with the message);
one past the last page is an empty page, and the template offers a link to the last one.

The pages count at most :data:`COUNT_LIMIT` rows: past that the exact number tells a reader nothing
("more than 1,000": narrow the filter) and counting every row of a long list is most of what its page
costs. Such a list still pages on, one page after another, without a last page until a page that is
not full shows where it ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Null, Select, func, literal_column, null, select
from sqlalchemy.orm import Session

from certsvc.core.sql import inlined
from certsvc.core.validation import FieldError

__all__ = [
    "COUNT_LIMIT",
    "PER_PAGE",
    "CountColumn",
    "Fetch",
    "Page",
    "count_rows",
    "page_from",
    "paginate",
    "parse_page",
]

T = TypeVar("T")
PER_PAGE = 50
#: The pages count this many rows at most; a longer list says "more than" that.
COUNT_LIMIT = 1_000
#: No list has a row past a BIGINT's range: a page beyond it is empty without asking the database.
_LAST_POSITION = 2**63 - 1
_BAD_PAGE = "Số trang phải là số nguyên dương, ví dụ 1, 2, 3."


def parse_page(raw: str | None) -> int:
    """The page number a query string asks for (1 when absent); FieldError when it is not one."""
    text = (raw or "1").strip()
    # A page past the last one is only empty, however large; a number too long to read is refused.
    if not (text.isascii() and text.isdigit()) or len(text) > 1000 or int(text) < 1:
        raise FieldError(_BAD_PAGE)
    return int(text)


def page_from(args: Mapping[str, str], errors: dict[str, str]) -> int:
    """The ``page`` argument of ``args``; on a bad value, records the message in ``errors`` and returns 1."""
    try:
        return parse_page(args.get("page"))
    except FieldError as error:
        errors["page"] = str(error)
        return 1


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, which page it is and how many rows the whole list has."""

    items: Sequence[T]
    number: int
    #: The rows of the whole list or, when ``more`` is set, how many were counted before stopping.
    total: int
    per_page: int = PER_PAGE
    #: The list has more rows than ``total``: it was not counted to its end.
    more: bool = False

    @property
    def pages(self) -> int:
        """The pages known to exist: all of them unless ``more``."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages or (self.more and len(self.items) == self.per_page)

    @property
    def past_the_end(self) -> bool:
        """Asked for a page after the last one of a list that has rows."""
        return self.total > 0 and self.number > self.pages and not self.items

    @property
    def first_index(self) -> int:
        """The 1-based position in the list of the page's first row."""
        return (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def _counted(query: Select, limit: int | None) -> Select[int]:
    """``SELECT count(*)`` of the rows ``query`` selects, at most ``limit`` + 1 of them when given."""
    # Only a constant per row: a limited subquery is read row by row, and whole rows would be copied.
    counted: Select = query.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True)
    if limit is not None:
        counted = counted.limit(inlined(limit + 1))
    return select(func.count()).select_from(counted.subquery())


def count_rows(session: Session, query: Select, limit: int | None = None) -> int:
    """How many rows ``query`` selects, counted by the database; at most ``limit`` + 1 when given."""
    return session.scalar(_counted(query, limit)) or 0


#: The count of a list selected along with each row of a page, or NULL when the page is not counted along.
CountColumn = ColumnElement[int] | Null

#: Reads a page: ``fetch(limit, offset, total)`` gives the page's rows, each with the value of the
#: column ``total`` selected along with it.
Fetch = Callable[[int, int, CountColumn], Sequence[tuple[T, int | None]]]


def paginate(
    session: Session,
    query: Select,
    number: int = 1,
    per_page: int = PER_PAGE,
    fetch: Fetch | None = None,
    count_limit: int | None = COUNT_LIMIT,
) -> Page[T]:
    """Page ``number`` of ``query`` (ordered by the caller), and how long the whole list is.

    ``fetch`` reads the rows when ``query`` itself is not the cheapest way to. The length is counted
    by the database, at most ``count_limit`` + 1 rows (None counts them all; past the limit the page
    says ``more``), in the same statement as a page that lies within the counted rows. A page beyond
    them tells the length by itself: one not full is the last, a full one says "more"; only a page
    that comes back empty is counted on its own, to tell "past the end" from an empty list.
    """
    offset = (number - 1) * per_page
    within = count_limit is None or offset + per_page <= count_limit
    total_column: CountColumn = _counted(query, count_limit).scalar_subquery() if within else null()
    rows: Sequence[tuple[T, int | None]] = []
    if offset + per_page <= _LAST_POSITION:
        rows = (fetch or _plain_fetch(session, query))(per_page, offset, total_column)
    items = [item for item, _ in rows]
    reached = offset + len(items)
    if rows and rows[0][1] is not None:
        counted = rows[0][1]
    elif (items and len(items) < per_page) or (not items and offset == 0):
        return Page(items=items, number=number, total=reached, per_page=per_page)
    elif items and count_limit is not None:  # a full page past the counted rows
        return Page(items=items, number=number, total=count_limit, per_page=per_page, more=True)
    else:
        counted = count_rows(session, query, count_limit)
    if count_limit is not None and counted > count_limit:
        return Page(items=items, number=number, total=count_limit, per_page=per_page, more=True)
    return Page(items=items, number=number, total=counted, per_page=per_page)


def _plain_fetch(session: Session, query: Select) -> Fetch:
    def fetch(limit: int, offset: int, total: CountColumn) -> list[tuple[object, int | None]]:
        return [
            (item, counted) for item, counted in session.execute(query.limit(limit).offset(offset).add_columns(total))
        ]

    return fetch
