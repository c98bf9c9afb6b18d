"""The filtered, paged lists of the certificate and token registries (pages and API).

Paged in SQL with :func:`certsvc.core.paging.paginate`. The text filter is matched in Python
(:func:`~certsvc.people.service.name_matches`: "nguyen" finds "Nguyễn", which SQL's lower() cannot
do), on the few columns it reads only; the page then loads the whole records of its own rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from certsvc.core.paging import PER_PAGE, Page, paginate
from certsvc.core.sql import one_of_ids
from certsvc.people.models import Person
from certsvc.people.service import name_matches
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.registry.service import CertificateStatus, in_register, status_clause

__all__ = ["find_certificates", "find_tokens"]

#: The record a list shows (a certificate or a token).
Listed = TypeVar("Listed")


def _serial_form(text: str) -> str:
    """A serial as people type it (``2E:F1:6F``, ``2e f1 6f``) in the form the registry stores: no colons or
    spaces, lower case."""
    return re.sub(r"[\s:]", "", text).lower()


def _matching(session: Session, statement: Select[Listed], query: str, holder_id, serial, *columns) -> Select[Listed]:
    """``statement`` narrowed to the rows whose ``serial`` contains ``query`` typed in any serial format, or
    whose ``columns`` (after the id; the holder's too, as :class:`Person`) contain ``query``."""
    if not query.strip():
        return statement
    compact = _serial_form(query)
    rows = session.execute(
        statement.outerjoin(Person, holder_id == Person.id)
        .with_only_columns(columns[0], serial, *columns[1:])
        .order_by(None)
    )
    ids = [
        row_id
        for row_id, serial_value, *values in rows
        if (compact and compact in _serial_form(serial_value))
        or any(value and name_matches(query, value) for value in values)
    ]
    return statement.where(one_of_ids(columns[0], ids))


def _page(session: Session, statement: Select[Listed], page: int, per_page: int) -> Page[Listed]:
    """Page ``page`` of ``statement``, counted to its end; a page past the end shows the last one."""
    result: Page[Listed] = paginate(session, statement, page, per_page, count_limit=None)
    if result.number > result.pages:  # an empty list has one page, empty
        result = paginate(session, statement, result.pages, per_page, count_limit=None)
    return result


def find_certificates(
    session: Session,
    org_ids: Collection[int],
    *,
    now: datetime,
    warn_days: int,
    status: CertificateStatus | None = None,
    query: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Certificate]:
    """Certificates of ``org_ids`` in ``status`` (see :func:`~certsvc.registry.service.certificate_status`
    for ``warn_days``), whose holder name, CN, serial or UID contains ``query``; soonest expiry first."""
    statement = (
        select(Certificate)
        .where(Certificate.organisation_id.in_(set(org_ids)), in_register())
        .order_by(Certificate.not_after, Certificate.id)
    )
    if status is not None:
        statement = statement.where(status_clause(status, now, warn_days=warn_days))
    statement = _matching(
        session,
        statement,
        query,
        Certificate.holder_id,
        Certificate.serial_hex,
        Certificate.id,
        Person.full_name,
        Certificate.subject_cn,
        Certificate.subject_uid,
    )
    return _page(
        session,
        statement.options(
            selectinload(Certificate.holder),
            selectinload(Certificate.organisation),
            selectinload(Certificate.token),
            selectinload(Certificate.successor),
        ),
        page,
        per_page,
    )


def find_tokens(
    session: Session,
    org_ids: Collection[int],
    *,
    state: TokenState | None = None,
    kind: TokenKind | None = None,
    query: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Token]:
    """Tokens of ``org_ids`` in ``state`` and of ``kind``, whose serial, model or holder contains ``query``."""
    statement = select(Token).where(Token.organisation_id.in_(set(org_ids))).order_by(Token.serial)
    if state is not None:
        statement = statement.where(Token.state == state)
    if kind is not None:
        statement = statement.where(Token.kind == kind)
    statement = _matching(
        session, statement, query, Token.holder_id, Token.serial, Token.id, Token.model, Person.full_name
    )
    return _page(
        session,
        statement.options(selectinload(Token.holder), selectinload(Token.organisation), selectinload(Token.replaces)),
        page,
        per_page,
    )
