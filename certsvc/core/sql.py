"""SQL expressions that the lists of hundreds of units need in a cheaper form than the ORM's default."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable

from sqlalchemy import BindParameter, ColumnElement, SQLColumnExpression, literal, literal_column
from sqlalchemy.types import TypeEngine

__all__ = ["one_of_ids", "inlined"]


def one_of_ids(column: SQLColumnExpression[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (1, 2, …)`` with the ids written into the statement.

    A focal office's scope is hundreds of organisation ids. Sent as hundreds of bound parameters
    they cost more than the query: the driver converts each one, and a prepared statement's
    generic plan rebuilds the list for every row it filters. Written into the statement (whole
    numbers only, so nothing can be injected) the list is a constant: PostgreSQL hashes it, and the
    statement of a given scope is compiled and prepared once, then reused.
    """
    return column.op("IN", is_comparison=True)(literal_column(_id_list(frozenset(map(int, ids)))))


@functools.lru_cache(maxsize=64)
def _id_list(ids: frozenset[int]) -> str:
    """``(1, 2, …)``: written once per scope, since pages of one office ask for the same scope again."""
    return f"({', '.join(map(str, sorted(ids))) or 'NULL'})"


def inlined(value: int | enum.Enum, type_: TypeEngine | None = None) -> BindParameter:
    """``value`` inlined: written into the statement's text when it runs, rather than sent as a parameter.

    For the values that decide a list's plan: its status, its slice (LIMIT, OFFSET). PostgreSQL plans a
    prepared statement with such parameters again on every run, since a plan kept for any OFFSET
    would be wrong for most; a statement without parameters is planned once when the driver prepares
    it (after a few runs of the same text). SQLAlchemy still compiles one statement per shape and
    writes the value in at execution. Only whole numbers and enum members: nothing that can carry SQL.
    """
    if isinstance(value, bool) or not isinstance(value, int | enum.Enum):
        raise TypeError(f"only integers and enum members are inlined into SQL, not {type(value).__name__}")
    return literal(value, type_, literal_execute=True)
