"""The URL converter for record ids: ``<int:...>`` in every route means a positive BIGINT.

Werkzeug's own ``int`` matches any number of digits, so a number past the database's integer
range reached the query and failed there (a 500). Here such a path matches no route: a 404,
whatever the method (a converter refusing a value after the path matched would give a 405).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

__all__ = ["IdConverter", "MAX_ROUTE_ID"]

#: The largest id a route accepts: PostgreSQL's BIGINT, SQLite's INTEGER.
MAX_ROUTE_ID = 2**63 - 1


def _one_to(limit: int) -> str:
    """A regular expression for the numbers 1..``limit`` in ASCII digits without leading zeros."""
    text = str(limit)
    alternatives = [f"[1-9][0-9]{{0,{len(text) - 2}}}", text]
    # As long as ``limit``: equal up to some digit, smaller there, anything after.
    for position, digit in enumerate(text):
        low = 1 if position == 0 else 0
        if int(digit) > low:
            alternatives.append(f"{text[:position]}[{low}-{int(digit) - 1}][0-9]{{{len(text) - position - 1}}}")
    return "(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """Ids from 1 to :data:`MAX_ROUTE_ID`; anything else (0, a larger number, a sign, "²") matches no route."""

    regex = _one_to(MAX_ROUTE_ID)
