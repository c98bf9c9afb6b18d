"""The two generic pieces of every lifecycle table: a step's comment, and the compare-and-set that moves a
record's status so that of simultaneous steps from one status exactly one wins, whatever the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from certsvc.core.validation import text_problem
from certsvc.errors import Conflict, ValidationFailed

__all__ = ["MAX_COMMENT", "clean_comment", "compare_and_set", "busy_as_conflict"]

#: A step's comment (why it was returned, cancelled, recalled): a paragraph, not a document.
MAX_COMMENT = 2000


def clean_comment(comment: str | None, required: bool) -> str | None:
    """``comment`` with its whitespace collapsed, None when empty; ValidationFailed({"comment": …}) when it
    holds control or hidden characters, is too long, or is required and empty."""
    if problem := text_problem(comment or ""):
        raise ValidationFailed({"comment": problem})
    text = " ".join((comment or "").split()) or None
    if required and text is None:
        raise ValidationFailed({"comment": "Ghi rõ lý do."})
    if text is not None and len(text) > MAX_COMMENT:
        raise ValidationFailed({"comment": f"Ý kiến dài quá {MAX_COMMENT} ký tự."})
    return text


def compare_and_set(
    session: Session,
    model: type[Any],
    record_id: int,
    column: str,
    source: object,
    target: object,
    *,
    busy_message: str = "Hồ sơ đang được người khác xử lý. Thử lại sau giây lát.",
) -> bool:
    """Move ``model``'s row ``record_id`` from ``column`` = ``source`` to ``target`` with one UPDATE; whether
    it moved (False: someone moved it first). ``busy_message`` is the Conflict ``busy`` when SQLite's lock
    could not be had in time.

    On PostgreSQL a concurrent UPDATE of the row waits for the first to commit, then finds the value
    changed; on SQLite the writers queue on the database lock. The in-memory record is not touched: the
    caller sets it (its flush writes the same value again, with the other columns).
    """
    field = getattr(model, column)
    with busy_as_conflict(busy_message):
        moved = cast(
            CursorResult,
            session.execute(
                update(model)
                .where(model.id == record_id, field == source)
                .values({column: target})
                .execution_options(synchronize_session=False)
            ),
        )
    return moved.rowcount == 1


@contextmanager
def busy_as_conflict(message: str) -> Iterator[None]:
    """Turn SQLite's "database is locked" (another writer kept the database longer than the busy timeout)
    into Conflict ``busy`` with ``message``: a refusal to try again, not a 500."""
    try:
        yield
    except OperationalError as error:
        if "database is locked" not in str(error.orig):
            raise
        raise Conflict(message, code="busy") from error
