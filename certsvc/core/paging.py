"""Paging of long lists in SQL: a count and one page (LIMIT/OFFSET), shared by the list pages.

A page number that is not a positive integer is refused (the page answers 400 with the message);
one past the last page is an empty page, and the template offers a link to the last one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from certsvc.core.validation import FieldError

__all__ = ["PER_PAGE", "Page", "count_rows", "page_from", "paginate", "parse_page"]

T = TypeVar("T")
PER_PAGE = 50
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
    total: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def past_the_end(self) -> bool:
        """Asked for a page after the last one of a list that has rows."""
        return self.total > 0 and self.number > self.pages

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


def count_rows(session: Session, query: Select) -> int:
    """How many rows ``query`` selects, counted by the database."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def paginate(
    session: Session, query: Select, number: int = 1, per_page: int = PER_PAGE,
    fetch: Callable[[int, int], Sequence[T]] | None = None,
) -> Page[T]:
    """Page ``number`` of ``query`` (ordered by the caller): a COUNT, then the page's rows, if any.

    ``fetch(limit, offset)`` reads the rows when ``query`` itself is not the cheapest way to.
    """
    total = count_rows(session, query)
    items: Sequence[T] = []
    if total and number <= max(1, math.ceil(total / per_page)):
        offset = (number - 1) * per_page
        items = fetch(per_page, offset) if fetch else session.scalars(query.limit(per_page).offset(offset)).all()
    return Page(items=items, number=number, total=total, per_page=per_page)
