"""Parts of a page that a capability above the page's own adds to it.

A page may show what only a capability above its own knows (an organisation's page lists its people, the
people pages show each person's login account). The page's capability cannot import that one without an
import cycle, so it names a :class:`PageParts`, and the capability above adds a part to it when its views
module is loaded, as every views module is when the app starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PageParts"]

Part = Callable[..., Mapping[str, Any]]


class PageParts:
    """The parts added to one page: functions of what the page shows, each giving template values."""

    def __init__(self) -> None:
        self._parts: list[Part] = []

    def add(self, part: Part) -> Part:
        """Add ``part`` (usable as a decorator)."""
        self._parts.append(part)
        return part

    def values(self, *shown: Any) -> dict[str, Any]:
        """The template values of every part, for what the page shows."""
        merged: dict[str, Any] = {}
        for part in self._parts:
            merged.update(part(*shown))
        return merged
