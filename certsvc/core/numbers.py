"""Numbers as Vietnamese readers write them."""

from __future__ import annotations

__all__ = ["format_count"]


def format_count(count: int) -> str:
    """``10000`` → ``10.000``: Vietnamese thousands separator."""
    return f"{count:,}".replace(",", ".")
