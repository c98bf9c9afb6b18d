"""SQL expressions that the lists of hundreds of units need in a cheaper form than the ORM's default."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal_column

__all__ = ["one_of_ids"]


def one_of_ids(column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (1, 2, …)`` with the ids written into the statement.

    A focal office's scope is hundreds of organisation ids. Sent as hundreds of bound parameters
    they cost more than the query: the driver converts each one, and a prepared statement's
    generic plan rebuilds the list for every row it filters. Written into the statement (whole
    numbers only, so nothing can be injected) the list is a constant: PostgreSQL hashes it, and the
    statement of a given scope is compiled and prepared once, then reused.
    """
    values = sorted({int(value) for value in ids})
    return column.op("IN", is_comparison=True)(literal_column(f"({', '.join(map(str, values)) or 'NULL'})"))
