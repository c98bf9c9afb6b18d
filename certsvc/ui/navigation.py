"""Navigation entries: each capability's views module declares its own ``NAV_LINKS``."""

from __future__ import annotations

from dataclasses import dataclass

from certsvc.policy import Permission

__all__ = ["NavLink"]


@dataclass(frozen=True)
class NavLink:
    """A menu entry shown to accounts that hold ``permission`` somewhere.

    ``label`` is the short menu text, ``description`` the longer text of the home page tile.
    """

    label: str
    endpoint: str
    permission: Permission
    description: str
