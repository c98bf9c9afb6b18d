"""Turning the agent's frozen result dataclasses into JSON documents.

Fields with ``repr=False`` are left out; a dataclass may name properties to add in ``json_properties``.
Dates become ISO 8601 strings, enums their values, bytes hex; every document carries a ``schema`` key
(the documented, versioned name of its shape) as its first member.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from typing import Any

__all__ = ["to_jsonable", "dump_json"]


def to_jsonable(value: Any) -> Any:
    """A structure of dicts, lists, strings, numbers, booleans and None that ``json`` can write."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value) if f.repr]
        names += getattr(value, "json_properties", ())
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def dump_json(schema: str, value: Any) -> str:
    """The JSON text of a report: ``{"schema": schema, ...fields of value}``."""
    return json.dumps({"schema": schema, **to_jsonable(value)}, ensure_ascii=False, indent=2)
