"""Links to a record's page from every row of a long list, for the price of one ``url_for``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

__all__ = ["links_by_id"]

#: An id no other part of a URL holds: its place in one built URL is where every id goes.
_SAMPLE_ID = 9_876_543_210_123


def links_by_id(endpoint: str, argument: str) -> Callable[[int], str]:
    """A function that gives ``url_for(endpoint, **{argument: id})`` for any whole-number id.

    A page of fifty requests built fifty links, each through Flask's routing: a tenth of the page's
    time. An integer route argument is written as its digits, so one URL built for a sample id,
    split where the id stands, serves them all (the mount point of the app included).
    """
    sample: dict[str, Any] = {argument: _SAMPLE_ID}  # url_for's route values, which Flask types as Any
    head, found, tail = url_for(endpoint, **sample).partition(str(_SAMPLE_ID))
    if not found:
        raise ValueError(f"{endpoint} does not write {argument} into its URL")
    return lambda value: f"{head}{int(value)}{tail}"
