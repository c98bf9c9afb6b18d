"""The registry's lists, paged in SQL: every matching line once, in order, with the same total on each page."""

from __future__ import annotations

from datetime import timedelta

from certsvc.registry import listing
from certsvc.registry.models import TokenKind
from certsvc.timeutil import utcnow
from tests.support.registry import add_certificate

NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Nguyễn Thị Cúc",
    "Lê Văn Dũng",
    "NGUYỄN VĂN ĐỨC",
    "Nguyễn Hữu Em",
    "Phạm Văn Giang",
]


def _certificates(session, world):
    commune = world.orgs["commune"]
    for days, name in enumerate(NAMES, 1):
        add_certificate(session, commune, kind=TokenKind.DEVICE, cn=name, ends=timedelta(days=100 + days))
    return {commune.id}


def test_pages_of_a_text_search_show_each_match_once_soonest_expiry_first(session, world):
    units = _certificates(session, world)
    now = utcnow()
    pages = [
        listing.find_certificates(session, units, now=now, warn_days=30, query="nguyen", page=number, per_page=2)
        for number in (1, 2)
    ]
    # "nguyen" without diacritics finds every Nguyễn, in capitals too
    assert [c.subject_cn for page in pages for c in page] == [
        "Nguyễn Văn An",
        "Nguyễn Thị Cúc",
        "NGUYỄN VĂN ĐỨC",
        "Nguyễn Hữu Em",
    ]
    assert [(page.number, page.pages, page.total) for page in pages] == [(1, 2, 4), (2, 2, 4)]
    unfiltered = listing.find_certificates(session, units, now=now, warn_days=30, per_page=5)
    assert (unfiltered.total, unfiltered.pages, len(unfiltered)) == (len(NAMES), 2, 5)


def test_a_page_past_the_end_shows_the_last_one(session, world):
    units = _certificates(session, world)
    last = listing.find_certificates(session, units, now=utcnow(), warn_days=30, page=99, per_page=3)
    assert (last.number, last.pages, last.total) == (3, 3, len(NAMES))
    assert [c.subject_cn for c in last] == [NAMES[-1]]
    tokens = listing.find_tokens(session, units, query="zzz", page=4)
    assert (tokens.number, tokens.total, list(tokens)) == (1, 0, [])
