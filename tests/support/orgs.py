"""Helpers of the organisation pages' tests, used by the people and letter tests too (no tests here)."""

from __future__ import annotations

from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.orgs.models import Organisation
from tests.conftest import add_account


def counts(session, model=Organisation) -> tuple[int, int]:
    """Rows of ``model`` and audit entries: what a refused change must leave as it was."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(model)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def new_entries(session, since: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > since).order_by(AuditEntry.seq)))


def last_seq(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def edit_form(org: Organisation, **changes) -> dict:
    """The edit form as the page fills it for ``org``, with ``changes``."""
    data = {
        "name": org.name,
        "symbol": org.symbol,
        "agency_code": org.agency_code or "",
        "kind": org.kind.value,
        "parent_id": "" if org.parent_id is None else str(org.parent_id),
        "focal_office_id": "" if org.focal_office_id is None else str(org.focal_office_id),
        "address": org.address or "",
        "email": org.email or "",
        "tax_code": org.tax_code or "",
        "letter_recipient": org.letter_recipient or "",
    }
    if org.is_active:
        data["is_active"] = "y"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def administrator_of(make_browser, session, org: Organisation, username: str):
    """A browser signed in as a new administrator of ``org`` (and what lies below it)."""
    add_account(session, username, org, (Role.ADMINISTRATOR, org))
    session.commit()
    browser = make_browser()
    browser.login(username)
    return browser


def saved_record(session, response, model=Organisation):
    """The record a successful form post leads to (its page is where the post redirects)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    return session.get(model, int(response.headers["Location"].rsplit("/", 1)[1]))
