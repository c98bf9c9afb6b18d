"""String enums whose members carry the Vietnamese label users read."""

from __future__ import annotations

import enum

__all__ = ["LabelledEnum"]


class LabelledEnum(enum.StrEnum):
    """Members are declared as ``NAME = "stored_value", "Nhãn tiếng Việt"``.

    The stored value is what the database and the API see; ``label`` is what pages show.
    """

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member
