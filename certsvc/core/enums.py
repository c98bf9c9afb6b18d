"""String enums whose members carry the Vietnamese label users read."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Self

from sqlalchemy import Enum

__all__ = ["LabelledEnum", "enum_column"]


class LabelledEnum(enum.StrEnum):
    """Members are declared as ``NAME = "stored_value", "Nhãn tiếng Việt"``.

    The stored value is what the database and the API see; ``label`` is what pages show.
    """

    _value_: str
    label: str

    if TYPE_CHECKING:
        # What the type checker sees: ``Kind("stored_value")``, the lookup by value, and a ``value`` that is
        # that string (not the pair a member is declared with, which only the constructor below reads).
        def __new__(cls, value: str) -> Self: ...

    else:

        def __new__(cls, value: str, label: str):
            member = str.__new__(cls, value)
            member._value_ = value
            member.label = label
            return member


def enum_column(cls: type[enum.Enum]) -> Enum:
    """The column type of a string enum: its values stored as plain strings (no database enum type),
    so adding a member needs no ALTER TYPE on PostgreSQL."""
    return Enum(cls, native_enum=False, length=32, values_callable=lambda members: [m.value for m in members])
