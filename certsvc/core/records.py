"""Finding a record by the id a form value or a URL part names."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from certsvc.errors import NotFound

__all__ = ["MAX_ID", "get_record", "to_id"]

#: Ids are 32-bit integers in the database; a larger number from a form or a URL names nothing.
MAX_ID = 2**31 - 1

T = TypeVar("T")


def to_id(value: object) -> int | None:
    """The record id that a form value or URL part names, or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def get_record(session: Session, model: type[T], record_id: object, missing: str) -> T:
    """The record ``record_id`` names, or NotFound with ``missing`` (also for ids that cannot be one)."""
    valid = to_id(record_id)
    found = session.get(model, valid) if valid is not None else None
    if found is None:
        raise NotFound(missing)
    return found
